"""The status panel: is a poller running, how is each source, and what came in today.

A view of the ``pollers`` heartbeats and the sources' recorded health; the poller writes both,
the dashboard only reads them.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Static

from feeds.models import Source
from feeds.store import ItemTotals, PollerInfo
from tui.format import ago, until
from tui.widgets.columns import FixedColumnsTable, fit, set_widths

COLUMNS = ("name", "last", "http", "new", "next", "error")
LABELS = {"name": "source", "last": "last", "http": "HTTP", "new": "new", "next": "next"}
LABELS["error"] = "last error"
FIXED = {"last": 6, "http": 5, "new": 5, "next": 6}
# A poller just started gets this long to write its first heartbeat before it counts as stale.
STARTUP_GRACE = timedelta(seconds=15)


@dataclass(frozen=True, slots=True)
class PollerChild:
    """The poller ``talkwatch watch`` started, as the status line needs it."""

    pid: int
    exit_code: int | None = None  # set once it has exited
    log: Path | None = None


def poller_line(
    pollers: Sequence[PollerInfo],
    now: datetime,
    *,
    child: PollerChild | None = None,
    note: str = "",
    started: datetime | None = None,
) -> Text:
    """One line on the poller: running, starting, stale, exited, or not running.

    Args:
        pollers: the heartbeats in the database, newest first.
        now: the clock.
        child: the poller this dashboard started, if it started one.
        note: what to say when no poller is running (``--no-poll``).
        started: when the dashboard started (a new child gets a moment to write its first beat).
    """
    host = socket.gethostname()
    fresh = [p for p in pollers if p.is_fresh(now)]
    text = Text("poller: ", style="bold")
    if child is not None:
        if child.exit_code is not None:
            text.append(f"exited (code {child.exit_code})", style="bold red")
            if child.log is not None:
                text.append(f" · see {child.log}", style="dim")
            return text
        if any(p.pid == child.pid and p.host == host for p in fresh):
            text.append(f"running (pid {child.pid})", style="green")
            return text
    if fresh:
        other = fresh[0]
        where = "" if other.host == host else f" on {other.host}"
        text.append(f"running (pid {other.pid}{where}, started elsewhere)", style="green")
        return text
    if child is not None and (
        not pollers or (started is not None and now - started < STARTUP_GRACE)
    ):
        text.append(f"starting (pid {child.pid})", style="yellow")
        return text
    if pollers:
        latest = pollers[0]
        text.append(
            f"stale (pid {latest.pid}, last beat {ago(latest.heartbeat_at, now)} ago)",
            style="bold red",
        )
        return text
    text.append(note or "not running · start one with `talkwatch poll`", style="yellow")
    return text


def totals_line(totals: ItemTotals) -> Text:
    """Today's items: all, related, alerts."""
    text = Text("today: ", style="bold")
    text.append(f"{totals.items} items · ")
    text.append(f"{totals.related} related", style="bold")
    text.append(" · ")
    text.append(f"{totals.alerts} ⚑ alerts", style="bold red" if totals.alerts else "dim")
    return text


class StatusPanel(Vertical):
    """The poller's state, today's totals, and one row of health per source."""

    DEFAULT_CSS = """
    StatusPanel {
        height: 1fr;
    }
    StatusPanel > Static {
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StatusPanel > DataTable {
        height: 1fr;
    }
    """

    def __init__(self, *children: Widget, **kwargs: Any) -> None:
        super().__init__(*children, **kwargs)
        self._shown: dict[str, list[Text]] = {}  # the cells on screen, per source row

    def compose(self) -> ComposeResult:
        yield Static(Text("poller: …", style="dim"), id="poller-line")
        yield Static(Text("today: …", style="dim"), id="totals-line")
        yield FixedColumnsTable(cursor_type="none", id="source-table")

    def on_mount(self) -> None:
        table = self.query_one("#source-table", DataTable)
        for key in COLUMNS:
            table.add_column(fit(Text(f" {LABELS[key]}")), key=key, width=1)
        self._fit_columns()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_columns()

    def show(
        self, sources: Sequence[Source], totals: ItemTotals, poller: Text, now: datetime
    ) -> None:
        """Show the poller line, today's totals and every source's health as of ``now``."""
        self.query_one("#poller-line", Static).update(fit(poller))
        self.query_one("#totals-line", Static).update(fit(totals_line(totals)))
        table: DataTable[Text] = self.query_one("#source-table", DataTable)
        wanted = {str(source.id): source for source in sources}
        for key in [row.value for row in list(table.rows) if row.value not in wanted]:
            if key is not None:
                table.remove_row(key)
        for key, source in wanted.items():
            cells = _source_cells(source, now)
            shown = self._shown.get(key)
            if key in table.rows and shown is not None:
                # Only cells that changed: with 200 sources, rewriting every cell every second
                # kept the event loop busy for a tenth of a second (bench/ui_stall.py).
                for column, cell, before in zip(COLUMNS, cells, shown, strict=True):
                    if cell != before:
                        table.update_cell(key, column, cell)
            else:
                table.add_row(*cells, key=key)
            self._shown[key] = cells
        for key in [k for k in self._shown if k not in wanted]:
            del self._shown[key]

    def _fit_columns(self) -> None:
        table: DataTable[Text] = self.query_one("#source-table", DataTable)
        if not table.columns:
            return
        width = table.scrollable_content_region.width or self.size.width
        rest = width - sum(FIXED.values())
        name = max(8, min(22, rest * 2 // 5))
        set_widths(table, {"name": name, **FIXED, "error": max(6, rest - name)})


def _source_cells(source: Source, now: datetime) -> list[Text]:
    failing = bool(source.failures) or source.retired_at is not None
    name_style = "red" if failing else ("dim" if source.last_poll_at is None else "")
    status = str(source.last_status) if source.last_status is not None else "-"
    status_style = "green" if source.last_status in (200, 304) else ("red" if failing else "dim")
    if source.retired_at is not None:
        next_poll = "retired"
    else:
        next_poll = until(source.next_due, now)
    error = source.last_error or ""
    if source.failures > 1:
        error = f"×{source.failures} {error}"
    return [
        fit(Text(f" {source.name}", style=name_style)),
        fit(
            Text(
                f" {ago(source.last_poll_at, now)}", style="dim" if not source.last_poll_at else ""
            )
        ),
        fit(Text(f" {status}", style=status_style)),
        fit(Text(f" {source.last_new}", style="bold" if source.last_new else "dim")),
        fit(Text(f" {next_poll}", style="dim")),
        fit(Text(f" {error}", style="red")),
    ]
