"""``talkwatch demo``: the London talks replay, a loopback feed server and the real poller.

Zero setup, no network: :func:`demo_session` starts a :class:`~feeds.replay.ReplayServer` on
127.0.0.1, opens a database (a fresh temporary one unless given a path) and adds the replay's
sources to it; the real :class:`~feeds.poller.Poller` then polls them over HTTP with short
intervals, tagging with the London profile. :func:`run_demo_headless` does all of it for a
number of seconds and returns a :class:`DemoSummary`; the dashboard path runs
:func:`run_demo_poller` in a thread of its own beside the UI (issue #5).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from feeds.config import PollConfig
from feeds.errors import ConfigError
from feeds.models import Source, utc_now
from feeds.poller import Poller
from feeds.replay import ReplayServer
from feeds.replay_data import Replay, load_replay, replay_dir
from feeds.seeds import load_talk_profile
from feeds.store import Store
from feeds.tagging import Tagger

__all__ = [
    "DEMO_CONFIG",
    "DemoSession",
    "DemoSourceStatus",
    "DemoSummary",
    "demo_config",
    "demo_session",
    "format_summary",
    "poll_demo",
    "prepare_demo",
    "replay_dir",
    "run_demo_headless",
    "run_demo_poller",
    "summarize_demo",
]

# The replay's sources poll every few seconds: at the default speed (360) five real seconds
# are half an hour of the talks. A 3 s deadline makes the hanging source fail visibly and soon;
# failures back off to at most 20 s so a recovering source (HTTP 500 until 08:00) comes back.
DEMO_CONFIG = PollConfig(
    interval=5.0,
    connect_timeout=2.0,
    read_timeout=2.0,
    deadline=3.0,
    max_backoff=20.0,
    jitter=0.1,
    workers=1,  # a few hundred items: parsing in a thread beats starting processes
)
# How often run_demo_poller looks at its threading.Event.
STOP_CHECK_SECONDS = 0.1
# The replay's times are London summer time.
LONDON = timezone(timedelta(hours=1), "BST")


def config_toml(config: PollConfig = DEMO_CONFIG) -> str:
    """The demo's poll settings as a config file, for a ``talkwatch poll`` child process."""
    lines = ['profile = "london-2025"', "", "[poll]"]
    for name in (
        "interval",
        "connect_timeout",
        "read_timeout",
        "deadline",
        "max_backoff",
        "jitter",
        "workers",
        "concurrency",
        "per_host",
    ):
        lines.append(f"{name} = {getattr(config, name)!r}")
    return "\n".join(lines) + "\n"


def demo_config(**changes: Any) -> PollConfig:
    """The demo's poll settings, with some changed (``demo_config(interval=1.0)``)."""
    return replace(DEMO_CONFIG, **changes)


@dataclass(frozen=True, slots=True)
class DemoSession:
    """A running demo: the replay server, the database and the sources added to it."""

    server: ReplayServer
    db_path: Path
    sources: tuple[Source, ...]
    temporary: bool  # the database (and its directory) is removed when the session ends

    @property
    def replay(self) -> Replay:
        return self.server.replay

    def clock(self) -> datetime:
        """The replay time now (aware, UTC): what the dashboard should call "now"."""
        return self.server.clock.now()


