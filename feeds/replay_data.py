"""The bundled London talks replay as data: its manifest, sources and items (issue #5).

``seeds/london-2025-06-10/`` holds how the talks were reported, one TOML file of item records per
source plus a ``sources.toml`` manifest (see its header for the format). :func:`load_replay`
reads and checks it; :mod:`feeds.replay` plays it over HTTP.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from feeds.errors import ConfigError
from feeds.models import WIRE_KEYS, SourceKind
from feeds.seeds import seeds_dir

REPLAY_NAME = "london-2025-06-10"
# Monday 9 June 2025, 08:00 in London (BST): the replay clock's default start.
DEFAULT_START = datetime(2025, 6, 9, 7, 0, tzinfo=UTC)
# Replay seconds per real second: an hour in 10 s, the main day (10 June, 10:00 to midnight) in
# under 2.5 minutes, the whole replay in about 9 (the manifest may set its own).
DEFAULT_SPEED = 360.0
# A response lists at most this many items, newest first, as real feeds keep only the latest.
MAX_ITEMS = 50
# How long a "timeout" source keeps a request waiting unless the manifest says.
DEFAULT_HANG = 45.0

ReplayKind = Literal["rss", "atom", "jsonfeed", "wire"]
REPLAY_KINDS: tuple[ReplayKind, ...] = ("rss", "atom", "jsonfeed", "wire")
FAILURES = ("500", "timeout")
EXTENSIONS: Mapping[str, str] = {"rss": "rss", "atom": "atom", "jsonfeed": "json", "wire": "json"}
CONTENT_TYPES: Mapping[str, str] = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "jsonfeed": "application/feed+json; charset=utf-8",
    "wire": "application/json; charset=utf-8",
}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# --- the replay as data --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplayItem:
    """One item record: an original story or, with ``revises``, a later version of one."""

    id: str
    time: datetime  # aware
    title: str
    summary: str = ""
    link: str = ""
    lang: str = ""
    revises: str | None = None


@dataclass(frozen=True, slots=True)
class ReplaySource:
    """One source of the replay, with its items and how it misbehaves."""

    id: str
    name: str
    kind: ReplayKind
    tier: str = ""
    title: str = ""
    link: str = ""
    lang: str = ""
    items: tuple[ReplayItem, ...] = ()  # originals, oldest first
    revisions: tuple[ReplayItem, ...] = ()  # later versions, oldest first
    wire: Mapping[str, str] = field(default_factory=dict)
    fail: str | None = None  # "500" or "timeout"
    fail_from: datetime | None = None
    fail_until: datetime | None = None
    hang: float = DEFAULT_HANG

    @property
    def poll_kind(self) -> SourceKind:
        """The kind the poller reads this source as (Atom is read by the ``rss`` parser)."""
        if self.kind == "jsonfeed":
            return "jsonfeed"
        if self.kind == "wire":
            return "wire"
        return "rss"

    @property
    def path(self) -> str:
        """Where the server serves this source, e.g. ``/northgate.rss``."""
        return f"/{self.id}.{EXTENSIONS[self.kind]}"

    def entry_id(self, item_id: str) -> str:
        """The id an item is served under: Atom wants an IRI, so a tag URI there."""
        if self.kind == "atom" and ":" not in item_id:
            return f"tag:talkwatch.replay,2025:{item_id}"
        return item_id

    def failing(self, now: datetime) -> bool:
        """Whether the source misbehaves at replay time ``now``."""
        if self.fail is None:
            return False
        if self.fail_from is not None and now < self.fail_from:
            return False
        return self.fail_until is None or now < self.fail_until

    def visible(self, now: datetime, limit: int = MAX_ITEMS) -> list[ReplayItem]:
        """The items published by ``now``, newest first, each in its latest version by then."""
        latest: dict[str, ReplayItem] = {}
        for revision in self.revisions:
            if revision.time <= now and revision.revises is not None:
                latest[revision.revises] = revision  # oldest first, so the last one wins
        shown = [item for item in self.items if item.time <= now]
        shown.sort(key=lambda item: item.time, reverse=True)
        return [_revised(item, latest.get(item.id)) for item in shown[:limit]]

    def changed_at(self, now: datetime) -> datetime | None:
        """When what the source shows last changed, as of ``now`` (its Last-Modified)."""
        times = [r.time for r in (*self.items, *self.revisions) if r.time <= now]
        return max(times) if times else None


@dataclass(frozen=True, slots=True)
class Replay:
    """The whole replay: where it starts, how fast it plays, and its sources."""

    path: Path
    name: str
    profile: str
    start: datetime
    speed: float
    sources: tuple[ReplaySource, ...]

    @property
    def items(self) -> int:
        """How many distinct items (revisions not counted) the sources publish."""
        return sum(len(source.items) for source in self.sources)

    @property
    def first(self) -> datetime:
        return min(r.time for s in self.sources for r in (*s.items, *s.revisions))

    @property
    def last(self) -> datetime:
        return max(r.time for s in self.sources for r in (*s.items, *s.revisions))

    def source(self, source_id: str) -> ReplaySource:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)


def replay_dir() -> Path:
    """The bundled replay's directory (``seeds/london-2025-06-10``, or in a wheel its copy)."""
    return seeds_dir() / REPLAY_NAME


