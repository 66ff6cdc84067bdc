"""Talk profiles: one TOML file describes one negotiation (see seeds/london-2025.toml).

A profile is data, not code. It names the talks, the venue, the time zones to show, the
schedule, the delegations (with every alias a headline may use), the topics and places with
weighted terms, the alert rules and the relevance threshold. Mistakes are reported as one line
naming the file, the line and the key.

Terms are plain text (matched case-insensitively, word by word for Latin script, as substrings
for Chinese and Japanese) or, with a ``re:`` prefix, regular expressions.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeds.errors import ConfigError

PROFILE_KEYS = frozenset(
    {"talks", "session", "person", "topic", "place", "context", "alert", "exclude"}
)
TALKS_KEYS = frozenset(
    {
        "id",
        "name",
        "venue",
        "timezones",
        "start",
        "end",
        "threshold",
        "title_weight",
        "sides",
        "require_all_sides",
    }
)
SESSION_KEYS = frozenset({"name", "start", "end"})
PERSON_KEYS = frozenset(
    {"id", "name", "side", "role", "aliases", "context_aliases", "weight", "leader"}
)
TERMS_KEYS = frozenset({"id", "name", "terms", "weight", "side"})
ALL_SIDES = "all"
ALERT_KEYS = frozenset({"id", "name", "terms", "with"})
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True, slots=True)
class Session:
    """One block of the talks' schedule."""

    name: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Person:
    """A delegate or leader, with every form a headline may use for them.

    ``context_aliases`` (bare surnames that are also common words or other people's names)
    count only when the item has other talk context.
    """

    id: str
    name: str
    side: str
    role: str
    aliases: tuple[str, ...]
    context_aliases: tuple[str, ...] = ()
    weight: float = 2.0
    leader: bool = False


@dataclass(frozen=True, slots=True)
class TermGroup:
    """A topic, a place or a context: weighted terms under one tag."""

    kind: str  # "topic", "place" or "context"
    id: str
    name: str
    terms: tuple[str, ...]
    weight: float
    side: str = ""  # a side of the talks these terms point to, "all" for both, "" for none

    @property
    def tag(self) -> str | None:
        """The stored tag (context terms only add to the score and tag nothing)."""
        return None if self.kind == "context" else f"{self.kind}:{self.id}"


@dataclass(frozen=True, slots=True)
class AlertRule:
    """An alert: any of ``terms``, and (if given) any of ``with``, in a related item."""

    id: str
    name: str
    terms: tuple[str, ...]
    with_terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Profile:
    """A negotiation, as the tagger and the dashboard need it."""

    id: str
    name: str
    venue: str
    timezones: tuple[str, ...]
    start: date | None  # first day of the talks (in the first time zone)
    end: date | None
    threshold: float
    title_weight: float
    sides: dict[str, str]
    require_all_sides: bool
    sessions: tuple[Session, ...]
    people: tuple[Person, ...]
    groups: tuple[TermGroup, ...]
    alerts: tuple[AlertRule, ...]
    exclude: tuple[str, ...]
    path: Path | None = None

    def side_name(self, side: str) -> str:
        return self.sides.get(side, side)


def profile_path(name: str, seeds: Path) -> Path:
    """A profile given as a path, or as the name of a file in ``seeds``."""
    candidate = Path(name).expanduser()
    if candidate.suffix == ".toml" or candidate.parent != Path("."):
        return candidate
    return seeds / f"{name}.toml"


