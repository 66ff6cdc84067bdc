"""The dashboard, driven by Pilot: the real app on a real SQLite file, with a frozen clock.

Refreshes are requested by hand (``refresh_seconds=None``) except where the timer itself is
under test: a row written by another process must show up on its own.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from textual.worker import WorkerCancelled

from feeds.cli import main
from feeds.models import Entry, StoredItem
from feeds.profile import Profile
from feeds.seeds import load_talk_profile
from feeds.store import ItemTotals, PollerInfo, Store
from feeds.tagging import Tagger
from tests.tui_seed import ITEMS, NOW, entry, seed
from tui.app import DashboardApp
from tui.data import Mentions, count_mentions
from tui.format import item_time, short_name, sparkline, talk_state, talk_zone, zone_code
from tui.widgets.detail import DetailPanel
from tui.widgets.filter_bar import FilterBar
from tui.widgets.headlines import HeadlineTable
from tui.widgets.help import HelpScreen
from tui.widgets.roster import RosterPanel
from tui.widgets.status import PollerChild, StatusPanel, poller_line

ROOT = Path(__file__).resolve().parents[1]
RELATED = sum(1 for i in ITEMS if not i[3].startswith(("Weather", "Football")))
MARKUP_TITLE = "[@click=app.quit]x[/] [bold]y"


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_talk_profile("london-2025")


@pytest.fixture
def db(tmp_path: Path, profile: Profile) -> Path:
    path = tmp_path / "tui.db"
    seed(path, profile)
    return path


def make_app(db: Path, profile: Profile, **kwargs: Any) -> DashboardApp:
    kwargs.setdefault("refresh_seconds", None)
    kwargs.setdefault("bell", False)
    return DashboardApp(db, profile, clock=lambda: NOW, **kwargs)


async def settle(app: DashboardApp, pilot: Pilot[None]) -> None:
    """Let every worker finish and every message it posted be handled (twice: a handler may
    start another worker, e.g. the detail panel's revisions)."""
    for _ in range(2):
        for worker in list(app.workers):
            with contextlib.suppress(WorkerCancelled):  # superseded by a newer refresh
                await worker.wait()
        await pilot.pause()


async def refresh(app: DashboardApp, pilot: Pilot[None]) -> None:
    app.request_refresh()
    await settle(app, pilot)


def add(db: Path, profile: Profile, source: str, *rows: tuple[str, int, str, str]) -> None:
    """Store (guid, minutes before NOW, title, summary) items from a second connection."""
    tagger = Tagger(profile)
    with Store(db) as store:
        found = store.get_source(source)
        assert found is not None
        entries = [
            entry(tagger, guid, minutes, title, summary) for guid, minutes, title, summary in rows
        ]
        store.add_entries(found.id, entries, NOW)


def titles(table: HeadlineTable) -> list[str]:
    return [row[3].strip() for row in table.plain_rows()]


def items_of(table: HeadlineTable) -> list[StoredItem]:
    return [
        table.items[str(table.coordinate_to_cell_key((i, 0)).row_key.value)]
        for i in range(table.row_count)
    ]


# -- the headline pane ----------------------------------------------------------------------


async def test_tui_headlines_newest_first_related_only(db: Path, profile: Profile) -> None:
    app = make_app(db, profile)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.query_one(HeadlineTable)

        assert table.row_count == RELATED
        published = [item.published for item in items_of(table)]
        assert published == sorted(published, reverse=True)
        first = list(table.plain_rows())[0]
        assert first[0] == "●"  # arrived 30 s before the frozen clock
        assert first[1].strip() == "14:59"  # London time, today: no date
        assert "⚑" in first[4] and "Lutnick" in first[4]
        assert first[5].strip() == "×2"  # the same story from AP
        day_one = next(row for row in table.plain_rows() if "second round" in row[3])
        assert day_one[1].strip() == "9 Jun 19:00"
        assert any(row[5].strip() == "upd" for row in table.plain_rows())
        assert app.query_one(FilterBar).query_one("#filter-state", Static).visual is not None


async def test_tui_a_toggles_related_and_all(db: Path, profile: Profile) -> None:
    app = make_app(db, profile)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.query_one(HeadlineTable)
        assert table.row_count == RELATED

        await pilot.press("a")
        await settle(app, pilot)
        assert table.row_count == len(ITEMS)
        weather = next(row for row in table.plain_rows() if "Weather" in row[3])
        assert weather[0] == ""

        await pilot.press("a")
        await settle(app, pilot)
        assert table.row_count == RELATED


async def test_tui_slash_filters_as_you_type_and_escape_clears(db: Path, profile: Profile) -> None:
    app = make_app(db, profile)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.query_one(HeadlineTable)

        await pilot.press("slash")
        assert app.focused is not None and app.focused.id == "filter-input"
        await pilot.press(*"lutnick")
        await settle(app, pilot)
        assert 0 < table.row_count < RELATED
        assert all("Lutnick" in item.title + item.summary for item in items_of(table))

        await pilot.press("escape")
        await settle(app, pilot)
        assert app.query_one(FilterBar).value == ""
        assert table.row_count == RELATED
        assert app.focused is table


async def test_tui_keys_typed_fast_after_slash_go_to_the_filter(db: Path, profile: Profile) -> None:
    app = make_app(db, profile)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        # As a terminal delivers a fast typist's keys: all queued before any is handled.
        for key, char in [("slash", "/"), ("r", "r"), ("a", "a"), ("r", "r"), ("e", "e")]:
            app.post_message(events.Key(key, char))
        await settle(app, pilot)

        assert app.query_one(FilterBar).value == "rare"
        assert app.view.related_only  # "a" was typed, not taken as the binding
        for key, char in [("escape", None), ("a", "a")]:
            app.post_message(events.Key(key, char))
        await settle(app, pilot)
        assert app.query_one(FilterBar).value == "" and not app.view.related_only


async def test_tui_new_rows_keep_the_selection_and_the_view(
    tmp_path: Path, profile: Profile
) -> None:
    path = tmp_path / "many.db"
    seed(path, profile)
    add(
        path,
        profile,
        "Reuters World",
        *[
            (f"old-{n}", 30 + n, f"Bessent and He Lifeng talks in London, update {n}", "")
            for n in range(40)
        ],
    )
    app = make_app(path, profile)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        table = app.query_one(HeadlineTable)
        table.focus()
        for _ in range(25):
            await pilot.press("down")
        await pilot.pause()
        chosen = table.selected_item
        assert chosen is not None
        row_before, scroll_before = table.cursor_row, table.scroll_y
        assert scroll_before > 0

        add(
            path,
            profile,
            "AP Top News",
            ("new-1", 0, "Greer and He Lifeng meet again in London", ""),
        )
        add(
            path,
            profile,
            "AP Top News",
            ("new-2", 0, "Lutnick and Wang Wentao in London talks", ""),
        )
        await refresh(app, pilot)

        assert table.selected_item is not None and table.selected_item.id == chosen.id
        assert table.cursor_row == row_before + 2
        assert table.scroll_y == scroll_before + 2  # the rows in view stayed in view
        assert "Lutnick and Wang Wentao" in titles(table)[0]
        assert app.query_one(DetailPanel).item == chosen


async def test_tui_new_rows_wait_while_the_user_types(db: Path, profile: Profile) -> None:
    app = make_app(db, profile)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.query_one(HeadlineTable)
        table.focus()
        before = app.last_input
        await pilot.press("down")
        assert app.last_input > before  # a key press is input (and a turn of the wheel)

        add(db, profile, "AP Top News", ("new-1", 0, "Greer and He Lifeng meet again", ""))
        app.last_input = time.monotonic() + 3600  # the user keeps typing
        app.request_refresh(force=False)  # what the refresh timer does
        await settle(app, pilot)
        assert "meet again" not in titles(table)[0]  # the new row waits

        app.last_input = -math.inf  # the user pauses
        deadline = time.monotonic() + 5
        while "meet again" not in titles(table)[0]:
            assert time.monotonic() < deadline, "the new row never arrived"
            await pilot.pause(0.05)


async def test_tui_a_refresh_the_user_asks_for_is_shown_while_they_type(
    db: Path, profile: Profile
) -> None:
    app = make_app(db, profile)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        add(db, profile, "AP Top News", ("new-1", 0, "Greer and He Lifeng meet again", ""))
        app.last_input = time.monotonic() + 3600
        await refresh(app, pilot)  # `r`, or a new filter: at once
        assert "meet again" in titles(app.query_one(HeadlineTable))[0]


async def test_tui_a_cheap_refresh_does_not_lose_a_new_query(db: Path, profile: Profile) -> None:
    app = make_app(db, profile)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        app.view = replace(app.view, keyword="greer")
        app.request_refresh(reset=True)
        app.request_refresh(force=False)  # the timer's check, cancelling the request above
        await settle(app, pilot)

        assert [item.guid for item in items_of(app.query_one(HeadlineTable))] == ["ap-2", "r-3"]


async def test_tui_r_refreshes_and_q_quits(db: Path, profile: Profile) -> None:
    app = make_app(db, profile)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        add(db, profile, "AP Top News", ("r", 0, "Greer and He Lifeng meet in London", ""))
        await pilot.press("r")
        await settle(app, pilot)
        assert titles(app.query_one(HeadlineTable))[0] == "Greer and He Lifeng meet in London"

        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_tui_row_from_another_process_appears(db: Path, profile: Profile) -> None:
    app = make_app(db, profile, refresh_seconds=0.1)
    script = textwrap.dedent(
        f"""
        from datetime import datetime, timezone
        from feeds.models import Entry, Tagging
        from feeds.store import Store
        with Store({str(db)!r}) as store:
            source = store.get_source("Xinhua English")
            tagging = Tagging(tags=("person:he-lifeng",), related=True, score=9.0)
            entry = Entry(guid="other-process", title="He Lifeng leaves Lancaster House",
                          url="https://news.example/other", tagging=tagging,
                          published=datetime(2025, 6, 10, 13, 59, 50, tzinfo=timezone.utc))
            store.add_entries(source.id, [entry], datetime.now(timezone.utc))
        """
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.query_one(HeadlineTable)
        assert table.row_count == RELATED

        done = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 5
        while table.row_count == RELATED and time.monotonic() < deadline:
            await pilot.pause(0.05)

        assert table.row_count == RELATED + 1
        assert titles(table)[0] == "He Lifeng leaves Lancaster House"


async def test_tui_timer_reads_only_when_the_database_changed(
    db: Path, profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tui.app

    reads: list[datetime] = []
    real = tui.app.load_snapshot

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(datetime.now(UTC))
        return real(*args, **kwargs)

    monkeypatch.setattr(tui.app, "load_snapshot", counted)
    app = make_app(db, profile, refresh_seconds=0.05)  # the clock stands still: never "due"
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.pause(0.5)  # ten checks of an unchanged database
        assert len(reads) == 1

        add(db, profile, "AP Top News", ("t", 0, "Greer and He Lifeng meet in London", ""))
        deadline = time.monotonic() + 5
        while len(reads) == 1 and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert len(reads) == 2
        await pilot.pause(0.3)
        assert len(reads) == 2


async def test_tui_markup_in_a_headline_is_shown_literally(db: Path, profile: Profile) -> None:
    add(db, profile, "SCMP China", ("markup", 0, MARKUP_TITLE, "[red]not red[/red] Lutnick"))
    app = make_app(db, profile)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("a")  # not related: show everything
        await settle(app, pilot)
        table = app.query_one(HeadlineTable)
        row = next(i for i, cells in enumerate(table.plain_rows()) if "[@click" in cells[3])
        assert list(table.plain_rows())[row][3].strip() == MARKUP_TITLE

        table.move_cursor(row=row)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.click(HeadlineTable, offset=(40, row + 2 - int(table.scroll_y)))
        await pilot.click(HeadlineTable, offset=(40, row + 2 - int(table.scroll_y)))
        await settle(app, pilot)

        assert app.is_running
        detail = app.query_one(DetailPanel)
        assert detail.item is not None and detail.item.title == MARKUP_TITLE
        text = detail.describe(detail.item)
        assert MARKUP_TITLE in text.plain and "[red]not red[/red]" in text.plain


async def test_tui_new_alert_gets_a_toast_and_the_bell(
    db: Path, profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Message] = []
    app = make_app(db, profile, bell=True)
    rings: list[bool] = []
    monkeypatch.setattr(app, "bell", lambda: rings.append(True))
    async with app.run_test(size=(120, 40), notifications=True, message_hook=seen.append) as pilot:
        await settle(app, pilot)
        assert not [m for m in seen if isinstance(m, Notify)]  # nothing stored before is news

        add(
            db,
            profile,
            "AP Top News",
            ("deal", 0, "US and China reached a deal in London on rare earths, Bessent says", ""),
        )
        await refresh(app, pilot)

        notes = [m.notification for m in seen if isinstance(m, Notify)]
        assert len(notes) == 1
        assert "reached a deal" in notes[0].message and notes[0].title == "⚑ Agreement reached"
        assert notes[0].markup is False
        assert app.screen.query("Toast")
        assert rings == [True]

        await refresh(app, pilot)  # announced once
        assert len([m for m in seen if isinstance(m, Notify)]) == 1


# -- detail, links --------------------------------------------------------------------------


async def test_tui_detail_shows_terms_and_revisions(db: Path, profile: Profile) -> None:
    app = make_app(db, profile)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.query_one(HeadlineTable)
        row = next(i for i, cells in enumerate(table.plain_rows()) if cells[5].strip() == "upd")
        table.move_cursor(row=row)
        await settle(app, pilot)

        body = app.query_one("#detail-body", Static)
        text = body.visual
        plain = getattr(text, "plain", "") or str(text)
        assert "Bessent says US-China talks in London going well, will continue" in plain
        assert "earlier versions" in plain
        assert "person:bessent Scott Bessent  ← Bessent" in plain
        assert "14:10 BST (13:10 UTC)" in plain  # published in talk time and UTC


async def test_tui_o_opens_web_links_only_and_c_copies(
    db: Path, profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    monkeypatch.setenv("DISPLAY", ":0")
    add(
        db,
        profile,
        "Reuters World",
        ("file", 0, "Lutnick and He Lifeng in London, rare earths", ""),
    )
    with Store(db) as store:
        store.conn.execute("UPDATE items SET link = 'file:///etc/passwd' WHERE guid = 'file'")
    app = make_app(db, profile)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.query_one(HeadlineTable)
        assert table.selected_item is not None and table.selected_item.guid == "file"

        await pilot.press("o")
        await settle(app, pilot)
        assert opened == []

        await pilot.press("down", "o")
        await settle(app, pilot)
        assert opened == ["https://news.example/framework"]

        await pilot.press("c")
        assert app.clipboard == "https://news.example/framework"


async def test_tui_o_without_a_graphical_browser_copies(
    db: Path, profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    app = make_app(db, profile)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("o")
        await settle(app, pilot)
        assert opened == []
        assert app.clipboard == "https://news.example/framework"


# -- help, roster, status -------------------------------------------------------------------


async def test_tui_question_mark_lists_every_binding(db: Path, profile: Profile) -> None:
    app = make_app(db, profile)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = dict(app.screen.keys)
        for binding in DashboardApp.BINDINGS:
            assert isinstance(binding, Binding)
            assert listed[binding.key_display or binding.key.replace("escape", "esc")]
        assert listed["/"].startswith("Filter the headlines by keyword")
        assert {"enter", "ctrl+p", "ctrl+q", "tab"} <= set(listed)

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_tui_choosing_a_person_narrows_the_headlines(db: Path, profile: Profile) -> None:
    app = make_app(db, profile)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        table = app.query_one(HeadlineTable)
        roster = app.query_one(RosterPanel)

        await pilot.press("2")
        assert app.focused is roster
        await pilot.press("down", "down", "down", "down")  # skips the heading "China"
        assert roster.cursor_row == roster.get_row_index("person:he-lifeng")
        await pilot.press("up", "up", "up", "up", "up", "up")  # never rests on a heading
        assert roster.cursor_row == roster.get_row_index("person:bessent")
        roster.move_cursor(row=roster.get_row_index("person:greer"))
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.view.person == "greer"
        assert table.row_count == 2
        assert all("person:greer" in item.tags for item in items_of(table))
        assert roster.get_cell("person:greer", "who").plain.startswith("▶")

        await pilot.press("enter")  # again: everyone
        await settle(app, pilot)
        assert app.view.person is None and table.row_count == RELATED

        await pilot.press("enter", "escape")
        await settle(app, pilot)
        assert app.view.person is None and table.row_count == RELATED


async def test_tui_roster_counts_mentions(db: Path, profile: Profile) -> None:
    app = make_app(db, profile)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        roster = app.query_one(RosterPanel)
        # Two lines a person in the side column: the counts above the sparkline.
        counts, spark = roster.get_cell("person:he-lifeng", "day").plain.splitlines()
        assert counts.strip() == "2 today · last 14:40"
        assert spark.strip() and set(spark) <= set("▁▂▃▄▅▆▇█ ")
        assert roster.get_cell("person:xi", "who").plain.splitlines() == [
            " Xi Jinping ★",
            " President",
        ]

        await pilot.press("2")  # on a narrow screen the roster has a tab, one line a person
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert roster.get_cell("person:he-lifeng", "today").plain.strip() == "2"
        assert roster.get_cell("person:he-lifeng", "last").plain.strip() == "14:40"
        assert roster.get_cell("person:he-lifeng", "role").plain.strip() == "Vice Premier"


async def test_tui_status_panel_shows_sources_and_poller(db: Path, profile: Profile) -> None:
    with Store(db) as store:
        store.beat(NOW - timedelta(seconds=3), NOW - timedelta(hours=1), pid=4242)
    app = make_app(db, profile)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app, pilot)
        status = app.query_one(StatusPanel)
        line = status.query_one("#poller-line", Static).visual
        assert "running (pid 4242, started elsewhere)" in getattr(line, "plain", str(line))
        table: DataTable[Text] = status.query_one("#source-table", DataTable)
        rows = [[c.plain.strip() for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert all(r[1] == "40s" and r[4] == "4m" for r in rows)
        index = next(i for i, r in enumerate(rows) if r[0].startswith("Gov wire"))
        assert rows[index][2] == "503"
        shown = table.render_line(index + 1).text  # the header is line 0
        assert "HTTP 503 Service" in shown and shown.rstrip().endswith("…")


async def test_tui_narrow_screen_uses_tabs(db: Path, profile: Profile) -> None:
    app = make_app(db, profile)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.screen.has_class("-narrow")
        assert not app.query_one(RosterPanel).display or not app.query_one("#side").display
        await pilot.press("3")
        await pilot.pause()
        assert app.query_one(StatusPanel).region.width > 70
        assert app.query_one("#main").display is False or app.query_one("#main").region.width == 0
        await pilot.press("1")
        await pilot.pause()
        assert app.query_one(HeadlineTable).region.width > 70


async def test_tui_missing_database_is_reported(tmp_path: Path, profile: Profile) -> None:
    seen: list[Message] = []
    app = make_app(tmp_path / "none.db", profile)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await settle(app, pilot)
        notes = [m.notification for m in seen if isinstance(m, Notify)]
        assert notes and "no database here" in notes[0].message
        assert app.is_running


# -- pure parts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "state"),
    [
        (datetime(2025, 6, 8, 12, 0, tzinfo=UTC), "before the talks"),
        (datetime(2025, 6, 9, 11, 0, tzinfo=UTC), "before the talks"),
        (datetime(2025, 6, 9, 12, 30, tzinfo=UTC), "day 1 · in session"),
        (datetime(2025, 6, 9, 21, 0, tzinfo=UTC), "day 1 · between sessions"),
        (datetime(2025, 6, 10, 7, 0, tzinfo=UTC), "day 2 · between sessions"),
        (NOW, "day 2 · in session"),
        (datetime(2025, 6, 10, 23, 15, tzinfo=UTC), "day 2 · in session"),  # past midnight
        (datetime(2025, 6, 11, 9, 0, tzinfo=UTC), "after the talks"),
    ],
)
def test_tui_talk_state(profile: Profile, when: datetime, state: str) -> None:
    assert talk_state(profile, when) == state


def test_tui_formats(profile: Profile) -> None:
    zone = talk_zone(profile)
    assert item_time(NOW, NOW, zone) == "15:00"
    assert item_time(NOW - timedelta(days=1), NOW, zone) == "9 Jun 15:00"
    assert zone_code("America/New_York") == "NYC" and zone_code("Asia/Shanghai") == "BJS"
    assert sparkline([0, 1, 2, 4, 8]) == " ▁▂▄█"
    assert sparkline([0, 0]) == "  "
    names = {p.id: short_name(p) for p in profile.people}
    assert names["bessent"] == "Bessent" and names["xi"] == "Xi"
    assert names["he-lifeng"] == "He Lifeng"  # "He" alone is a pronoun, not an alias


def test_tui_count_mentions() -> None:
    today = datetime(2025, 6, 9, 23, 0, tzinfo=UTC)  # midnight in London
    rows = [
        ("person:greer", NOW - timedelta(hours=20)),  # yesterday in London, within 24 h
        ("person:greer", NOW - timedelta(minutes=30)),
        ("person:greer", NOW - timedelta(minutes=10)),
    ]
    counts = count_mentions(rows, NOW, today)
    assert counts["greer"] == Mentions(
        today=2,
        last=NOW - timedelta(minutes=10),
        hourly=(0,) * 4 + (1,) + (0,) * 18 + (2,),
    )


def test_tui_poller_line_states() -> None:
    import socket

    host = socket.gethostname()
    fresh = PollerInfo(host, 4242, NOW - timedelta(hours=1), NOW - timedelta(seconds=5))
    stale = PollerInfo(host, 4242, NOW - timedelta(hours=1), NOW - timedelta(minutes=2))

    def line(*args: Any, **kwargs: Any) -> str:
        return poller_line(*args, **kwargs).plain

    assert line([fresh], NOW) == "poller: running (pid 4242, started elsewhere)"
    assert line([fresh], NOW, child=PollerChild(4242)) == "poller: running (pid 4242)"
    assert line([stale], NOW) == "poller: stale (pid 4242, last beat 2m ago)"
    assert line([], NOW, note="off (--no-poll)") == "poller: off (--no-poll)"
    assert line([], NOW, child=PollerChild(99), started=NOW) == "poller: starting (pid 99)"
    exited = PollerChild(99, exit_code=1, log=Path("x.log"))
    assert line([stale], NOW, child=exited) == "poller: exited (code 1) · see x.log"


def test_tui_store_dashboard_queries(store: Store, profile: Profile) -> None:
    tagger = Tagger(profile)
    source = store.add_source("https://x.example/rss", name="x", now=NOW)
    store.add_entries(
        source.id,
        [
            entry(tagger, "a", 10, "US and China reached a deal in London, Bessent says"),
            entry(tagger, "b", 60 * 30, "Bessent and He Lifeng open talks in London"),
            entry(tagger, "c", 5, "Weather in London"),
        ],
        NOW,
    )
    today = datetime(2025, 6, 9, 23, 0, tzinfo=UTC)
    assert store.count_items_since(today) == ItemTotals(items=2, related=1, alerts=1)
    mentions = store.get_mentions(today, related_only=True)
    assert mentions == [("person:bessent", NOW - timedelta(minutes=10))]
    assert [i.guid for i in store.get_items(tag="person:he-lifeng")] == ["b"]
    assert [i.guid for i in store.get_new_alerts(0)] == ["a"]
    assert store.get_new_alerts(store.max_item_id()) == []


def test_tui_entry_helper_is_tagged(profile: Profile) -> None:
    made = entry(Tagger(profile), "g", 1, "Bessent and He Lifeng in London")
    assert isinstance(made, Entry) and made.tagging is not None and made.tagging.related


def test_tui_text_cells_are_never_markup(profile: Profile) -> None:
    table = HeadlineTable(profile)
    cells = table._cells(  # the cells as the table gets them
        StoredItem(
            id=1,
            source="[b]src[/b]",
            source_id=1,
            guid="g",
            title=MARKUP_TITLE,
            summary="",
            url="",
            link="",
            published=NOW,
            published_orig=None,
            first_seen=NOW - timedelta(hours=1),
            updated_at=None,
            story_id="s",
        ),
        NOW,
        NOW,
    )
    assert all(isinstance(cell, Text) for cell in cells)
    assert cells[2].plain == " [b]src[/b]" and cells[3].plain == f" {MARKUP_TITLE}"


# -- the watch command ----------------------------------------------------------------------


@dataclass
class Launch:
    """What `talkwatch watch` handed the dashboard, and what the poller did meanwhile."""

    app: DashboardApp
    beat: bool = False


@pytest.fixture
def launches(monkeypatch: pytest.MonkeyPatch) -> list[Launch]:
    """Replace the dashboard's run with one that waits (up to 15 s) for its poller's heartbeat."""
    seen: list[Launch] = []

    def run(self: DashboardApp, *args: Any, **kwargs: Any) -> None:
        launch = Launch(self)
        seen.append(launch)
        if self.poller is None:
            return
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not launch.beat:
            with Store(self.db_path) as store:
                launch.beat = any(p.pid == self.poller.pid for p in store.get_pollers())
            time.sleep(0.05)

    monkeypatch.setattr(DashboardApp, "run", run)
    return seen


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("[poll]\nworkers = 1\n", encoding="utf-8")
    monkeypatch.setenv("TALKWATCH_CONFIG", str(path))
    return path


def test_tui_watch_runs_a_poller_beside_the_dashboard(
    tmp_path: Path, config: Path, launches: list[Launch]
) -> None:
    db = tmp_path / "w.db"

    assert main(["--db", str(db), "watch", "--no-bell"]) == 0

    [launch] = launches
    assert launch.app.poller is not None and launch.beat  # the child polled into our database
    assert launch.app.bell_enabled is False
    assert launch.app.poller.poll() is not None  # stopped when the dashboard quit
    with pytest.raises(ProcessLookupError):
        os.kill(launch.app.poller.pid, 0)
    log = tmp_path / "w.db.poller.log"
    assert launch.app.poller_log == log and "polling 0 sources" in log.read_text()
    with Store(db) as store:
        assert store.get_pollers() == []  # it stopped cleanly (SIGTERM, not a kill)


def test_tui_watch_no_poll_or_a_running_poller_starts_none(
    tmp_path: Path, config: Path, launches: list[Launch]
) -> None:
    db = tmp_path / "w.db"
    assert main(["--db", str(db), "watch", "--no-poll"]) == 0
    assert launches[-1].app.poller is None
    assert launches[-1].app.poller_note == "off (--no-poll)"

    with Store(db) as store:  # this process is alive, and beat just now
        store.beat(datetime.now(UTC), datetime.now(UTC))
    assert main(["--db", str(db)]) == 0  # no command: watch
    assert launches[-1].app.poller is None
    assert launches[-1].app.poller_note == f"running (pid {os.getpid()}, started elsewhere)"


def test_tui_watch_ignores_a_dead_pollers_heartbeat(
    tmp_path: Path, config: Path, launches: list[Launch]
) -> None:
    db = tmp_path / "w.db"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with Store(db) as store:
        store.beat(datetime.now(UTC), datetime.now(UTC), pid=dead.pid)

    assert main(["--db", str(db), "watch"]) == 0

    assert launches[-1].app.poller is not None and launches[-1].beat
