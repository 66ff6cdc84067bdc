"""Work that runs in processes of its own: parsing during polls, tagging during retags.

Both are CPU-bound Python, so they use one process per core. The pool's processes are forked
when this process is still single-threaded (nothing is imported twice, the workers start at
once), and otherwise started from a forkserver. Each worker gets the talk profile's tagger once,
when it starts.
"""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

from feeds.models import ParsedFeed, Tagging
from feeds.parse import feedparser_rules, parse_body
from feeds.store import Store, TagColumns, tag_columns
from feeds.tagging import Tagger

TagRow = tuple[int, str, str]  # item id, title, summary


class ParsePool:
    """Runs :func:`parse_body` off the event loop: in worker processes, or a thread.

    Args:
        workers: processes to use; 0 means one per core; 1 parses in a thread (no processes),
            which is cheaper when there is little to parse.
    """

    def __init__(self, workers: int = 0, tagger: Tagger | None = None) -> None:
        count = workers or (os.cpu_count() or 1)
        self.workers = count
        self.tagger = tagger
        self._executor: Executor | None = None

    def start(self) -> None:
        """Start the worker processes now (otherwise the first parse starts them).

        Starting early, while the caller is still single-threaded, lets the workers be forked
        (see :func:`_context`); a poll of feeds that all answer 304 never needs them.
        """
        if self._executor is None and self.workers > 1:
            self._executor = make_pool(self.workers, self.tagger)

    async def parse(
        self,
        kind: str,
        body: bytes,
        *,
        url: str,
        content_type: str = "",
        options: Mapping[str, Any] | None = None,
    ) -> ParsedFeed:
        """Parse in the pool; raises :class:`ParseError` like :func:`parse_body`."""
        opts = dict(options or {})
        self.start()
        if self._executor is None:
            return await asyncio.to_thread(
                parse_body,
                kind,
                body,
                url=url,
                content_type=content_type,
                options=opts,
                tagger=self.tagger,
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, parse_in_worker, kind, body, url, content_type, opts
        )

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def make_pool(workers: int, tagger: Tagger | None) -> ProcessPoolExecutor:
    """A process pool whose workers hold ``tagger``; its processes start at once."""
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_context(),
        initializer=_set_worker_tagger,
        initargs=(tagger,),
    )
    pool.submit(_noop)  # the pool forks its workers on the first job
    return pool


def default_workers() -> int:
    return os.cpu_count() or 1


def _context() -> multiprocessing.context.BaseContext:
    """How to start worker processes.

    ``fork`` when this process has a single thread: workers start at once with everything
    imported, and nothing is imported twice. Forking a process that runs other threads can copy
    a lock in a held state, so otherwise ``forkserver``: workers start from a clean
    single-threaded server that imported feedparser once.
    """
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        feedparser_rules()  # feedparser imported and read once here, shared by every worker
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["feeds.workers", "feedparser"])
    return context


def _noop() -> None:
    """A job that makes the pool start its workers."""


# The tagger of this worker process, set once when the pool starts it.
_worker_tagger: Tagger | None = None


def _set_worker_tagger(tagger: Tagger | None) -> None:
    global _worker_tagger
    _worker_tagger = tagger


def parse_in_worker(
    kind: str, body: bytes, url: str, content_type: str, options: dict[str, Any]
) -> ParsedFeed:
    """:func:`feeds.parse.parse_body` with this worker's tagger."""
    return parse_body(
        kind, body, url=url, content_type=content_type, options=options, tagger=_worker_tagger
    )


def tag_in_worker(rows: Sequence[TagRow]) -> list[tuple[int, TagColumns]]:
    """Tag (id, title, summary) rows with this worker's tagger, in their stored form."""
    tagger = _worker_tagger
    assert tagger is not None, "the pool was made without a tagger"
    return [(item_id, tag_columns(tagger.tag(title, summary))) for item_id, title, summary in rows]


def retag_batches(
    store: Store, tagger: Tagger, *, workers: int = 0, batch: int = 2000
) -> Iterator[Sequence[tuple[int, Tagging | TagColumns]]]:
    """Every stored item tagged again, in batches, tagged in worker processes when it pays.

    The next batches are read and handed to the workers while the last one is written.
    """
    count = workers or default_workers()
    if count == 1 or store.count_items() < 2 * batch:
        for rows in store.iter_texts(batch):
            yield [(i, tagger.tag(title, summary)) for i, title, summary in rows]
        return
    pool = make_pool(count, tagger)
    try:
        pending: collections.deque[Future[list[tuple[int, TagColumns]]]] = collections.deque()
        for rows in store.iter_texts(batch):
            pending.append(pool.submit(tag_in_worker, rows))
            if len(pending) > 2 * count:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(cancel_futures=True)
