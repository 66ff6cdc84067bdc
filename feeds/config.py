"""Configuration: TOML at the platform config dir, with defaults for everything.

The file is optional. When present it is checked key by key, and a mistake is reported as one
line naming the file, the line and the key (``config.toml:7: [poll] interval: expected a
positive number, got "soon"``).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from feeds.errors import ConfigError

APP_NAME = "talkwatch"
VERSION = "0.1.0"
DEFAULT_PROFILE = "london-2025"
USER_AGENT = f"talkwatch/{VERSION} (+https://github.com/talkwatch/talkwatch; feed reader)"


MAX_NICE = 19


@dataclass(frozen=True, slots=True)
class PollConfig:
    """How the poller behaves; every field has a default that suits a day of talks."""

    interval: float = 300.0  # seconds between polls of one source, unless the source says
    concurrency: int = 16  # requests in flight overall
    per_host: int = 4  # requests in flight to one host
    connect_timeout: float = 5.0
    read_timeout: float = 10.0  # longest silence between two reads
    deadline: float = 30.0  # longest a whole request may take, drip-feeding servers included
    max_body_mb: float = 10.0  # cap on the decompressed body
    max_redirects: int = 5
    max_backoff: float = 6 * 3600.0  # longest wait after repeated failures
    jitter: float = 0.1  # +/- share of the interval
    user_agent: str = USER_AGENT
    workers: int = 0  # parser processes; 0 = one per core, 1 = parse in a thread
    nice: int = 10  # lower the poller's CPU priority this far (0-19): the dashboard comes first

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration, as read from one file (or the defaults)."""

    path: Path | None = None
    poll: PollConfig = field(default_factory=PollConfig)
    profile: str = DEFAULT_PROFILE


def default_config_path() -> Path:
    """Where the config file lives unless ``--config`` or ``TALKWATCH_CONFIG`` says otherwise."""
    env = os.environ.get("TALKWATCH_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_db_path() -> Path:
    """Where the database lives unless ``--db`` or ``TALKWATCH_DB`` says otherwise."""
    env = os.environ.get("TALKWATCH_DB")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME)) / "talkwatch.db"


def load_config(path: Path | None = None, *, explicit: bool = False) -> Config:
    """Read the config file, falling back to defaults when it does not exist.

    Args:
        path: the file; ``None`` means :func:`default_config_path`.
        explicit: the person named the file (``--config``), so a missing file is an error.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: the file is unreadable, not TOML, or has an unknown key or a bad value.
    """
    if path is None:
        path = default_config_path()
        explicit = explicit or "TALKWATCH_CONFIG" in os.environ
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: config file not found")
        return Config()
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, expected a TOML file")
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM (Notepad) is not an error
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _decode_error_line(str(exc)) or (len(text.splitlines()) or 1)
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{where}: not valid TOML: {_strip_position(str(exc))}") from exc
    return _build_config(path, text, data)


def _build_config(path: Path, text: str, data: Mapping[str, Any]) -> Config:
    known_top = {"poll", "profile"}
    for key in data:
        if key not in known_top:
            raise _key_error(
                path, text, None, key, f"unknown key (expected one of: {_list(known_top)})"
            )
    profile = data.get("profile", DEFAULT_PROFILE)
    if not isinstance(profile, str) or not profile.strip():
        raise _key_error(path, text, None, "profile", "expected the name or path of a talk profile")
    poll_table = data.get("poll", {})
    if not isinstance(poll_table, dict):
        raise _key_error(path, text, None, "poll", "expected a table: [poll]")
    poll = _build_poll(path, text, poll_table)
    return Config(path=path, poll=poll, profile=profile)


def _build_poll(path: Path, text: str, table: Mapping[str, Any]) -> PollConfig:
    defaults = PollConfig()
    known = {f.name for f in fields(PollConfig)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise _key_error(
                path, text, "poll", key, f"unknown key (expected one of: {_list(known)})"
            )
        default = getattr(defaults, key)
        if isinstance(default, str):
            if not isinstance(value, str) or not value.strip():
                raise _key_error(
                    path, text, "poll", key, f"expected a non-empty string, got {value!r}"
                )
        elif isinstance(default, int) and not isinstance(default, bool) and key != "jitter":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _key_error(
                    path, text, "poll", key, f"expected a whole number >= 0, got {value!r}"
                )
            if key in {"concurrency", "per_host"} and value < 1:
                raise _key_error(path, text, "poll", key, f"expected at least 1, got {value!r}")
            if key == "nice" and value > MAX_NICE:
                raise _key_error(
                    path, text, "poll", key, f"expected 0 to {MAX_NICE}, got {value!r}"
                )
        elif key == "jitter":
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 <= value < 1  # also refuses nan
            ):
                raise _key_error(
                    path, text, "poll", key, f"expected a share from 0 to below 1, got {value!r}"
                )
            value = float(value)
        else:
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise _key_error(
                    path, text, "poll", key, f"expected a positive number, got {value!r}"
                )
            value = float(value)
        values[key] = value
    return PollConfig(**values)


def _key_error(path: Path, text: str, table: str | None, key: str, message: str) -> ConfigError:
    line = find_key_line(text, table, key)
    where = f"{path}:{line}" if line else str(path)
    name = f"[{table}] {key}" if table else key
    return ConfigError(f"{where}: {name}: {message}")


def find_key_line(text: str, table: str | None, key: str) -> int | None:
    """The 1-based line where ``key`` is set inside ``[table]`` (``None`` = top level)."""
    current: str | None = None
    if table is not None:
        dotted = re.compile(rf"^\s*{re.escape(table)}\s*\.\s*{re.escape(key)}\s*=")
        for number, line in enumerate(text.splitlines(), start=1):
            if re.match(r"^\s*\[", line):
                break
            if dotted.match(line):
                return number
    key_re = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?", line)
        if header:
            current = header.group(1).strip()
            if table is None and current == key:
                return number
            continue
        if current == table and key_re.match(line):
            return number
    return None


def _decode_error_line(message: str) -> int | None:
    match = re.search(r"at line (\d+)", message)
    return int(match.group(1)) if match else None


def _strip_position(message: str) -> str:
    return re.sub(r"\s*\(at line \d+, column \d+\)", "", message).strip()


def _list(names: set[str]) -> str:
    return ", ".join(sorted(names))