def load_profile(path: Path) -> Profile:
    """Read and check a talk profile.

    Raises:
        ConfigError: the file is missing, not TOML, or has an unknown key, a bad value, a bad
            regular expression or a duplicate id (the message names file, line and key).
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: talk profile not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read talk profile: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        line = match.group(1) if match else str(len(text.splitlines()) or 1)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(f"{path}:{line}: not valid TOML: {message}") from exc
    return _Reader(path, text).profile(data)


class _Reader:
    """Turns a parsed profile into records, reporting mistakes with their line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def fail(self, table: str | None, index: int | None, key: str | None, message: str) -> NoReturn:
        line = self.line_of(table, index, key)
        where = f"{self.path}:{line}" if line else str(self.path)
        name = table or ""
        if index is not None:
            name += f"[{index}]"
        if key:
            name = f"{name}.{key}" if name else key
        raise ConfigError(f"{where}: {name}: {message}")

    def line_of(self, table: str | None, index: int | None, key: str | None) -> int | None:
        """The line of ``key`` in the ``index``-th ``[[table]]`` (or in ``[table]``)."""
        seen = -1
        inside = table is None
        quoted = re.escape(key or "")
        key_re = re.compile(rf"""^\s*(?:{quoted}|"{quoted}"|'{quoted}')\s*=""") if key else None
        header_line: int | None = None
        for number, line in enumerate(self.lines, start=1):
            header = re.match(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$", line)
            if header:
                name = header.group(1)
                if table is None and key is not None and name.split(".")[0].strip() == key:
                    return number  # a misspelt table: [[persons]]
                if table is not None and name == table:
                    seen += 1
                    inside = index is None or seen == index
                    if inside:
                        header_line = number
                else:
                    inside = False
                continue
            if inside and key_re is not None and key_re.match(line):
                return number
        return header_line

    def profile(self, data: dict[str, Any]) -> Profile:
        for key in data:
            if key not in PROFILE_KEYS:
                self.fail(None, None, key, f"unknown key (expected one of: {_names(PROFILE_KEYS)})")
        talks = data.get("talks")
        if not isinstance(talks, dict):
            self.fail("talks", None, None, "missing [talks] table")
        self.check_keys("talks", None, talks, TALKS_KEYS)
        talk_id = self.ident("talks", None, talks)
        timezones = tuple(self.strings("talks", None, talks, "timezones", required=False))
        for zone in timezones:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a directory
                self.fail("talks", None, "timezones", f"unknown time zone {zone!r}")
        sides = talks.get("sides", {})
        if not isinstance(sides, dict) or not all(isinstance(v, str) for v in sides.values()):
            self.fail("talks", None, "sides", "expected a table of side = display name")
        sessions = tuple(self.session(i, raw) for i, raw in enumerate(self.tables(data, "session")))
        people = tuple(
            self.person(i, raw, sides) for i, raw in enumerate(self.tables(data, "person"))
        )
        groups: list[TermGroup] = []
        for kind in ("topic", "place", "context"):
            groups += [
                self.group(kind, i, raw, sides) for i, raw in enumerate(self.tables(data, kind))
            ]
        alerts = tuple(self.alert(i, raw) for i, raw in enumerate(self.tables(data, "alert")))
        checks: tuple[tuple[str, Sequence[Person | TermGroup | AlertRule]], ...] = (
            ("person", people),
            ("topic", [g for g in groups if g.kind == "topic"]),
            ("place", [g for g in groups if g.kind == "place"]),
            ("context", [g for g in groups if g.kind == "context"]),
            ("alert", alerts),
        )
        for kind, items in checks:
            seen: set[str] = set()
            for index, item in enumerate(items):
                if item.id in seen:
                    self.fail(kind, index, "id", f"duplicate id {item.id!r}")
                seen.add(item.id)
        exclude = data.get("exclude", [])
        if not isinstance(exclude, list) or not all(isinstance(e, str) for e in exclude):
            self.fail(None, None, "exclude", "expected a list of phrases")
        for phrase in exclude:
            self.check_term(None, None, "exclude", phrase)
        start, end = self.day("talks", None, talks, "start"), self.day("talks", None, talks, "end")
        if start is not None and end is not None and end < start:
            self.fail("talks", None, "end", "the talks end before they start")
        return Profile(
            id=talk_id,
            name=self.text("talks", None, talks, "name"),
            venue=self.text("talks", None, talks, "venue", required=False),
            timezones=timezones,
            start=start,
            end=end,
            threshold=self.number("talks", None, talks, "threshold", default=3.0),
            title_weight=self.number("talks", None, talks, "title_weight", default=1.5),
            sides=dict(sides),
            require_all_sides=self.flag("talks", None, talks, "require_all_sides"),
            sessions=sessions,
            people=people,
            groups=tuple(groups),
            alerts=alerts,
            exclude=tuple(exclude),
            path=self.path,
        )

    def tables(self, data: dict[str, Any], name: str) -> list[dict[str, Any]]:
        raw = data.get(name, [])
        if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
            self.fail(name, None, None, f"expected [[{name}]] tables")
        return list(raw)

    def check_keys(
        self, table: str, index: int | None, raw: dict[str, Any], allowed: frozenset[str]
    ) -> None:
        for key in raw:
            if key not in allowed:
                self.fail(table, index, key, f"unknown key (expected one of: {_names(allowed)})")

    def session(self, index: int, raw: dict[str, Any]) -> Session:
        self.check_keys("session", index, raw, SESSION_KEYS)
        start = self.when("session", index, raw, "start")
        end = self.when("session", index, raw, "end")
        assert start is not None and end is not None
        if end <= start:
            self.fail("session", index, "end", "ends before it starts")
        return Session(name=self.text("session", index, raw, "name"), start=start, end=end)

    def person(self, index: int, raw: dict[str, Any], sides: dict[str, str]) -> Person:
        self.check_keys("person", index, raw, PERSON_KEYS)
        side = self.text("person", index, raw, "side")
        if sides and side not in sides:
            self.fail("person", index, "side", f"unknown side {side!r} (see [talks] sides)")
        aliases = self.strings("person", index, raw, "aliases")
        context = self.strings("person", index, raw, "context_aliases", required=False)
        leader = raw.get("leader", False)
        if not isinstance(leader, bool):
            self.fail("person", index, "leader", "expected true or false")
        return Person(
            id=self.ident("person", index, raw),
            name=self.text("person", index, raw, "name"),
            side=side,
            role=self.text("person", index, raw, "role", required=False),
            aliases=tuple(aliases),
            context_aliases=tuple(context),
            weight=self.number("person", index, raw, "weight", default=2.0),
            leader=leader,
        )

    def group(self, kind: str, index: int, raw: dict[str, Any], sides: dict[str, str]) -> TermGroup:
        self.check_keys(kind, index, raw, TERMS_KEYS)
        group_id = self.ident(kind, index, raw)
        side = self.text(kind, index, raw, "side", required=False)
        if side and side != ALL_SIDES and side not in sides:
            self.fail(kind, index, "side", f"unknown side {side!r} (see [talks] sides, or 'all')")
        return TermGroup(
            kind=kind,
            id=group_id,
            name=self.text(kind, index, raw, "name", required=False) or group_id,
            terms=tuple(self.strings(kind, index, raw, "terms")),
            weight=self.number(kind, index, raw, "weight", default=1.0),
            side=side,
        )

    def alert(self, index: int, raw: dict[str, Any]) -> AlertRule:
        self.check_keys("alert", index, raw, ALERT_KEYS)
        alert_id = self.ident("alert", index, raw)
        return AlertRule(
            id=alert_id,
            name=self.text("alert", index, raw, "name", required=False) or alert_id,
            terms=tuple(self.strings("alert", index, raw, "terms")),
            with_terms=tuple(self.strings("alert", index, raw, "with", required=False)),
        )

    def ident(self, table: str, index: int | None, raw: dict[str, Any]) -> str:
        value = self.text(table, index, raw, "id")
        if not ID_RE.match(value):
            self.fail(table, index, "id", f"{value!r}: use lower-case letters, digits and '-'")
        return value

    def text(
        self, table: str, index: int | None, raw: dict[str, Any], key: str, *, required: bool = True
    ) -> str:
        value = raw.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(table, index, key, "missing" if value is None else "expected text")
        return str(value).strip()

    def strings(
        self, table: str, index: int | None, raw: dict[str, Any], key: str, *, required: bool = True
    ) -> list[str]:
        value = raw.get(key)
        if value is None and not required:
            return []
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            self.fail(table, index, key, "expected a non-empty list of strings")
        for term in value:
            self.check_term(table, index, key, term)
        return [v.strip() for v in value]

    def check_term(self, table: str | None, index: int | None, key: str, term: str) -> None:
        if term.startswith("re:"):
            try:
                re.compile(term[3:])
            except re.error as exc:
                self.fail(table, index, key, f"bad regular expression {term[3:]!r}: {exc}")

    def flag(self, table: str, index: int | None, raw: dict[str, Any], key: str) -> bool:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            self.fail(table, index, key, "expected true or false")
        return value

    def number(
        self, table: str, index: int | None, raw: dict[str, Any], key: str, *, default: float
    ) -> float:
        value = raw.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value < math.inf  # also refuses nan
        ):
            self.fail(table, index, key, f"expected a number >= 0, got {value!r}")
        return float(value)

    def when(
        self, table: str, index: int | None, raw: dict[str, Any], key: str, *, required: bool = True
    ) -> datetime | None:
        value = raw.get(key)
        if value is None and not required:
            return None
        if isinstance(value, datetime):
            if value.tzinfo is None:
                self.fail(table, index, key, "give a UTC offset (e.g. 2025-06-09T10:00:00+01:00)")
            return value
        self.fail(table, index, key, "expected a date-time with a UTC offset")

    def day(self, table: str, index: int | None, raw: dict[str, Any], key: str) -> date | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, datetime) or not isinstance(value, date):
            self.fail(table, index, key, "expected a date (e.g. 2025-06-09)")
        return value


def _names(keys: frozenset[str]) -> str:
    return ", ".join(sorted(keys))
