"""Group commit for the poller: many sources' writes, one transaction.

The poller's fetches finish in bursts. Each finished source becomes a *job* (write its items,
record its health). Jobs that arrive within a few milliseconds of each other share one
transaction, so a round of 200 sources costs a handful of commits instead of 200; SQLite's cost
here is per commit (index and full-text pages rewritten each time), not per row.

Each job runs in its own savepoint, so a source's items and its health are written together, and
a bug in one job rolls back that job alone. Writes run on the event loop's thread: handing them to
another thread costs more in GIL hand-offs than the writes themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from feeds.store import Store

T = TypeVar("T")

# How long the first job of a group waits for company before the group is written.
GATHER_SECONDS = 0.005
# A transaction takes at most this many jobs, so it stays short for other writers.
MAX_JOBS = 64


class GroupWriter:
    """Queues write jobs and commits them in groups on the event loop's thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[tuple[Callable[[Store], Any], asyncio.Future[Any]]] = []
        self._timer: asyncio.TimerHandle | None = None

    async def write(self, job: Callable[[Store], T]) -> T:
        """Run ``job`` in the next group's transaction and return what it returned.

        The write happens even if the awaiting task is cancelled meanwhile: a result that
        reached the queue is never dropped (see :meth:`flush`).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((job, future))
        if len(self._pending) >= MAX_JOBS:
            self.flush()
        elif self._timer is None:
            self._timer = loop.call_later(GATHER_SECONDS, self.flush)
        return await asyncio.shield(future)

    def flush(self) -> None:
        """Write every queued job now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._pending:
            batch, self._pending = self._pending[:MAX_JOBS], self._pending[MAX_JOBS:]
            outcomes: list[tuple[bool, Any]] = []
            try:
                with self.store.transaction():
                    for job, _future in batch:
                        try:
                            with self.store.transaction():  # a savepoint per job
                                outcomes.append((True, job(self.store)))
                        except Exception as exc:  # noqa: BLE001 - re-raised in the awaiting task
                            outcomes.append((False, exc))
            except Exception as exc:  # noqa: BLE001 - the commit failed: every job learns why
                outcomes = [(False, exc)] * len(batch)
            for (_job, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.cancelled():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