def load_replay(path: Path | None = None) -> Replay:
    """Read a replay directory: ``sources.toml`` and one item file per source.

    Args:
        path: the directory; ``None`` means the bundled London replay (:func:`replay_dir`).

    Returns:
        The replay, every item checked (times aware, ids unique, revisions after what they revise).

    Raises:
        ConfigError: a file is missing or not TOML, or a source or item is invalid (file and id
            named).
    """
    path = path or replay_dir()
    manifest = path / "sources.toml"
    data = _read_toml(manifest)
    meta = data.get("replay", {})
    if not isinstance(meta, dict):
        raise ConfigError(f"{manifest}: [replay] must be a table")
    start = _when(meta.get("start", DEFAULT_START), f"{manifest}: [replay] start")
    speed = meta.get("speed", DEFAULT_SPEED)
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not positive(speed):
        raise ConfigError(f"{manifest}: [replay] speed: expected a positive number, got {speed!r}")
    raw_sources = data.get("source", [])
    if not isinstance(raw_sources, list) or not raw_sources:
        raise ConfigError(f"{manifest}: no [[source]] tables")
    sources: list[ReplaySource] = []
    for index, raw in enumerate(raw_sources, start=1):
        source = _load_source(path, manifest, index, raw)
        if any(s.id == source.id for s in sources):
            raise ConfigError(f"{manifest}: source #{index}: duplicate id {source.id!r}")
        if any(s.name == source.name for s in sources):
            raise ConfigError(f"{manifest}: source #{index}: duplicate name {source.name!r}")
        sources.append(source)
    return Replay(
        path=path,
        name=str(meta.get("name", path.name)),
        profile=str(meta.get("profile", "")),
        start=start,
        speed=float(speed),
        sources=tuple(sources),
    )


def _load_source(path: Path, manifest: Path, index: int, raw: Any) -> ReplaySource:
    where = f"{manifest}: source #{index}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    known = {
        "id",
        "name",
        "kind",
        "tier",
        "file",
        "wire",
        "fail",
        "fail_from",
        "fail_until",
        "hang",
    }
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    source_id = raw.get("id")
    if not isinstance(source_id, str) or not _ID_RE.match(source_id):
        raise ConfigError(f"{where}: id: expected lower-case letters, digits and '-'")
    where = f"{manifest}: source {source_id!r}"
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name: expected a non-empty string")
    kind = raw.get("kind", "rss")
    if kind not in REPLAY_KINDS:
        raise ConfigError(f"{where}: kind: expected one of {', '.join(REPLAY_KINDS)}, got {kind!r}")
    wire = raw.get("wire", {})
    if not isinstance(wire, dict) or not all(isinstance(v, str) for v in wire.values()):
        raise ConfigError(f"{where}: wire: expected a table of dotted paths")
    if set(wire) - WIRE_KEYS:
        raise ConfigError(
            f"{where}: wire: unknown field(s) {', '.join(sorted(set(wire) - WIRE_KEYS))}"
        )
    if kind == "wire" and set(wire) != WIRE_KEYS:
        missing = ", ".join(sorted(WIRE_KEYS - set(wire)))
        raise ConfigError(f"{where}: wire: a wire source maps every field (missing: {missing})")
    fail = raw.get("fail")
    if fail is not None and fail not in FAILURES:
        raise ConfigError(f"{where}: fail: expected one of {', '.join(FAILURES)}, got {fail!r}")
    fail_from = _when(raw["fail_from"], f"{where}: fail_from") if "fail_from" in raw else None
    fail_until = _when(raw["fail_until"], f"{where}: fail_until") if "fail_until" in raw else None
    hang = raw.get("hang", DEFAULT_HANG)
    if isinstance(hang, bool) or not isinstance(hang, int | float) or not positive(hang):
        raise ConfigError(f"{where}: hang: expected a positive number of seconds, got {hang!r}")
    file = path / str(raw.get("file", f"{source_id}.toml"))
    items, revisions, head = _load_items(file)
    return ReplaySource(
        id=source_id,
        name=name.strip(),
        kind=kind,
        tier=str(raw.get("tier", "")),
        title=str(head.get("title", name)),
        link=str(head.get("link", "")),
        lang=str(head.get("lang", "")),
        items=items,
        revisions=revisions,
        wire=dict(wire),
        fail=fail,
        fail_from=fail_from,
        fail_until=fail_until,
        hang=float(hang),
    )


