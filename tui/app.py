"""The live dashboard: headlines, the selected item, the delegation roster and source health.

The app only reads the database, never the network. Every read runs in a thread worker and comes
back as one message; the next refresh is armed when that message arrives, so refreshes never
overlap. A refresh that finds the database unchanged (``PRAGMA data_version``) and the screen
recent reads nothing more.
"""

from __future__ import annotations

import gc
import math
import os
import sys
import time
import webbrowser
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar, Protocol
from urllib.parse import urlsplit

from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Tab, Tabs

from feeds.errors import FeedsError
from feeds.models import StoredItem, utc_now
from feeds.profile import Profile
from tui.data import Reader, Snapshot, View, load_snapshot
from tui.widgets.detail import DetailPanel, Revision
from tui.widgets.filter_bar import FilterBar
from tui.widgets.header import TalkHeader
from tui.widgets.headlines import HeadlineTable
from tui.widgets.help import HelpScreen
from tui.widgets.roster import RosterPanel
from tui.widgets.status import PollerChild, StatusPanel, poller_line

# Even when the database has not changed, read it again this often: relative times ("12s ago"),
# the new-arrival markers and the poller's staleness move with the clock.
FULL_EVERY = timedelta(seconds=5)
# Only alerts about this recent are announced (a first poll brings in old news too).
ALERT_FRESH = timedelta(hours=1)
# More new alerts than this at once are announced in one notification.
ALERTS_SHOWN = 3
# A refresh that only brings new rows waits until keys and the wheel have been still this long.
QUIET_SECONDS = 0.3
# Allocations between young-generation collections once the screen is up (Python: 700).
GC_THRESHOLD = 50_000
VIEWS = ("headlines", "roster", "status")


