"""The poller: fetch -> parse -> store, per source, on each source's own schedule.

One bad source never hurts another: every fetch or parse failure ends as a recorded source error
with a backoff, and the rest of the round goes on. Anything that is not a
:class:`~feeds.errors.FetchError` or :class:`~feeds.errors.ParseError` is a bug and propagates.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from feeds.config import PollConfig
from feeds.errors import FetchError, ParseError
from feeds.fetch import Limiter, fetch_source, make_client
from feeds.models import FetchResult, ParsedFeed, Source, StoreResult, utc_now
from feeds.store import FetchRecord, Store
from feeds.tagging import Tagger
from feeds.workers import ParsePool
from feeds.writes import GroupWriter

Clock = Callable[[], datetime]
# The longest a server's cache headers or <ttl> may stretch a source's interval.
MAX_SERVER_INTERVAL = 24 * 3600.0
# The longest we wait because a server said Retry-After.
MAX_RETRY_AFTER = 24 * 3600.0
HEARTBEAT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """What polling one source did."""

    source: Source
    ok: bool
    status: int | None = None
    error: str | None = None
    new: int = 0
    updated: int = 0
    not_modified: bool = False
    retired: bool = False
    moved_to: str | None = None
    next_due: datetime | None = None


@dataclass(slots=True)
class PollSummary:
    """Totals of one round (``poll --once``)."""

    outcomes: list[SourceOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> int:
        return sum(1 for o in self.outcomes if o.ok)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.ok)

    @property
    def new(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def updated(self) -> int:
        return sum(o.updated for o in self.outcomes)

    @property
    def not_modified(self) -> int:
        return sum(1 for o in self.outcomes if o.not_modified)

    def line(self) -> str:
        """The one-line summary ``poll --once`` prints."""
        return (
            f"{len(self.outcomes)} sources: {self.ok} ok, {self.failed} failed; "
            f"{self.new} new, {self.updated} updated, {self.not_modified} unchanged (304); "
            f"{self.seconds:.2f}s"
        )


class Poller:
    """Polls sources into a store.

    Args:
        store: where items and source health go (used from the event loop's thread only).
        config: the ``[poll]`` settings.
        clock: returns the current time (aware, UTC).
        rng: jitter source (seeded in tests).
        workers: parser processes (``None`` means the config's ``workers``).
        tagger: tags each new or revised item (``None``: items are stored untagged).
    """

    def __init__(
        self,
        store: Store,
        config: PollConfig,
        *,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
        workers: int | None = None,
        tagger: Tagger | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.rng = rng or random.Random()
        self.workers = config.workers if workers is None else workers
        self.tagger = tagger
        self._client: httpx.AsyncClient | None = None
        self._pool: ParsePool | None = None
        self._limiter: Limiter | None = None
        self._writer: GroupWriter | None = None

    async def __aenter__(self) -> Poller:
        self._client = make_client(self.config)
        self._limiter = Limiter(self.config.concurrency, self.config.per_host)
        self._writer = GroupWriter(self.store)
        self._in_flight = asyncio.Semaphore(self.config.concurrency)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self._pool is not None:
            self._pool.close()
        if self._writer is not None:
            # Queued writes finish before we return (SIGTERM loses nothing already fetched).
            self._writer.flush()

    @property
    def writer(self) -> GroupWriter:
        assert self._writer is not None, "use `async with Poller(...)`"
        return self._writer

    def _parser(self, sources: Sequence[Source] | None = None) -> ParsePool:
        if self._pool is None:
            # Processes pay off only when there is a round's worth of feeds to parse: feeds
            # never fetched before (no validators) will be parsed, the rest may well be 304s.
            fresh = sum(1 for s in sources or () if not (s.etag or s.last_modified))
            many = sources is not None and len(sources) >= 8
            self._pool = ParsePool(
                self.workers if many or self.workers == 1 else 1, tagger=self.tagger
            )
            if fresh >= 8:
                self._pool.start()
        return self._pool

    async def poll_once(
        self,
        sources: Iterable[Source] | None = None,
        *,
        on_done: Callable[[SourceOutcome], None] | None = None,
    ) -> PollSummary:
        """Poll the given sources (default: every due source) once, concurrently."""
        started = time.perf_counter()
        if sources is None:
            chosen = self.store.get_due_sources(self.clock())
        else:
            chosen = list(sources)
        self._parser(chosen)
        summary = PollSummary()

        async def one(source: Source) -> None:
            outcome = await self.poll_source(source)
            summary.outcomes.append(outcome)
            if on_done is not None:
                on_done(outcome)

        await asyncio.gather(*(one(source) for source in chosen))
        summary.seconds = time.perf_counter() - started
        return summary

    async def run(self, stop: asyncio.Event) -> None:
        """Poll due sources until ``stop`` is set, writing a heartbeat as we go.

        Stopping cancels fetches in flight; a write already under way completes first
        (each source's items go in one transaction, so nothing is left half-written).
        """
        started = self.clock()
        in_flight: dict[int, asyncio.Task[SourceOutcome]] = {}
        self.store.beat(started, started)
        self._parser(self.store.get_sources())
        try:
            while not stop.is_set():
                now = self.clock()
                self.store.beat(now, started)
                for source in self.store.get_due_sources(now):
                    if source.id not in in_flight:
                        task = asyncio.create_task(self.poll_source(source))
                        in_flight[source.id] = task
                        task.add_done_callback(_forget(in_flight, source.id))
                wait = HEARTBEAT_SECONDS
                next_due = self.store.next_due_time()
                if next_due is not None:
                    wait = min(wait, max(0.05, (next_due - self.clock()).total_seconds()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
        finally:
            for task in list(in_flight.values()):
                task.cancel()
            await asyncio.gather(*in_flight.values(), return_exceptions=True)
            self.writer.flush()
            self.store.end_beat()

    async def poll_source(self, source: Source, *, conditional: bool = True) -> SourceOutcome:
        """Fetch, parse and store one source, recording the outcome on the source."""
        assert self._client is not None and self._limiter is not None, "use `async with Poller`"
        started = time.perf_counter()
        # A body stays in memory from its fetch until it is parsed; bounding the sources
        # between those two points bounds memory when parsing lags behind the network.
        failure: tuple[Exception, int | None] | None = None
        async with self._in_flight:
            try:
                result = await fetch_source(
                    self._client, source, self.config, self._limiter, conditional=conditional
                )
                parsed: ParsedFeed | None = None
                if not result.not_modified:
                    parsed = await self._parse(source, result)
            except FetchError as exc:
                failure = (exc, exc.status)
            except ParseError as exc:
                failure = (exc, result.status)
        if failure is not None:
            return await self._record_failure(
                source, failure[0], time.perf_counter() - started, status=failure[1]
            )
        now = self.clock()
        min_interval = _server_interval(result.max_age, parsed.ttl if parsed else None)
        next_due = now + self._interval(source, min_interval)
        elapsed = time.perf_counter() - started

        def write(store: Store) -> StoreResult:
            # Items and the source's health commit together.
            stored = store.add_entries(source.id, parsed.entries, now) if parsed else StoreResult()
            store.record_fetch(
                source,
                FetchRecord(
                    at=now,
                    status=result.status,
                    error=None,
                    elapsed=elapsed,
                    next_due=next_due,
                    ok=True,
                    new=stored.new,
                    updated=stored.updated,
                    etag=result.etag,
                    last_modified=result.last_modified,
                    min_interval=min_interval,
                    moved_to=result.moved_to,
                ),
            )
            return stored

        stored = await self.writer.write(write)
        return SourceOutcome(
            source=source,
            ok=True,
            status=result.status,
            new=stored.new,
            updated=stored.updated,
            not_modified=result.not_modified,
            moved_to=result.moved_to,
            next_due=next_due,
        )

    async def _parse(self, source: Source, result: FetchResult) -> ParsedFeed:
        return await self._parser().parse(
            source.kind,
            result.body or b"",
            url=result.url,
            content_type=result.content_type,
            options=source.options,
        )

    async def _record_failure(
        self, source: Source, exc: Exception, elapsed: float, *, status: int | None = None
    ) -> SourceOutcome:
        now = self.clock()
        if isinstance(exc, FetchError):
            status = exc.status
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        failures = source.failures + 1
        base = self._base_interval(source)
        delay = min(self.config.max_backoff, base * 2 ** (failures - 1))
        delay *= 1 + self.rng.uniform(-self.config.jitter, self.config.jitter)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        retire = "HTTP 410 Gone" if status == 410 else None
        message = str(exc) if not isinstance(exc, ParseError) else f"parse: {exc}"
        next_due = now + timedelta(seconds=delay)
        record = FetchRecord(
            at=now,
            status=status,
            error=message[:500],
            elapsed=elapsed,
            next_due=next_due,
            ok=False,
            min_interval=source.min_interval,
            retire=retire,
        )
        await self.writer.write(lambda store: store.record_fetch(source, record))
        return SourceOutcome(
            source=source,
            ok=False,
            status=status,
            error=message,
            retired=retire is not None,
            next_due=next_due,
        )

    def _base_interval(self, source: Source) -> float:
        return float(source.interval or self.config.interval)

    def _interval(self, source: Source, min_interval: float | None) -> timedelta:
        jittered = self._base_interval(source) * (
            1 + self.rng.uniform(-self.config.jitter, self.config.jitter)
        )
        return timedelta(seconds=max(jittered, min_interval or 0.0))


def _forget(
    in_flight: dict[int, asyncio.Task[SourceOutcome]], source_id: int
) -> Callable[[asyncio.Task[SourceOutcome]], None]:
    def done(_task: asyncio.Task[SourceOutcome]) -> None:
        in_flight.pop(source_id, None)

    return done


def _server_interval(max_age: float | None, ttl: int | None) -> float | None:
    """The lower bound on a source's interval that the server asked for, capped."""
    values = [v for v in (max_age, float(ttl) if ttl else None) if v]
    if not values:
        return None
    return min(max(values), MAX_SERVER_INTERVAL)
