"""Retag benchmark: `talkwatch retag` over a store of 100,000 items.

    .venv/bin/python bench/retag.py              # 100,000 items
    .venv/bin/python bench/retag.py --items 20000

Builds a database of N items from the ingest benchmark's generated headlines and summaries
(stored untagged, as after a profile change), then times `talkwatch --db DB retag` as a whole
subprocess, start-up included: once when every item changes, once when none does.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from corpus import build_corpus  # noqa: E402

from feeds.models import Entry  # noqa: E402
from feeds.parse import parse_body  # noqa: E402
from feeds.store import Store  # noqa: E402


def build_store(path: Path, items: int) -> None:
    """Fill a new store with `items` untagged items made from the generated corpus."""
    documents = build_corpus(feeds=200, items=50)
    texts = [
        (e.title, e.summary)
        for doc in documents
        for e in parse_body("rss", doc.body, url="http://127.0.0.1/").entries
    ]
    now = datetime(2025, 6, 10, 12, tzinfo=UTC)
    with Store(path) as store:
        sources = [
            store.add_source(f"http://127.0.0.1/{i}.xml", name=f"feed {i}", now=now).id
            for i in range(100)
        ]
        batch: list[Entry] = []
        for n in range(items):
            title, summary = texts[n % len(texts)]
            batch.append(Entry(guid=f"item-{n}", title=title, summary=summary))
            if len(batch) == 1000:
                store.add_entries(sources[n % len(sources)], batch, now)
                batch = []
        if batch:
            store.add_entries(sources[0], batch, now)


def timed(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--talkwatch", default=str(HERE.parent / ".venv" / "bin" / "talkwatch"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="talkwatch-retag-") as tmp:
        db = Path(tmp) / "retag.db"
        print(f"building a store of {args.items:,} items ...", file=sys.stderr)
        build_store(db, args.items)
        for label in ("every item changes", "nothing changes"):
            seconds, out = timed([args.talkwatch, "--db", str(db), "retag"])
            print(f"{label:<20} {seconds:6.2f} s  {args.items / seconds:9,.0f} items/s  ({out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
