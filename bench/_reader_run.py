"""lemon24/reader's side of the ingest benchmark, run by bench/ingest.py as its own process.

    python bench/_reader_run.py --db /tmp/x/reader.sqlite --urls urls.txt --workers 8

Adds the feeds (not timed), then times `update_feeds(workers=N)` twice: cold (every feed new)
and warm (every feed unchanged, so all 304s). The warm update passes `scheduled=False`: since
3.21 reader only updates feeds whose update interval has passed, and none has a minute after
the cold update, so this is reader's spelling of talkwatch's `poll --once --all`. Times are
measured in process around each call, so they leave out interpreter start-up and imports.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from _proc import vm_hwm
from reader import make_reader


def main(argv: Sequence[str] | None = None) -> int:
    """Run the cold and warm updates and print their timings as JSON."""
    parser = argparse.ArgumentParser(description="Time reader.update_feeds on a corpus.")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--urls", type=Path, required=True, help="file with one URL a line")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args(argv)
    urls = args.urls.read_text().split()

    setup_start = time.perf_counter()
    reader = make_reader(str(args.db))
    for url in urls:
        reader.add_feed(url)
    setup_s = time.perf_counter() - setup_start

    start = time.perf_counter()
    reader.update_feeds(workers=args.workers)
    cold_s = time.perf_counter() - start
    cold_entries = reader.get_entry_counts().total
    cold_hwm = vm_hwm()

    start = time.perf_counter()
    reader.update_feeds(workers=args.workers, scheduled=False)
    warm_s = time.perf_counter() - start
    warm_entries = reader.get_entry_counts().total

    errors = {feed.url: repr(feed.last_exception) for feed in reader.get_feeds(broken=True)}
    reader.close()
    result = {
        "setup_s": setup_s,
        "cold_s": cold_s,
        "warm_s": warm_s,
        "cold_entries": cold_entries,
        "warm_entries": warm_entries,
        "feeds": len(urls),
        "broken_feeds": len(errors),
        "errors": dict(list(errors.items())[:5]),
        "cold_vm_hwm": cold_hwm,
        "vm_hwm": vm_hwm(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
