"""Shared fixtures: a real feed server on 127.0.0.1, a real SQLite file, a fixed clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.config import PollConfig
from feeds.store import Store
from tests.feedserver import FeedServer

DATA = Path(__file__).parent / "data"
# A copy of the team's shared corpus of real published feeds (see its SOURCES.md), kept in the
# repository so a clean clone tests against it wherever it is checked out.
REAL_FEEDS = DATA / "real-feeds"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's real config or database."""
    monkeypatch.setenv("TALKWATCH_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("TALKWATCH_DB", str(tmp_path / "env.db"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "talkwatch.db") as db:
        yield db


@pytest.fixture
def poll_config() -> PollConfig:
    """Short timeouts so failure tests finish fast; parsing in a thread."""
    return PollConfig(connect_timeout=2.0, read_timeout=2.0, deadline=5.0, workers=1, jitter=0.0)


NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the tagger's figures on the labelled set (issue #3) at the end of every run."""
    from tests import test_tagging

    for name, line in test_tagging.FIGURES.items():
        terminalreporter.write_line(f"{name}: {line}")
