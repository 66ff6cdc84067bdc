"""The demo as a person sees it: the real replay server and poller, the dashboard under Pilot."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from feeds.demo import demo_config, demo_session, run_demo_poller
from feeds.models import utc_now
from feeds.seeds import load_talk_profile
from tui.app import DashboardApp
from tui.widgets.headlines import HeadlineTable


def mentions(app: DashboardApp) -> int:
    snapshot = app.snapshot
    return sum(m.today for m in snapshot.mentions.values()) if snapshot is not None else 0


async def test_demo_ui_roster_counts_grow_as_the_replay_plays(tmp_path: Path) -> None:
    # 9 June 11:00 London, 600x: a few replay minutes go by every real second.
    start = datetime(2025, 6, 9, 10, 0, tzinfo=UTC)
    stop = threading.Event()
    with demo_session(tmp_path / "demo.db", speed=600, start=start, interval=1.0) as session:
        poller = threading.Thread(
            target=run_demo_poller,
            args=(session.db_path, stop),
            kwargs={"config": demo_config(interval=1.0)},
        )
        poller.start()
        try:
            app = DashboardApp(
                session.db_path,
                load_talk_profile("london-2025"),
                clock=session.clock,
                wall_clock=utc_now,
                refresh_seconds=0.2,
                bell=False,
            )
            async with app.run_test(size=(160, 45)) as pilot:
                counts = [mentions(app)]
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and (len(set(counts)) < 3 or counts[-1] == 0):
                    await pilot.pause(0.5)
                    counts.append(mentions(app))
                shown = app.query_one(HeadlineTable).row_count
        finally:
            stop.set()
            poller.join(timeout=10)
    assert counts[-1] > counts[0], counts  # the roster filled as items arrived
    assert len(set(counts)) >= 3, counts  # and kept growing, not in one jump
    assert shown > 0
