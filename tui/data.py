"""What the dashboard reads from the store in one refresh, and the connection it reads through.

The app never queries on its own thread: a worker thread calls :func:`load_snapshot` and posts
the result. All reads go through one :class:`Reader`, whose connection a lock keeps to one thread
at a time (a cancelled thread worker cannot be stopped mid-query, so the next refresh may start
while it finishes). One connection, because ``PRAGMA data_version`` only means something when
asked of the same connection twice: a refresh compares it with the version of the snapshot on
screen and reads nothing more when they match.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from feeds.models import Source, StoredItem
from feeds.profile import Profile
from feeds.store import ItemTotals, PollerInfo, Store
from tui.format import day_start, talk_zone

# The headline pane holds at most this many items (the newest).
PANE_LIMIT = 200
HOURS = 24


@dataclass(frozen=True, slots=True)
class View:
    """What the headline pane asks for."""

    related_only: bool = True
    keyword: str = ""
    person: str | None = None  # a person id from the profile


@dataclass(frozen=True, slots=True)
class Mentions:
    """One person's mentions: today (in the talks' zone), the latest, and per hour for a day."""

    today: int = 0
    last: datetime | None = None
    hourly: tuple[int, ...] = (0,) * HOURS  # oldest hour first, the current hour last


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one refresh read, as of ``now``."""

    view: View
    now: datetime
    version: int
    items: tuple[StoredItem, ...] = ()
    sources: tuple[Source, ...] = ()
    pollers: tuple[PollerInfo, ...] = ()
    totals: ItemTotals = field(default_factory=ItemTotals)
    mentions: Mapping[str, Mentions] = field(default_factory=dict)
    new_alerts: tuple[StoredItem, ...] = ()
    max_id: int = 0


class Reader:
    """The dashboard's connection to the database, used by one thread at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._store: Store | None = None

    @contextlib.contextmanager
    def store(self) -> Iterator[Store]:
        """The connection, held for the duration of the ``with`` block."""
        with self._lock:
            if self._store is None:
                self._store = Store(self.path, create=False)
            yield self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def load_snapshot(
    store: Store,
    profile: Profile,
    view: View,
    now: datetime,
    *,
    after_id: int | None = None,
    limit: int = PANE_LIMIT,
) -> Snapshot:
    """Read what the dashboard shows.

    Args:
        store: an open store (not shared with another thread meanwhile).
        profile: the talk profile (its first zone decides "today").
        view: the headline pane's filters.
        now: the clock.
        after_id: the newest item id of the previous refresh; alerts stored after it are
            returned as new. ``None`` (the first refresh) returns none.
        limit: the most headlines to read.
    """
    version = store.data_version()  # first: a write during the reads shows up next time
    zone = talk_zone(profile)
    today = day_start(now, zone)
    items = store.get_items(
        keyword=view.keyword or None,
        related_only=view.related_only,
        limit=limit,
        tag=f"person:{view.person}" if view.person else None,
    )
    window = now - timedelta(hours=HOURS)
    rows = store.get_mentions(min(today, window), related_only=view.related_only)
    max_id = store.max_item_id()
    new_alerts = store.get_new_alerts(after_id) if after_id is not None else []
    return Snapshot(
        view=view,
        now=now,
        version=version,
        items=tuple(items),
        sources=tuple(store.get_sources()),
        pollers=tuple(store.get_pollers()),
        totals=store.count_items_since(today),
        mentions=count_mentions(rows, now, today),
        new_alerts=tuple(new_alerts),
        max_id=max_id,
    )


def count_mentions(
    rows: list[tuple[str, datetime]], now: datetime, today: datetime
) -> dict[str, Mentions]:
    """Per person id: mentions since ``today``, the latest, and per hour over the last day."""
    start = now - timedelta(hours=HOURS)
    counts: dict[str, int] = {}
    last: dict[str, datetime] = {}
    hourly: dict[str, list[int]] = {}
    for tag, when in rows:
        person = tag.partition(":")[2]
        if when >= today:
            counts[person] = counts.get(person, 0) + 1
        last[person] = when  # rows come oldest first
        offset = (when - start).total_seconds()
        if 0 <= offset and when <= now:
            hours = hourly.setdefault(person, [0] * HOURS)
            hours[min(int(offset // 3600), HOURS - 1)] += 1
    return {
        person: Mentions(
            today=counts.get(person, 0),
            last=last.get(person),
            hourly=tuple(hourly.get(person, [0] * HOURS)),
        )
        for person in set(counts) | set(last)
    }
