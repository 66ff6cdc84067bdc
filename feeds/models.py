"""Plain typed records that cross module boundaries.

Every record is a frozen, slotted dataclass: the store turns rows into these, the poller and the
UI speak only in these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

SourceKind = Literal["rss", "jsonfeed", "wire"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("rss", "jsonfeed", "wire")
# The fields a wire source's mapping may name (see feeds.parse.parse_wire).
WIRE_KEYS = frozenset({"items", "id", "title", "url", "time", "summary"})


def utc_now() -> datetime:
    """The real clock, aware and in UTC (tests pass their own clocks)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Source:
    """A feed the poller pulls, with its cache validators and health."""

    id: int
    name: str
    url: str
    kind: SourceKind = "rss"
    interval: int | None = None  # seconds; None means the configured default
    tier: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    last_poll_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    failures: int = 0
    next_due: datetime | None = None
    retired_at: datetime | None = None
    retired_reason: str | None = None
    last_new: int = 0
    min_interval: float | None = None  # seconds the server asked us to wait at least


@dataclass(frozen=True, slots=True)
class Tagging:
    """What the tagger found in one item (see feeds.tagging)."""

    tags: tuple[str, ...] = ()
    people: tuple[str, ...] = ()  # display names, in profile order
    related: bool = False
    score: float = 0.0
    matches: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # tag -> terms


@dataclass(frozen=True, slots=True)
class Entry:
    """One parsed and normalised feed entry, before it is stored.

    ``title`` and ``summary`` are plain text. ``url`` is the canonical link used for identity and
    grouping; ``link`` is the link as published (absolute). ``published`` is the feed's own time
    in UTC, or ``None`` when the feed gave none.
    """

    guid: str
    title: str
    summary: str = ""
    url: str = ""
    link: str = ""
    published: datetime | None = None
    title_key: str = ""  # normalised title for story grouping (computed where parsing runs)
    tagging: Tagging | None = None  # set where parsing runs, when a profile is loaded


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a parser made of one body."""

    entries: tuple[Entry, ...]
    title: str = ""
    ttl: int | None = None  # seconds, from RSS <ttl>
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one HTTP fetch that reached the server and was not an error.

    ``body`` is ``None`` for a 304. ``moved_to`` is set when every hop of the redirect chain was
    permanent, so the stored URL should change.
    """

    status: int
    url: str
    body: bytes | None = None
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    max_age: float | None = None  # seconds, from Cache-Control max-age or Expires
    moved_to: str | None = None
    elapsed: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What writing one source's entries changed."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as read back from the store."""

    id: int
    source: str
    source_id: int
    guid: str
    title: str
    summary: str
    url: str
    link: str
    published: datetime
    published_orig: datetime | None
    first_seen: datetime
    updated_at: datetime | None
    story_id: str
    story_sources: int = 1
    revisions: int = 0
    tags: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    related: bool = False
    score: float = 0.0
    matches: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
