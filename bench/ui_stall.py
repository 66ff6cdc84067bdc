"""UI responsiveness benchmark: the longest stall of the dashboard's event loop during a poll.

    .venv/bin/python bench/ui_stall.py            # 200 feeds x 50 items
    .venv/bin/python bench/ui_stall.py --repeat 3

Serves the ingest benchmark's corpus on 127.0.0.1, starts the dashboard (the real app, headless,
160x45, refreshing every second) on a fresh database with the 200 sources, then runs
`talkwatch poll --once --all` in another process while a probe task in the app's event loop
measures how late each 5 ms sleep wakes up. A late wake-up is time the UI could not respond to
a key. Reports the longest stall and the 99th percentile, during the poll and for 2 s after it.
Target: the longest stall under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from corpus import build_corpus  # noqa: E402
from server import FeedServer  # noqa: E402

from feeds.models import utc_now  # noqa: E402
from feeds.seeds import load_talk_profile  # noqa: E402
from feeds.store import Store  # noqa: E402
from tui.app import DashboardApp  # noqa: E402
from tui.widgets.headlines import HeadlineTable  # noqa: E402

TICK = 0.005
REFRESH: float | None = 1.0


async def measure(db: Path, talkwatch: str) -> tuple[list[float], float, int, int]:
    """Run the app and a poll beside it.

    Returns the stalls (s), the poll's time, the rows in the headline pane at the end and how
    many refreshes brought new data to the screen (a run with none measured nothing).
    """
    app = DashboardApp(db, load_talk_profile("london-2025"), refresh_seconds=REFRESH, bell=False)
    stalls: list[float] = []
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause(0.5)
        done = asyncio.Event()

        shown: list[object] = []

        async def probe() -> None:
            while not done.is_set():
                before = time.perf_counter()
                await asyncio.sleep(TICK)
                stalls.append(time.perf_counter() - before - TICK)
                if app.snapshot is not None and (not shown or shown[-1] is not app.snapshot):
                    shown.append(app.snapshot)

        task = asyncio.create_task(probe())
        started = time.perf_counter()
        poll = await asyncio.create_subprocess_exec(
            talkwatch,
            "--db",
            str(db),
            "poll",
            "--once",
            "--all",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await poll.wait()
        seconds = time.perf_counter() - started
        await asyncio.sleep(2.0)  # the refreshes that pick up the last rows
        done.set()
        await task
        rows = app.query_one(HeadlineTable).row_count
    return stalls, seconds, rows, len(shown)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--talkwatch", default=str(HERE.parent / ".venv" / "bin" / "talkwatch"))
    args = parser.parse_args()
    documents = build_corpus(feeds=args.feeds, items=args.items)
    server = FeedServer(documents)
    server.start()
    worst: list[float] = []
    try:
        for run in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="talkwatch-ui-") as tmp:
                db = Path(tmp) / "ui.db"
                with Store(db) as store:
                    now = utc_now()
                    for doc in documents:
                        store.add_source(server.url(doc.path), name=doc.path, now=now)
                stalls, seconds, rows, refreshes = asyncio.run(measure(db, args.talkwatch))
            longest = max(stalls)
            p99 = statistics.quantiles(stalls, n=100)[98]
            worst.append(longest)
            print(
                f"run {run + 1}: poll {seconds:.2f}s; UI loop probed {len(stalls)} times; "
                f"longest stall {longest * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms; "
                f"{refreshes} refreshes with new data, {rows} rows in the headline pane"
            )
    finally:
        server.shutdown()
        server.server_close()
    result = max(worst) * 1000
    print(
        f"longest stall over {args.repeat} run(s): {result:.1f} ms (target < 100 ms): "
        + ("PASS" if result < 100 else "FAIL")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