class PollerProcess(Protocol):
    """The poller child process as the dashboard sees it (a ``subprocess.Popen``)."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...


class DashboardApp(App[None]):
    """Follow the talks: headlines as they arrive, who is mentioned, and every source's health."""

    CSS_PATH = "app.tcss"
    TITLE = "talkwatch"
    AUTO_FOCUS = "#headlines"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (140, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (22, "-tall")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "focus_filter",
            "Filter",
            key_display="/",
            tooltip="Filter the headlines by keyword as you type",
            # Before the key goes anywhere, so the keys typed right after it (queued already
            # when it is handled) reach the filter; see check_action for where it is a "/".
            priority=True,
        ),
        Binding("a", "toggle_related", "All/related", tooltip="Related items only / all items"),
        Binding("o", "open_link", "Open link", tooltip="Open the selected headline in a browser"),
        Binding("c", "copy_link", "Copy link", tooltip="Copy the selected headline's link"),
        Binding(
            "escape",
            "clear",
            "Clear filters",
            show=False,
            tooltip="Clear the filter, else the person, else the keyword",
            priority=True,  # as "/", so keys typed right after it are not typed into the filter
        ),
        Binding(
            "1",
            "show_view('headlines')",
            "Headlines",
            show=False,
            tooltip="Headlines and the selected item",
        ),
        Binding(
            "2",
            "show_view('roster')",
            "Delegations",
            show=False,
            tooltip="The delegation roster",
        ),
        Binding(
            "3",
            "show_view('status')",
            "Sources",
            show=False,
            tooltip="The poller and every source's health",
        ),
        Binding("r", "refresh", "Refresh now", show=False, tooltip="Read the database again now"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="This list of keys"),
        Binding("q", "quit", "Quit", tooltip="Quit (stopping the poller it started)"),
    ]
    # Keys the tables and the framework answer to, for the help screen.
    OTHER_KEYS: ClassVar[list[tuple[str, str]]] = [
        ("↑ ↓ pgup pgdn", "Move in a list"),
        ("enter", "On a person: narrow the headlines to them; again: all"),
        ("tab", "Next panel (shift+tab: previous)"),
        ("ctrl+p", "Command palette: themes, keys, quit"),
        ("ctrl+q", "Quit"),
    ]

    class DataLoaded(Message):
        """A refresh finished: ``snapshot`` is ``None`` when nothing had changed."""

        def __init__(self, seq: int, snapshot: Snapshot | None, error: str | None = None) -> None:
            super().__init__()
            self.seq = seq
            self.snapshot = snapshot
            self.error = error

    class RevisionsLoaded(Message):
        """The earlier versions of one item."""

        def __init__(self, item_id: int, revisions: list[Revision]) -> None:
            super().__init__()
            self.item_id = item_id
            self.revisions = revisions

    def __init__(
        self,
        db_path: Path | str,
        profile: Profile,
        *,
        clock: Callable[[], datetime] = utc_now,
        wall_clock: Callable[[], datetime] | None = None,
        refresh_seconds: float | None = 1.0,
        bell: bool = True,
        poller: PollerProcess | None = None,
        poller_log: Path | None = None,
        poller_note: str = "",
    ) -> None:
        """Build the dashboard (nothing is read until it runs).

        Args:
            db_path: the talkwatch database (it must exist).
            profile: the talk profile the items were tagged with.
            clock: the time now in the talks' story, aware (tests pass a frozen one; the demo
                passes its replay clock): the header, "today", the roster, alerts.
            wall_clock: the real time, for what the poller did (last and next polls, its
                heartbeat) and new-arrival markers; defaults to ``clock``.
            refresh_seconds: how long after one refresh the next starts; ``None``: only on
                demand (``request_refresh``), and the header clocks stand still.
            bell: ring the terminal bell on a new alert.
            poller: the poller ``talkwatch watch`` started, if it started one.
            poller_log: where that poller writes its output.
            poller_note: what the status panel says when no poller runs (``--no-poll``).
        """
        super().__init__()
        self.db_path = Path(db_path)
        self.profile = profile
        self.clock = clock
        self._gc_threshold: tuple[int, ...] | None = None
        self.wall_clock = wall_clock or clock
        self.refresh_seconds = refresh_seconds
        self.bell_enabled = bell
        self.poller = poller
        self.poller_log = poller_log
        self.poller_note = poller_note
        self.view = View()
        self.reader = Reader(self.db_path)
        self.started = (wall_clock or clock)()
        self.snapshot: Snapshot | None = None
        self._seq = 0
        self._reset_pending = False
        self._force_pending = False
        self._last_full: datetime | None = None
        self._max_id: int | None = None
        self._announced_alerts: set[int] = set()
        self._timer: Timer | None = None
        self.last_input = -math.inf  # time.monotonic() of the last key press or wheel turn
        self._deferred: Snapshot | None = None
        self._defer_timer: Timer | None = None

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TalkHeader(self.profile, id="talk-header")
        yield FilterBar(id="filter-bar")
        yield Tabs(
            Tab("Headlines", id="tab-headlines"),
            Tab("Delegations", id="tab-roster"),
            Tab("Sources", id="tab-status"),
            id="view-tabs",
        )
        with Horizontal(id="body", classes="-view-headlines"):
            with Vertical(id="main"):
                yield HeadlineTable(self.profile, id="headlines")
                yield DetailPanel(self.profile, id="detail")
            with Vertical(id="side"):
                yield RosterPanel(self.profile, id="roster")
                yield StatusPanel(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(HeadlineTable).border_title = "Headlines"
        self.query_one(DetailPanel).border_title = "Selected"
        self.query_one(RosterPanel).border_title = "Delegations · mentions"
        self.query_one(StatusPanel).border_title = "Sources"
        self.query_one(TalkHeader).show(self.clock())
        self._show_filter_state()
        if self.refresh_seconds is not None:
            self.set_interval(1.0, self._tick_clock)
            # Python's cycle collector walked every widget, style and cached strip on its full
            # passes: pauses of about 100 ms while a poll floods the pane (bench/ui_stall.py).
            # What exists once the screen is up lives as long as the app, so it is frozen out of
            # collection, and collections run less often.
            self.call_after_refresh(self._calm_collector)
        self.request_refresh(reset=True)

    def _calm_collector(self) -> None:
        gc.collect()
        gc.freeze()
        self._gc_threshold = gc.get_threshold()
        gc.set_threshold(GC_THRESHOLD, *self._gc_threshold[1:])

    def on_unmount(self) -> None:
        self.reader.close()
        if self._gc_threshold is not None:
            gc.set_threshold(*self._gc_threshold)
            gc.unfreeze()

    def _tick_clock(self) -> None:
        # A tick can land while the app is closing and the screen is already gone.
        for header in self.query(TalkHeader):
            header.show(self.clock())

    # -- refreshing --------------------------------------------------------------------------

    def request_refresh(self, *, reset: bool = False, force: bool = True) -> None:
        """Read the database again now (``reset``: the query changed, go back to the top).

        ``force=False`` is the timer's cheap check: read only if the database changed or the
        screen is older than a few seconds.
        """
        self._seq += 1
        # A newer request cancels an older one, so it inherits what the older one asked for.
        self._reset_pending = self._reset_pending or reset
        self._force_pending = self._force_pending or force
        now = self.clock()
        due = self._last_full is None or now - self._last_full >= FULL_EVERY
        seen = (
            None if self._force_pending or due or self.snapshot is None else self.snapshot.version
        )
        self._load(self._seq, self.view, now, seen, self._max_id)

    @work(thread=True, exclusive=True, group="refresh")
    def _load(
        self, seq: int, view: View, now: datetime, seen: int | None, after_id: int | None
    ) -> None:
        """Read a snapshot, unless the database is still at version ``seen`` (None: read)."""
        try:
            with self.reader.store() as store:
                if seen is not None and store.data_version() == seen:
                    snapshot = None
                else:
                    snapshot = load_snapshot(store, self.profile, view, now, after_id=after_id)
        except FeedsError as exc:
            self.post_message(self.DataLoaded(seq, None, error=str(exc)))
            return
        self.post_message(self.DataLoaded(seq, snapshot))

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseScrollDown | events.MouseScrollUp):
            self.last_input = time.monotonic()
        await super().on_event(event)

    def user_is_busy(self) -> bool:
        """True while keys are pressed or the wheel turns, and a moment after."""
        return time.monotonic() - self.last_input < QUIET_SECONDS

    def on_dashboard_app_data_loaded(self, message: DataLoaded) -> None:
        if message.seq != self._seq:
            return  # a newer refresh is on its way
        self._arm_timer()
        if message.error is not None:
            self.notify(message.error, title="database", severity="error", markup=False)
            return
        snapshot = message.snapshot
        if snapshot is None:
            return
        if not (self._reset_pending or self._force_pending) and self.user_is_busy():
            # Applying a refresh that brings many rows takes Textual tens of milliseconds
            # (bench/ui_stall.py); rows that merely arrived wait until the user pauses, so
            # typing and scrolling never stutter. What the user asked for is shown at once.
            self._deferred = snapshot
            if self._defer_timer is None:
                self._defer_timer = self.set_timer(QUIET_SECONDS, self._apply_deferred)
            return
        self._show(snapshot)

    def _apply_deferred(self) -> None:
        self._defer_timer = None
        snapshot, self._deferred = self._deferred, None
        if snapshot is None:
            return
        if self.user_is_busy():
            self._deferred = snapshot
            self._defer_timer = self.set_timer(QUIET_SECONDS, self._apply_deferred)
        elif not (self._reset_pending or self._force_pending):
            self._show(snapshot)  # else a refresh the user asked for is on its way

    def _show(self, snapshot: Snapshot) -> None:
        """Put a snapshot on the screen."""
        self._deferred = None
        reset, self._reset_pending = self._reset_pending, False
        self._force_pending = False
        self.snapshot = snapshot
        self._last_full = snapshot.now
        self._max_id = snapshot.max_id
        self.query_one(TalkHeader).show(snapshot.now)
        wall = self.wall_clock()
        self.query_one(HeadlineTable).show(snapshot.items, snapshot.now, reset=reset, wall=wall)
        self.query_one(RosterPanel).show(snapshot.mentions, snapshot.now)
        self.query_one(StatusPanel).show(
            snapshot.sources, snapshot.totals, self._poller_text(snapshot, wall), wall
        )
        self.query_one(DetailPanel).show_hint(self._empty_hint(snapshot))
        self._show_filter_state()
        self._announce_alerts(snapshot.new_alerts, snapshot.now)

    def _empty_hint(self, snapshot: Snapshot) -> Text:
        """Why the headline pane is empty, and what to do about it."""
        if not snapshot.sources:
            return Text(
                "No sources yet. `talkwatch init` adds the London talks' default sources;"
                " `talkwatch sources add URL` adds one.",
                style="dim",
            )
        view = snapshot.view
        if view.keyword or view.person:
            return Text("Nothing matches. Esc clears the filter.", style="dim")
        if view.related_only:
            return Text("No headlines about the talks yet. `a` shows every item.", style="dim")
        return Text("No headlines yet: they appear here as the poller stores them.", style="dim")

    def _arm_timer(self) -> None:
        if self.refresh_seconds is None:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.refresh_seconds, self._scheduled_refresh)

    def _scheduled_refresh(self) -> None:
        self._timer = None
        self.request_refresh(force=False)

    def _poller_text(self, snapshot: Snapshot, wall: datetime) -> Text:
        child = None
        if self.poller is not None:
            child = PollerChild(self.poller.pid, self.poller.poll(), self.poller_log)
        return poller_line(
            snapshot.pollers, wall, child=child, note=self.poller_note, started=self.started
        )

    def _announce_alerts(self, alerts: Sequence[StoredItem], now: datetime) -> None:
        fresh = [
            a
            for a in alerts
            if a.id not in self._announced_alerts and now - a.published <= ALERT_FRESH
        ]
        if not fresh:
            return
        self._announced_alerts.update(a.id for a in fresh)
        names = {a.id: a.name for a in self.profile.alerts}
        if len(fresh) > ALERTS_SHOWN:
            newest = fresh[-1]
            self.notify(
                f"{len(fresh)} new alerts; the latest: {newest.title}",
                title="⚑ alerts",
                severity="warning",
                timeout=15,
                markup=False,
            )
        else:
            for item in fresh:
                alert = next((t.partition(":")[2] for t in item.tags if t.startswith("alert:")), "")
                self.notify(
                    f"{item.title} ({item.source})",
                    title=f"⚑ {names.get(alert, alert)}",
                    severity="warning",
                    timeout=15,
                    markup=False,
                )
        if self.bell_enabled:
            self.bell()

    # -- the selected item -------------------------------------------------------------------

    def on_headline_table_highlighted(self, message: HeadlineTable.Highlighted) -> None:
        detail = self.query_one(DetailPanel)
        detail.show(message.item)
        if message.item is not None and message.item.revisions:
            self._load_revisions(message.item.id)

    @work(thread=True, exclusive=True, group="detail")
    def _load_revisions(self, item_id: int) -> None:
        try:
            with self.reader.store() as store:
                revisions = store.get_revisions(item_id)
        except FeedsError:
            return
        self.post_message(self.RevisionsLoaded(item_id, revisions))

    def on_dashboard_app_revisions_loaded(self, message: RevisionsLoaded) -> None:
        detail = self.query_one(DetailPanel)
        if detail.item is not None and detail.item.id == message.item_id:
            detail.show(detail.item, message.revisions)

    def _selected_link(self) -> str | None:
        item = self.query_one(HeadlineTable).selected_item
        if item is None:
            self.notify("No headline selected.", severity="warning")
            return None
        link = item.link or item.url
        if not link:
            self.notify("This item has no link.", severity="warning")
            return None
        return link

    def action_open_link(self) -> None:
        link = self._selected_link()
        if link is None:
            return
        if urlsplit(link).scheme.lower() not in ("http", "https"):
            self.notify(f"Not opening a non-web link: {link}", severity="warning", markup=False)
            return
        if not _graphical_browser():
            # A console browser (lynx, w3m) would fight the dashboard for the terminal.
            self.copy_to_clipboard(link)
            self.notify(
                "No graphical browser here; the link is copied instead.", severity="warning"
            )
            return
        self._open_in_browser(link)

    @work(thread=True, group="browser")
    def _open_in_browser(self, link: str) -> None:
        # Starting a browser can take a moment; the screen keeps moving meanwhile.
        if not webbrowser.open(link):
            self.notify("Could not start a browser.", severity="warning")

    def action_copy_link(self) -> None:
        link = self._selected_link()
        if link is None:
            return
        self.copy_to_clipboard(link)
        self.notify(link, title="Link copied", markup=False)

    # -- filters -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_filter":
            # Over a dialog or the command palette, or typing into an input, "/" is a "/".
            return len(self.screen_stack) == 1 and not isinstance(self.focused, Input)
        if action == "clear":
            return len(self.screen_stack) == 1  # a dialog's own Esc closes it
        return True

    def action_focus_filter(self) -> None:
        self._show_view("headlines")
        self.query_one(FilterBar).focus_input()

    def on_filter_bar_changed(self, message: FilterBar.Changed) -> None:
        if message.value != self.view.keyword:
            self.view = replace(self.view, keyword=message.value)
            self.request_refresh(reset=True)

    def on_filter_bar_done(self, message: FilterBar.Done) -> None:
        # At once, not after the queued keys (``focus()`` waits): fast typing must not leak.
        self.screen.set_focus(self.query_one(HeadlineTable))

    def action_toggle_related(self) -> None:
        self.view = replace(self.view, related_only=not self.view.related_only)
        self._show_filter_state()
        self.request_refresh()

    def on_roster_panel_person_chosen(self, message: RosterPanel.PersonChosen) -> None:
        self._choose_person(message.person_id)

    def _choose_person(self, person_id: str | None) -> None:
        self.view = replace(self.view, person=person_id)
        self.query_one(RosterPanel).choose(person_id)
        self._show_filter_state()
        self.request_refresh(reset=True)

    def action_clear(self) -> None:
        """Esc: in the filter, clear it; else stop narrowing to a person, or clear the keyword."""
        if isinstance(self.focused, Input):
            self.query_one(FilterBar).clear()
            self.screen.set_focus(self.query_one(HeadlineTable))
        elif self.view.person is not None:
            self._choose_person(None)
        elif self.view.keyword:
            self.query_one(FilterBar).clear()

    def action_refresh(self) -> None:
        self.request_refresh()

    def _show_filter_state(self) -> None:
        text = Text()
        text.append("related only" if self.view.related_only else "all items", style="bold")
        if self.view.person is not None:
            person = next((p for p in self.profile.people if p.id == self.view.person), None)
            text.append(" · ")
            text.append(person.name if person else self.view.person, style="bold reverse")
        if self.snapshot is not None and self.snapshot.view == self.view:
            text.append(f" · {len(self.snapshot.items)} shown")
        if self.view.person is not None or self.view.keyword:
            text.append(" · esc clears", style="dim")
        self.query_one(FilterBar).show_state(text)

    # -- views, help, commands ---------------------------------------------------------------

    def action_show_view(self, view: str) -> None:
        """Show and focus a panel (on a narrow screen, switch to its tab)."""
        if view not in VIEWS:
            return
        self._show_view(view)
        target = {"headlines": "#headlines", "roster": "#roster", "status": "#source-table"}[view]
        self.screen.set_focus(self.query_one(target))

    def _show_view(self, view: str) -> None:
        self.query_one("#view-tabs", Tabs).active = f"tab-{view}"
        self._set_view(view)

    def on_tabs_tab_activated(self, message: Tabs.TabActivated) -> None:
        view = (message.tab.id or "tab-headlines").removeprefix("tab-")
        self._set_view(view)

    def _set_view(self, view: str) -> None:
        body = self.query_one("#body")
        for name in VIEWS:
            body.set_class(name == view, f"-view-{name}")

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.help_keys()))

    def help_keys(self) -> list[tuple[str, str]]:
        """Every binding, with what it does, for the help screen."""
        rows: list[tuple[str, str]] = []
        for binding in self.BINDINGS:
            if isinstance(binding, Binding):
                what = binding.tooltip or binding.description
                rows.append((binding.key_display or _key_names(binding.key), what))
        return rows + list(self.OTHER_KEYS)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Related only / all items", "Toggle the headline pane (a)", self.action_toggle_related
        )
        yield SystemCommand("Clear filters", "Keyword and person (esc)", self._clear_all)
        yield SystemCommand("Refresh now", "Read the database again (r)", self.action_refresh)
        yield SystemCommand("Help: every key", "What each key does (?)", self.action_help)

    def _clear_all(self) -> None:
        self.query_one(FilterBar).clear()
        if self.view.person is not None:
            self._choose_person(None)


def _key_names(keys: str) -> str:
    names = {"slash": "/", "question_mark": "?", "escape": "esc"}
    return " / ".join(names.get(k, k) for k in keys.split(","))


def _graphical_browser() -> bool:
    """Whether ``webbrowser`` would start a browser outside this terminal."""
    if os.environ.get("BROWSER"):
        return True  # the user chose
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
