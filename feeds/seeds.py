"""Reading the bundled seeds: default source lists (and, later, talk profiles and replays).

No other module knows where ``seeds/`` lives. In a checkout it sits beside the packages; in an
installed wheel it is packaged as ``feeds/_seeds``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feeds.config import find_key_line
from feeds.errors import ConfigError
from feeds.models import SOURCE_KINDS
from feeds.profile import Profile, load_profile, profile_path


@dataclass(frozen=True, slots=True)
class SeedSource:
    """A source as listed in a seeds file, before it is in a database."""

    name: str
    url: str
    kind: str = "rss"
    tier: str = ""
    interval: float | None = None
    options: dict[str, Any] | None = None


def seeds_dir() -> Path:
    """The directory holding the bundled seeds."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_seeds", here.parent / "seeds"):
        if candidate.is_dir():
            return candidate
    raise ConfigError(
        f"bundled seeds not found (looked in {here / '_seeds'} and {here.parent / 'seeds'})"
    )


def load_talk_profile(name: str, base: Path | None = None) -> Profile:
    """The talk profile named in the config: a file in seeds/ by name, or a path.

    Args:
        name: ``london-2025`` (a file in seeds/) or a path to a ``.toml`` file.
        base: where a relative path starts (the config file's directory), else the current one.

    Raises:
        ConfigError: the profile is missing or invalid (file, line and key named).
    """
    path = profile_path(name, seeds_dir())
    if base is not None and not path.is_absolute() and path.parent != seeds_dir():
        path = base / path
    return load_profile(path)


def load_sources(path: Path | None = None) -> list[SeedSource]:
    """Read a ``[[source]]`` list (default: the London talks' sources).

    Raises:
        ConfigError: the file is not valid TOML or a source is incomplete.
    """
    path = path or seeds_dir() / "london-2025-sources.toml"
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    sources: list[SeedSource] = []
    for index, raw in enumerate(data.get("source", []), start=1):
        for key in ("name", "url"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise ConfigError(f"{path}: source #{index}: missing {key}")
        kind = raw.get("kind", "rss")
        if kind not in SOURCE_KINDS:
            line = find_key_line(text, "source", "kind")
            raise ConfigError(
                f"{path}:{line or '?'}: source {raw['name']!r}: unknown kind {kind!r}"
            )
        sources.append(
            SeedSource(
                name=raw["name"].strip(),
                url=raw["url"].strip(),
                kind=kind,
                tier=str(raw.get("tier", "")),
                interval=float(raw["interval"]) if "interval" in raw else None,
                options=dict(raw.get("options", {})),
            )
        )
    return sources
