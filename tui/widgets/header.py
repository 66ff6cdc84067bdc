"""The header line: the talks' name, where they stand, and a clock for each of their zones."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from feeds.profile import Profile
from tui.format import talk_state, zone_code, zone_name

# From this width on, clocks are labelled with the city's name, below it with a code.
WIDE = 110
GAP = 2  # between the state and the clocks


class TalkHeader(Static):
    """``US–China trade talks, London · day 2 · in session      London 15:00  New York 10:00``"""

    DEFAULT_CSS = """
    TalkHeader {
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """

    def __init__(self, profile: Profile, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.profile = profile
        self.zones = [(zone, ZoneInfo(zone)) for zone in profile.timezones]
        self.now: datetime | None = None

    def show(self, now: datetime) -> None:
        """Show the state of the talks and the clocks as of ``now``."""
        self.now = now
        self.update(self.describe(now, self.content_size.width or self.size.width))

    def on_resize(self) -> None:
        if self.now is not None:
            self.show(self.now)

    def describe(self, now: datetime, width: int) -> Table:
        """The line: the name (cut with an ellipsis first), the state, then the clocks."""
        clocks = Text(no_wrap=True, end="")
        for index, (zone, info) in enumerate(self.zones):
            if index:
                clocks.append("  ")
            label = zone_name(zone) if width >= WIDE else zone_code(zone)
            clocks.append(f"{label} ", style="dim")
            clocks.append(f"{now.astimezone(info):%H:%M}", style="bold")
        left = Text(self.profile.name, style="bold", no_wrap=True, overflow="ellipsis", end="")
        talks = talk_state(self.profile, now)
        state = Text.assemble(" · ", (talks, "bold yellow")) if talks else Text()
        room = width - clocks.cell_len - state.cell_len - GAP
        if left.cell_len > room:
            left.truncate(max(room, 1), overflow="ellipsis")
        left.append_text(state)
        grid = Table.grid(expand=True, padding=(0, 0, 0, GAP))
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(no_wrap=True, justify="right")
        grid.add_row(left, clocks)
        return grid
