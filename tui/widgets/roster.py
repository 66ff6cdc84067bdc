"""The delegation roster: each side's people with their mentions today and over the last day.

Choosing a person (enter, or a click on the selected row) narrows the headline pane to the
items that mention them; choosing them again, or Esc, clears that.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable

from feeds.profile import Person, Profile
from tui.data import HOURS, Mentions
from tui.format import sparkline, talk_zone
from tui.widgets.columns import FixedColumnsTable, fit, set_widths

LEADER_MARK = "★"
CHOSEN_MARK = "▶"
# One line per person from this width on (name and role side by side); two lines below it.
WIDE = 76
COLUMNS = ("who", "role", "today", "last", "day")
LABELS = {"who": "", "role": "role", "today": "today", "last": "last", "day": "mentions/hour, 24h"}
MIN_WHO = 10


class RosterPanel(FixedColumnsTable):
    """People by side (leaders marked ★): mentions today, the latest, a 24-hour sparkline."""

    class PersonChosen(Message):
        """The user chose a person to narrow the headlines to (``None``: stop narrowing)."""

        def __init__(self, person_id: str | None) -> None:
            super().__init__()
            self.person_id = person_id

    def __init__(self, profile: Profile, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.profile = profile
        self.zone = talk_zone(profile)
        self.chosen: str | None = None
        self.mentions: Mapping[str, Mentions] = {}
        self.now: datetime | None = None
        self._wide: bool | None = None

    def on_mount(self) -> None:
        for key in COLUMNS:
            self.add_column(fit(Text(f" {LABELS[key]}")), key=key, width=1)
        self._rebuild()

    def on_resize(self, event: events.Resize) -> None:
        self._rebuild()

    # -- data --------------------------------------------------------------------------------

    def show(self, mentions: Mapping[str, Mentions], now: datetime) -> None:
        """Show each person's mentions as of ``now``."""
        self.mentions, self.now = mentions, now
        for person in self.profile.people:
            key = f"person:{person.id}"
            for column, cell in zip(COLUMNS[2:], self._counts(person), strict=True):
                self.update_cell(key, column, cell)

    def choose(self, person_id: str | None) -> None:
        """Mark ``person_id`` as the one the headlines are narrowed to."""
        previous, self.chosen = self.chosen, person_id
        for pid in {previous, person_id} - {None}:
            person = next((p for p in self.profile.people if p.id == pid), None)
            if person is not None:
                self.update_cell(f"person:{person.id}", "who", self._who(person))

    def action_cursor_down(self) -> None:
        super().action_cursor_down()
        if self._on_side_row() and self.cursor_row < self.row_count - 1:
            super().action_cursor_down()  # side names are headings, not people

    def action_cursor_up(self) -> None:
        super().action_cursor_up()
        if self._on_side_row():
            if self.cursor_row > 0:
                super().action_cursor_up()
            else:
                super().action_cursor_down()

    def _on_side_row(self) -> bool:
        if not self.row_count:
            return False
        key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        return (key or "").startswith("side:")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value or ""
        if not key.startswith("person:"):
            return
        person_id = key.partition(":")[2]
        self.post_message(self.PersonChosen(None if person_id == self.chosen else person_id))

    # -- rows --------------------------------------------------------------------------------

    def _rebuild(self) -> None:
        """Lay the rows out again when the panel switches between one and two lines a person."""
        if not self.columns:
            return
        width = self.scrollable_content_region.width or self.size.width
        wide = width >= WIDE
        self._fit_columns(width, wide)
        if wide == self._wide and self.row_count:
            return
        self._wide = wide
        selected = None
        if self.row_count:
            selected = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        # The roster is a dozen rows: laying them out again is cheaper than moving them.
        self.clear()
        for side, side_name in self._sides():
            self.add_row(Text(f" {side_name}", style="bold underline"), key=f"side:{side}")
            people = [p for p in self.profile.people if p.side == side]
            for person in sorted(people, key=lambda p: p.leader):
                self.add_row(
                    self._who(person),
                    self._role(person),
                    *self._counts(person),
                    key=f"person:{person.id}",
                    height=1 if wide else 2,
                )
        if selected is not None:
            self.move_cursor(row=self.get_row_index(selected), animate=False)
        elif self.row_count > 1:
            self.move_cursor(row=1, animate=False)

    def _sides(self) -> list[tuple[str, str]]:
        order = list(self.profile.sides)
        order += sorted({p.side for p in self.profile.people} - set(order))
        return [(side, self.profile.side_name(side)) for side in order]

    def _who(self, person: Person) -> Text:
        mark = CHOSEN_MARK if person.id == self.chosen else " "
        text = Text(mark, style="bold reverse" if person.id == self.chosen else "")
        text.append(person.name, style="bold")
        if person.leader:
            text.append(f" {LEADER_MARK}", style="yellow")
        if not self._wide:
            text.append("\n ")
            text.append(person.role, style="dim")
        return fit(text)

    def _role(self, person: Person) -> Text:
        return fit(Text(f" {person.role}" if self._wide else "", style="dim"))

    def _counts(self, person: Person) -> list[Text]:
        """The today, last and day cells: side by side when wide, else all in the day column."""
        stats = self.mentions.get(person.id, Mentions())
        last = "-" if stats.last is None else f"{stats.last.astimezone(self.zone):%H:%M}"
        today_style = "bold" if stats.today else "dim"
        spark = Text(f" {sparkline(stats.hourly)}", style="green")
        if self._wide:
            return [
                fit(Text(f" {stats.today}".rjust(6), style=today_style)),
                fit(Text(f" {last}", style="" if stats.last else "dim")),
                fit(spark),
            ]
        # Two lines a person: the counts above the sparkline, so the name and role get the room.
        day = Text.assemble(" ", (str(stats.today), today_style), (" today · last ", "dim"), last)
        day.append("\n")
        day.append_text(spark)
        return [fit(Text()), fit(Text()), fit(day)]

    def _fit_columns(self, width: int, wide: bool) -> None:
        if wide:
            sizes = {"today": 6, "last": 6, "day": HOURS + 1}
            rest = width - sum(sizes.values())
            sizes["who"] = max(MIN_WHO, rest * 9 // 20)
            sizes["role"] = max(0, rest - sizes["who"])
        else:
            sizes = {"today": 0, "last": 0, "day": HOURS + 1, "role": 0}
            sizes["who"] = max(MIN_WHO, width - HOURS - 1)
        set_widths(self, sizes)
