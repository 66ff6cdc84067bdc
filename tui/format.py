"""Pure helpers the widgets share: times in the talks' zones, spans, sparklines, talk state.

Nothing here touches the screen or the database, so each is a plain function of its inputs
(the clock is always passed in).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from feeds.humanize import span
from feeds.profile import Person, Profile

# Zones whose city is not the name people use for that clock.
_ZONE_NAMES = {"Asia/Shanghai": "Beijing", "Asia/Calcutta": "Kolkata", "Asia/Saigon": "Ho Chi Minh"}
# Three-letter labels for narrow screens (city codes as newsrooms use them).
_ZONE_CODES = {
    "Europe/London": "LON",
    "America/New_York": "NYC",
    "Asia/Shanghai": "BJS",
    "Europe/Brussels": "BRU",
    "Europe/Paris": "PAR",
    "Europe/Berlin": "BER",
    "Asia/Tokyo": "TYO",
    "America/Los_Angeles": "LAX",
    "America/Chicago": "CHI",
    "Europe/Geneva": "GVA",
    "Europe/Zurich": "ZRH",
}
_BARS = "▁▂▃▄▅▆▇█"


def zone_name(zone: str) -> str:
    """A clock's label: ``Europe/London`` is London, ``Asia/Shanghai`` is Beijing."""
    return _ZONE_NAMES.get(zone) or zone.rsplit("/", 1)[-1].replace("_", " ")


def zone_code(zone: str) -> str:
    """A three-letter label for a narrow header (``LON``, ``NYC``, ``BJS``)."""
    return _ZONE_CODES.get(zone) or zone_name(zone).replace(" ", "")[:3].upper()


def talk_zone(profile: Profile) -> ZoneInfo:
    """The talks' own time zone (the profile's first), UTC when it names none."""
    return ZoneInfo(profile.timezones[0]) if profile.timezones else ZoneInfo("UTC")


def day_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Midnight of ``now``'s day in ``zone``, in UTC."""
    local = now.astimezone(zone)
    midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
    return midnight.astimezone(UTC)


def item_time(when: datetime, now: datetime, zone: ZoneInfo) -> str:
    """``HH:MM`` in the talks' zone, with the day (``9 Jun 14:05``) when it is not today."""
    local, today = when.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        return f"{local:%H:%M}"
    return f"{local.day} {local:%b %H:%M}"


def ago(when: datetime | None, now: datetime) -> str:
    """How long before ``now`` (``never`` for None)."""
    if when is None:
        return "never"
    return span((now - when).total_seconds())


def until(when: datetime | None, now: datetime) -> str:
    """How long until ``when`` (``now`` when due)."""
    if when is None:
        return "now"
    seconds = (when - now).total_seconds()
    return "now" if seconds <= 0 else span(seconds)


def sparkline(values: Sequence[int]) -> str:
    """One bar per value, scaled to the largest; a blank for zero."""
    top = max(values, default=0)
    if top <= 0:
        return " " * len(values)
    return "".join(
        " " if v <= 0 else _BARS[min(len(_BARS) - 1, (v * len(_BARS) - 1) // top)] for v in values
    )


def short_name(person: Person) -> str:
    """What a tag chip calls a person: the shortest one-word alias found in their name.

    ``Scott Bessent`` is Bessent and ``Xi Jinping`` is Xi (the name order of each culture comes
    from the profile's own aliases); without such an alias, the whole name (``He Lifeng``, whose
    surname alone is a pronoun).
    """
    words = person.name.split()
    singles = [a for a in (*person.aliases, *person.context_aliases) if a in words]
    return min(singles, key=len) if singles else person.name


def talk_state(profile: Profile, now: datetime) -> str:
    """Where the talks stand: before, ``day N · in session``, between sessions, or after.

    Days count from the profile's first day (or the first session's) in the talks' zone.
    Without a schedule the dates alone decide; without dates either, the state is empty.
    """
    zone = talk_zone(profile)
    sessions = sorted(profile.sessions, key=lambda s: s.start)
    first = profile.start or (sessions[0].start.astimezone(zone).date() if sessions else None)
    if first is None:
        return ""
    today = now.astimezone(zone).date()
    if not sessions:
        last = profile.end or first
        if today < first:
            return "before the talks"
        if today > last:
            return "after the talks"
        return f"day {(today - first).days + 1}"
    if now < sessions[0].start:
        return "before the talks"
    if now >= sessions[-1].end:
        return "after the talks"
    for session in sessions:
        if session.start <= now < session.end:
            day = session.start.astimezone(zone).date()
            return f"day {max((day - first).days + 1, 1)} · in session"
    return f"day {max((today - first).days + 1, 1)} · between sessions"


def is_new(first_seen: datetime, now: datetime, window: timedelta) -> bool:
    """Whether an item arrived within ``window`` before ``now``."""
    return timedelta(0) <= now - first_seen < window