@dataclass(frozen=True, slots=True)
class DemoSourceStatus:
    """One source's health at the end of a demo run."""

    name: str
    kind: str
    url: str
    status: int | None  # last HTTP status (None: no answer)
    error: str | None  # last error, None when the last poll succeeded
    items: int
    polls: int
    failed_polls: int

    @property
    def ok(self) -> bool:
        return self.error is None and self.polls > 0


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What a headless demo run did."""

    seconds: float  # real time the poller ran
    speed: float
    replay_start: datetime
    replay_end: datetime  # the replay clock when the run ended
    items: int
    related: int
    alerts: int  # items with at least one alert:* tag
    revised: int  # items whose title or summary changed while we watched
    multi_source_stories: int  # stories reported by two sources or more
    requests: int  # HTTP requests the replay server answered
    sources: tuple[DemoSourceStatus, ...]
    db_path: Path | None  # None when the database was temporary and is gone

    @property
    def failing(self) -> tuple[DemoSourceStatus, ...]:
        return tuple(s for s in self.sources if s.error is not None)


def prepare_demo(
    db_path: Path | str,
    speed: float | None = None,
    *,
    start: datetime | None = None,
    hang: float | None = None,
    interval: float | None = None,
    replay: Replay | None = None,
) -> tuple[ReplayServer, list[Source]]:
    """Start the replay server and add its sources to the database at ``db_path``.

    A source already in the database under the same name (a demo run before, with ``--db``)
    gets the new server's URL and is due at once. The caller stops the server.

    Args:
        db_path: the database file (created if missing).
        speed: replay seconds per real second (default: the replay's, 360).
        start: where the replay clock starts (default: 9 June 2025, 08:00 London).
        hang: seconds the "timeout" source hangs (default: the replay's, longer than any deadline).
        interval: seconds between polls of each source (default: the demo's, 5).
        replay: what to serve (default: the bundled London replay).

    Returns:
        The started server and the sources as stored.

    Raises:
        ConfigError: a bad speed or start, or the replay files are invalid.
        StoreError: the database cannot be opened.
    """
    if speed is not None and not speed > 0:
        raise ConfigError(f"--speed: expected a positive number, got {speed!r}")
    if start is not None and start.utcoffset() is None:
        raise ConfigError("the replay start needs a time zone")
    replay = replay or load_replay()
    server = ReplayServer(replay, start=start, speed=speed, hang=hang)
    server.start()
    try:
        with Store(db_path) as store:
            sources = add_demo_sources(store, server, interval=interval or DEMO_CONFIG.interval)
    except BaseException:
        server.stop()
        raise
    return server, sources


def add_demo_sources(store: Store, server: ReplayServer, *, interval: float) -> list[Source]:
    """Add (or re-point) every replay source to the server's URLs, due now."""
    now = utc_now()
    added: list[Source] = []
    for replay_source in server.replay.sources:
        url = server.url(replay_source.id)
        kind = replay_source.poll_kind
        options = dict(replay_source.wire) if kind == "wire" else {}
        existing = store.get_source(replay_source.name)
        if existing is None:
            source = store.add_source(
                url,
                name=replay_source.name,
                kind=kind,
                interval=interval,
                tier=replay_source.tier,
                options=options,
                now=now,
            )
        else:
            store.update_source(
                existing.id,
                url=url,
                kind=kind,
                interval=interval,
                next_due=now,
                failures=0,
                retired_at=None,
                retired_reason=None,
            )
            source = store.get_source(existing.id) or existing
        added.append(source)
    return added


@contextlib.contextmanager
def demo_session(
    db_path: Path | str | None = None,
    speed: float | None = None,
    *,
    start: datetime | None = None,
    hang: float | None = None,
    interval: float | None = None,
) -> Iterator[DemoSession]:
    """A running demo for the duration of a ``with`` block; everything stops at its end.

    Without ``db_path`` the database lives in a new temporary directory that is removed at the
    end (every connection to it must be closed by then).
    """
    temp_dir: Path | None = None
    if db_path is None:
        temp_dir = Path(tempfile.mkdtemp(prefix="talkwatch-demo-"))
        db_path = temp_dir / "demo.db"
    try:
        server, sources = prepare_demo(db_path, speed, start=start, hang=hang, interval=interval)
        try:
            yield DemoSession(server, Path(db_path), tuple(sources), temp_dir is not None)
        finally:
            server.stop()
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


async def poll_demo(
    db_path: Path | str, stop: asyncio.Event, *, config: PollConfig = DEMO_CONFIG
) -> None:
    """Run the real poller over the demo database until ``stop`` is set.

    Items are tagged with the London talk profile as they arrive.
    """
    tagger = Tagger(load_talk_profile("london-2025"))
    with Store(db_path) as store:
        async with Poller(store, config, tagger=tagger) as poller:
            await poller.run(stop)


def run_demo_poller(
    db_path: Path | str, stop: threading.Event, *, config: PollConfig = DEMO_CONFIG
) -> None:
    """Poll the demo database in this thread (its own event loop) until ``stop`` is set.

    For the dashboard: run it in a thread beside the UI, set ``stop`` on quit, then join.
    """

    async def main() -> None:
        done = asyncio.Event()

        async def watch() -> None:
            # Polled, not waited on in a thread: a thread blocked in stop.wait() would keep
            # asyncio.run() from returning if the poller ended first.
            while not stop.is_set():
                await asyncio.sleep(STOP_CHECK_SECONDS)
            done.set()

        watcher = asyncio.create_task(watch())
        try:
            await poll_demo(db_path, done, config=config)
        finally:
            watcher.cancel()

    asyncio.run(main())


def run_demo_headless(
    db_path: Path | str | None,
    duration: float,
    speed: float | None = None,
    *,
    config: PollConfig = DEMO_CONFIG,
    start: datetime | None = None,
    hang: float | None = None,
) -> DemoSummary:
    """Run the demo without a screen for ``duration`` real seconds and sum it up.

    Args:
        db_path: the database (``None``: a temporary one, removed afterwards).
        duration: real seconds to poll.
        speed: replay seconds per real second (default 360: an hour every 10 s).
        config: poll settings (default :data:`DEMO_CONFIG`; its interval applies to every source).
        start: where the replay clock starts (default: 9 June 2025, 08:00 London).
        hang: seconds the "timeout" source hangs (default: the replay's).

    Returns:
        Items, related items, alerts and each source's health at the end.

    Raises:
        ConfigError: a bad duration or speed.
    """
    if not duration > 0:
        raise ConfigError(f"--duration: expected a positive number of seconds, got {duration!r}")
    with demo_session(db_path, speed, start=start, hang=hang, interval=config.interval) as session:
        began = time.monotonic()
        asyncio.run(_poll_for(session.db_path, duration, config))
        seconds = time.monotonic() - began
        summary = summarize_demo(session, seconds=seconds)
    return summary


async def _poll_for(db_path: Path, duration: float, config: PollConfig) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(duration, stop.set)
    await poll_demo(db_path, stop, config=config)


def summarize_demo(session: DemoSession, *, seconds: float = 0.0) -> DemoSummary:
    """Count what the demo's database holds now, and every source's health."""
    with Store(session.db_path, create=False) as store:
        items = related = alerts = revised = 0
        per_source: Counter[int] = Counter()
        story_sources: dict[str, set[int]] = {}
        for item in store.iter_items():
            items += 1
            related += item.related
            alerts += any(tag.startswith("alert:") for tag in item.tags)
            revised += item.revisions > 0
            per_source[item.source_id] += 1
            story_sources.setdefault(item.story_id, set()).add(item.source_id)
        kinds = {s.name: s.kind for s in session.replay.sources}  # "atom", not the parser's "rss"
        statuses = []
        for source in store.get_sources():
            log = store.get_fetch_log(source.id, limit=100_000)
            statuses.append(
                DemoSourceStatus(
                    name=source.name,
                    kind=kinds.get(source.name, source.kind),
                    url=source.url,
                    status=source.last_status,
                    error=source.last_error,
                    items=per_source[source.id],
                    polls=len(log),
                    failed_polls=sum(1 for row in log if row["error"]),
                )
            )
    order = {s.name: i for i, s in enumerate(session.replay.sources)}
    statuses.sort(key=lambda s: order.get(s.name, len(order)))
    return DemoSummary(
        seconds=seconds,
        speed=session.server.clock.speed,
        replay_start=session.server.clock.start,
        replay_end=session.clock(),
        items=items,
        related=related,
        alerts=alerts,
        revised=revised,
        multi_source_stories=sum(1 for ids in story_sources.values() if len(ids) > 1),
        requests=session.server.requests,
        sources=tuple(statuses),
        db_path=None if session.temporary else session.db_path,
    )


def format_summary(summary: DemoSummary) -> str:
    """A few lines for ``talkwatch demo --no-tui``: totals, then one line per source."""
    start = summary.replay_start.astimezone(LONDON)
    end = summary.replay_end.astimezone(LONDON)
    lines = [
        f"Replay {start:%a %d %b %H:%M} -> {end:%a %d %b %H:%M} London "
        f"(speed {summary.speed:g}x, {summary.seconds:.1f}s, {summary.requests} requests)",
        f"{summary.items} items, {summary.related} related, {summary.alerts} alerts, "
        f"{summary.revised} revised, {summary.multi_source_stories} stories from several sources",
    ]
    width = max((_width(s.name) for s in summary.sources), default=0)
    for source in summary.sources:
        status = str(source.status) if source.status is not None else "-"
        if source.error:
            state = f"error: {source.error}"
        elif source.polls:
            state = f"ok ({source.failed_polls} failed polls)" if source.failed_polls else "ok"
        else:
            state = "not polled yet"
        name = source.name + " " * (width - _width(source.name))
        lines.append(f"  {name}  {source.kind:<8} {status:>3}  {source.items:>3} items  {state}")
    return "\n".join(lines)


def _width(text: str) -> int:
    """Columns a terminal gives ``text`` (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
