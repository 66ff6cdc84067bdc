"""Snapshots of the dashboard's layout: narrow (80×24, tabs) and wide (160×45, side by side).

Seeded data, a frozen clock and no timer (``refresh_seconds=None``), so every run draws the same
screen. After a deliberate change: ``pytest tests/test_tui_snapshots.py --snapshot-update``, then
look at the SVGs (or ``snapshot_report.html`` when one fails) before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from feeds.profile import Profile
from feeds.seeds import load_talk_profile
from feeds.store import Store
from tests.tui_seed import NOW, seed
from tui.app import DashboardApp

Compare = Callable[..., bool]
NARROW = (80, 24)
WIDE = (160, 45)


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_talk_profile("london-2025")


@pytest.fixture
def app(tmp_path: Path, profile: Profile) -> DashboardApp:
    seed(tmp_path / "snap.db", profile)
    return DashboardApp(
        tmp_path / "snap.db", profile, clock=lambda: NOW, refresh_seconds=None, bell=False
    )


async def loaded(pilot: Pilot[None]) -> None:
    """Wait for the first refresh (and the detail panel's) to be on screen."""
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def then(*keys: str) -> Callable[[Pilot[None]], object]:
    async def run(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        await pilot.press(*keys)
        await loaded(pilot)

    return run


def test_tui_snapshot_narrow_headlines(snap_compare: Compare, app: DashboardApp) -> None:
    assert snap_compare(app, terminal_size=NARROW, run_before=loaded)


def test_tui_snapshot_narrow_sources(snap_compare: Compare, app: DashboardApp) -> None:
    assert snap_compare(app, terminal_size=NARROW, run_before=then("3"))


def test_tui_snapshot_narrow_help(snap_compare: Compare, app: DashboardApp) -> None:
    assert snap_compare(app, terminal_size=NARROW, run_before=then("question_mark"))


def test_tui_snapshot_wide(snap_compare: Compare, app: DashboardApp) -> None:
    assert snap_compare(app, terminal_size=WIDE, run_before=loaded)


def test_tui_snapshot_wide_filtered(snap_compare: Compare, app: DashboardApp) -> None:
    keys = ("a", "slash", *"london", "enter", "down", "down", "down", "down")
    assert snap_compare(app, terminal_size=WIDE, run_before=then(*keys))


def test_tui_snapshot_narrow_empty(snap_compare: Compare, tmp_path: Path, profile: Profile) -> None:
    app = DashboardApp(
        tmp_path / "empty.db", profile, clock=lambda: NOW, refresh_seconds=None, bell=False
    )
    Store(tmp_path / "empty.db").close()
    assert snap_compare(app, terminal_size=NARROW, run_before=loaded)