def _load_items(
    file: Path,
) -> tuple[tuple[ReplayItem, ...], tuple[ReplayItem, ...], dict[str, Any]]:
    data = _read_toml(file)
    raw_items = data.get("item", [])
    if not isinstance(raw_items, list):
        raise ConfigError(f"{file}: item: expected [[item]] tables")
    lang = str(data.get("lang", ""))
    originals: dict[str, ReplayItem] = {}
    revisions: list[ReplayItem] = []
    seen: set[str] = set()
    for number, raw in enumerate(raw_items, start=1):
        if not isinstance(raw, dict):
            raise ConfigError(f"{file}: item #{number}: expected a table")
        item_id = raw.get("id")
        if not isinstance(item_id, str) or not item_id.strip():
            raise ConfigError(f"{file}: item #{number}: id: expected a non-empty string")
        where = f"{file}: item {item_id!r}"
        if item_id in seen:
            raise ConfigError(f"{where}: duplicate id")
        seen.add(item_id)
        title = raw.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ConfigError(f"{where}: title: expected a non-empty string")
        for key in ("summary", "link", "lang", "revises"):
            if key in raw and not isinstance(raw[key], str):
                raise ConfigError(f"{where}: {key}: expected a string")
        item = ReplayItem(
            id=item_id,
            time=_when(raw.get("time"), f"{where}: time"),
            title=title,
            summary=raw.get("summary", ""),
            link=raw.get("link", ""),
            lang=raw.get("lang", lang),
            revises=raw.get("revises"),
        )
        if item.revises is None:
            if not item.link.startswith(("https://", "http://")):
                raise ConfigError(f"{where}: link: expected an absolute http(s) URL")
            originals[item_id] = item
        else:
            revisions.append(item)
    for revision in revisions:
        target = originals.get(revision.revises or "")
        where = f"{file}: item {revision.id!r}"
        if target is None:
            raise ConfigError(
                f"{where}: revises {revision.revises!r}, which is not an original item"
            )
        if revision.time <= target.time:
            raise ConfigError(f"{where}: a revision must come after the item it revises")
    by_time = sorted(originals.values(), key=lambda item: item.time)
    revisions.sort(key=lambda item: item.time)
    head = {k: v for k, v in data.items() if k != "item"}
    return tuple(by_time), tuple(revisions), head


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc


def _when(value: Any, where: str) -> datetime:
    """A time from the replay files: a TOML offset date-time or an ISO 8601 string with offset."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: not an ISO 8601 time: {value!r}") from exc
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ConfigError(f"{where}: expected a date-time with a UTC offset, got {value!r}")
    return value


def positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def _revised(item: ReplayItem, revision: ReplayItem | None) -> ReplayItem:
    if revision is None:
        return item
    return ReplayItem(
        id=item.id,
        time=item.time,
        title=revision.title,
        summary=revision.summary,
        link=revision.link or item.link,
        lang=item.lang,
        revises=revision.id,  # served as the original's id; remembers which version it shows
    )
