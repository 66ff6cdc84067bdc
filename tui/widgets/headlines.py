"""The headline pane: the newest items first, one row each, updated in place.

Rows are keyed by item id. A refresh adds, updates and removes rows and re-sorts them; it never
clears the table, and it puts the cursor back on the item the user had selected (and the view
back on the rows they were looking at), so new rows arriving above never move the selection.

Feed text is data: every cell is a ``rich.text.Text`` built from the plain string, never markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from feeds.models import StoredItem
from feeds.profile import Profile
from tui.format import is_new, item_time, short_name, talk_zone
from tui.widgets.columns import FixedColumnsTable, set_widths

# How long a new arrival keeps its marker.
NEW_FOR = timedelta(seconds=60)
# More rows than this leaving the pane at once: rebuild the table instead of removing each.
REBUILD_AFTER = 20
NEW_MARK = "●"
ALERT_MARK = "⚑"
# The columns, left to right; the headline takes whatever width the others leave.
COLUMNS = ("mark", "time", "source", "headline", "tags", "info")
LABELS = {"mark": "", "time": "time", "source": "source", "headline": "headline", "tags": "tags"}
MIN_HEADLINE = 12


class _Cell(Text):
    """A cell that knows where its row sorts (newest first), for ``DataTable.sort``.

    It is never measured: DataTable measures every cell of every new row to size auto-width
    columns, and ours all have fixed widths (``_fit_columns``). For a refresh that brings 200
    new rows those 1,200 measurements took 12-16 ms of the UI thread (bench/ui_stall.py).
    """

    rank: tuple[str, int] = ("", 0)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, 1)


@dataclass(frozen=True, slots=True)
class _Widths:
    time: int
    source: int
    tags: int
    info: int


def _widths(width: int, dated: bool) -> _Widths:
    """Fixed column widths for a pane ``width`` cells wide (``dated``: some rows show a day)."""
    time = 12 if dated else 5
    if width >= 140:
        return _Widths(time, 16, 28, 7)
    if width >= 88:
        return _Widths(time, 12, 17, 7)
    return _Widths(time, 9, 13, 7)


class HeadlineTable(FixedColumnsTable):
    """Headlines, newest first, with source, time in the talks' zone, tag chips and flags."""

    class Highlighted(Message):
        """The selected item changed (``None``: the pane is empty)."""

        def __init__(self, item: StoredItem | None) -> None:
            super().__init__()
            self.item = item

    def __init__(self, profile: Profile, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.profile = profile
        self.zone = talk_zone(profile)
        self.short_names = {f"person:{p.id}": short_name(p) for p in profile.people}
        self.items: dict[str, StoredItem] = {}
        self._signatures: dict[str, tuple[object, ...]] = {}
        self._inputs: dict[str, tuple[object, ...]] = {}  # what each row's cells were built from
        self._dated = False
        self._announced: int | None = -1  # the item id last announced as highlighted

    # -- lifecycle ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        for key in COLUMNS:
            label = LABELS.get(key, "")
            header = Text(f" {label}" if label else "", no_wrap=True, overflow="ellipsis")
            self.add_column(header, key=key, width=len(label) + 1)
        self._fit_columns()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_columns()

    # -- what is selected --------------------------------------------------------------------

    @property
    def selected_item(self) -> StoredItem | None:
        """The item under the cursor, if any."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
        return self.items.get(key.value or "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._announce()

    def _announce(self) -> None:
        """Tell the app about the selected item, once per change of item."""
        item = self.selected_item
        item_id = item.id if item else None
        if item_id != self._announced:
            self._announced = item_id
            self.post_message(self.Highlighted(item))

    # -- updating ----------------------------------------------------------------------------

    def show(
        self,
        items: Sequence[StoredItem],
        now: datetime,
        *,
        reset: bool = False,
        wall: datetime | None = None,
    ) -> None:
        """Show ``items`` (newest first), keeping the selection and the view where they were.

        Args:
            items: what the pane should hold now.
            now: the clock, for "today".
            wall: the real time, for the new-arrival marker (``first_seen`` is real time).
            reset: a new query (filter, mode): go back to the top instead.
        """
        selected = self.selected_item
        anchor = self._top_key()
        anchor_before = self.get_row_index(anchor) if anchor is not None else 0
        scroll_before = self.scroll_y
        cursor_before = self.cursor_row

        wanted = {str(item.id): item for item in items}
        gone = [k for k in self.items if k not in wanted]
        if len(gone) > REBUILD_AFTER:
            # DataTable.remove_row costs a pass over every row: when a burst pushes many old
            # rows out of the pane, one rebuild is far cheaper (bench/ui_stall.py). The
            # selection and the view are restored below as for any update.
            self.clear()
            self.items.clear()
            self._signatures.clear()
            self._inputs.clear()
        else:
            for key in gone:
                self.remove_row(key)
                del self.items[key]
                del self._signatures[key]
                self._inputs.pop(key, None)

        today = now.astimezone(self.zone).date()
        self._dated = any(i.published.astimezone(self.zone).date() != today for i in items)
        self._fit_columns()
        added = False
        for item in items:
            key = str(item.id)
            inputs = (self._dated, today, is_new(item.first_seen, wall or now, NEW_FOR))
            if key in self.items and self._inputs.get(key) == inputs and self.items[key] == item:
                continue  # nothing on this row can have changed: skip building its cells
            self._inputs[key] = inputs
            cells = self._cells(item, now, wall or now)
            signature = tuple((c.plain, str(c.style), tuple(c.spans)) for c in cells)
            if key not in self.items:
                self.add_row(*cells, key=key)
                added = True
            elif signature != self._signatures[key]:
                for column, cell in zip(COLUMNS, cells, strict=True):
                    self.update_cell(key, column, cell)
            self.items[key] = item
            self._signatures[key] = signature
        if added:
            self.sort("time", key=lambda cell: cell.rank, reverse=True)

        if reset or not self.row_count:
            self._place(0, 0.0)
        elif selected is not None and str(selected.id) in self.items:
            moved = self.get_row_index(str(selected.id))
            scroll = scroll_before
            if anchor is not None and anchor.value in self.items and scroll_before > 0:
                scroll += self.get_row_index(anchor) - anchor_before
            self._place(moved, scroll)
        else:
            self._place(min(cursor_before, self.row_count - 1), scroll_before)
        self._announce()

    def _place(self, row: int, scroll: float) -> None:
        """Put the cursor on ``row`` and the view at ``scroll`` without scrolling to the cursor.

        Setting ``cursor_coordinate`` would scroll the cursor into view (the watcher does), and
        a row that only moved because others arrived above it must not drag the view along.
        """
        self.set_reactive(DataTable.cursor_coordinate, Coordinate(max(row, 0), 0))
        self.refresh()
        # The scrollable height changes when the table next measures itself, after this update.
        self.call_after_refresh(self.scroll_to, y=scroll, animate=False, immediate=True)

    def _top_key(self) -> RowKey | None:
        """The key of the first row in view."""
        index = int(self.scroll_y)
        if not self.row_count or index >= self.row_count:
            return None
        return self.coordinate_to_cell_key(Coordinate(index, 0)).row_key

    # -- cells -------------------------------------------------------------------------------

    def _cells(self, item: StoredItem, now: datetime, wall: datetime) -> list[_Cell]:
        alert = any(tag.startswith("alert:") for tag in item.tags)
        dim = "" if item.related else "dim"
        mark = _Cell(
            NEW_MARK if is_new(item.first_seen, wall, NEW_FOR) else "", style="bold yellow"
        )
        mark.rank = (item.published.isoformat(), item.id)
        time = _Cell(f" {item_time(item.published, now, self.zone)}", style=dim)
        time.rank = mark.rank
        source = _Cell(f" {item.source}", style=dim or "cyan")
        headline_style = "bold red" if alert else ("bold" if item.related else "dim")
        headline = _Cell(f" {item.title}", style=headline_style)
        tags = self._chips(item, alert)
        info = _Cell(" ")
        if item.story_sources > 1:
            info.append(f"×{item.story_sources}", style="bold" if item.related else "dim")
        if item.revisions or item.updated_at is not None:
            info.append(" upd" if len(info) > 1 else "upd", style="italic magenta")
        for cell in (mark, time, source, headline, tags, info):
            cell.no_wrap = True
            cell.overflow = "ellipsis"
            cell.end = ""
        return [mark, time, source, headline, tags, info]

    def _chips(self, item: StoredItem, alert: bool) -> _Cell:
        """Compact tags: the alert flag, people's short names, then topic ids."""
        chips = _Cell(" ")
        if alert:
            chips.append(ALERT_MARK, style="bold white on red")
        people = [
            self.short_names.get(t, t.partition(":")[2])
            for t in item.tags
            if t.startswith("person:")
        ]
        topics = [t.partition(":")[2] for t in item.tags if t.startswith("topic:")]
        for words, style in ((people, "bold" if item.related else "dim"), (topics, "dim")):
            for word in words:
                if len(chips) > 1:
                    chips.append(" ")
                chips.append(word, style=style)
        return chips

    # -- layout ------------------------------------------------------------------------------

    def _fit_columns(self) -> None:
        """Give every column its width and the headline what is left, so nothing overflows."""
        if not self.columns:
            return
        width = self.scrollable_content_region.width or self.size.width
        fixed = _widths(width, self._dated)
        sizes = {"mark": 1, "time": fixed.time + 1, "source": fixed.source + 1}
        sizes |= {"tags": fixed.tags + 1, "info": fixed.info + 1}
        sizes["headline"] = max(MIN_HEADLINE, width - sum(sizes.values()))
        set_widths(self, sizes)

    def plain_rows(self) -> Iterable[list[str]]:
        """Every row's cells as plain text, top to bottom (for tests and debugging)."""
        for index in range(self.row_count):
            yield [cell.plain for cell in self.get_row_at(index)]
