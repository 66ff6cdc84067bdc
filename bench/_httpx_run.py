"""The bare httpx loop of the ingest benchmark: fetch URLs and do nothing else.

Run by bench/ingest.py as its own process, once cold and once warm, so that its wall time
includes interpreter start-up as talkwatch's does:

    python bench/_httpx_run.py --urls urls.txt --validators v.json --mode cold
    python bench/_httpx_run.py --urls urls.txt --validators v.json --mode warm

One `httpx.AsyncClient`, at most `--concurrency` requests in flight and `--per-host` per host
(talkwatch's defaults: 16 and 8). Cold reads every body in full (decoded, as a poller must)
and writes the ETag/Last-Modified it got to the validators file; warm sends them back as
If-None-Match/If-Modified-Since and expects 304s. Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import httpx
from _proc import vm_hwm

Validators = dict[str, dict[str, str]]


async def fetch_all(
    urls: Sequence[str], validators: Validators, concurrency: int, per_host: int
) -> tuple[Counter[int], int, Validators]:
    """Fetch every URL, returning status counts, body bytes read and the new validators."""
    overall = asyncio.Semaphore(concurrency)
    hosts: dict[str, asyncio.Semaphore] = {}
    statuses: Counter[int] = Counter()
    seen: Validators = {}
    received = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(30.0, connect=5.0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout, trust_env=False) as client:

        async def fetch(url: str) -> None:
            nonlocal received
            host = httpx.URL(url).host
            gate = hosts.setdefault(host, asyncio.Semaphore(per_host))
            headers: dict[str, str] = {}
            cached = validators.get(url, {})
            if "etag" in cached:
                headers["If-None-Match"] = cached["etag"]
            if "last_modified" in cached:
                headers["If-Modified-Since"] = cached["last_modified"]
            async with overall, gate:
                response = await client.get(url, headers=headers)
                body = await response.aread()
            received += len(body)
            statuses[response.status_code] += 1
            kept = {
                key: value
                for key, value in (
                    ("etag", response.headers.get("ETag")),
                    ("last_modified", response.headers.get("Last-Modified")),
                )
                if value is not None
            }
            seen[url] = kept or cached

        await asyncio.gather(*(fetch(url) for url in urls))
    return statuses, received, seen


def main(argv: Sequence[str] | None = None) -> int:
    """Fetch the URLs once, print the timings as JSON."""
    parser = argparse.ArgumentParser(description="Fetch URLs with httpx and nothing else.")
    parser.add_argument("--urls", type=Path, required=True, help="file with one URL a line")
    parser.add_argument("--validators", type=Path, required=True, help="JSON file of ETags")
    parser.add_argument("--mode", choices=("cold", "warm"), required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--per-host", type=int, default=8)
    args = parser.parse_args(argv)
    urls = args.urls.read_text().split()
    validators: Validators = {}
    if args.mode == "warm":
        validators = json.loads(args.validators.read_text())
    start = time.perf_counter()
    statuses, received, seen = asyncio.run(
        fetch_all(urls, validators, args.concurrency, args.per_host)
    )
    elapsed = time.perf_counter() - start
    if args.mode == "cold":
        args.validators.write_text(json.dumps(seen))
    result = {
        "mode": args.mode,
        "urls": len(urls),
        "inproc_s": elapsed,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "body_bytes": received,
        "vm_hwm": vm_hwm(),
    }
    print(json.dumps(result))
    return 0 if set(statuses) <= {200, 304} else 1


if __name__ == "__main__":
    raise SystemExit(main())
