"""Import boundaries, checked in a fresh interpreter: the headless core never loads the TUI."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def modules_after(code: str) -> set[str]:
    """The names in ``sys.modules`` after running ``code`` in a new interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def top_level(modules: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


def test_boundaries_poller_and_cli_do_not_import_textual() -> None:
    loaded = modules_after("import feeds.poller, feeds.cli")

    assert {"feeds.poller", "feeds.cli", "httpx"} <= loaded  # the import really happened
    assert "textual" not in top_level(loaded)
    assert "tui" not in top_level(loaded)


def test_boundaries_cli_command_does_not_import_textual(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    loaded = modules_after(
        "from feeds.cli import main\n"
        f"assert main(['--db', {str(db)!r}, 'sources', 'add', 'https://x.example/rss']) == 0\n"
        f"assert main(['--db', {str(db)!r}, 'sources', 'list']) == 0"
    )

    assert "rich" in top_level(loaded)  # the table was drawn
    assert "textual" not in top_level(loaded)
    assert "tui" not in top_level(loaded)


def test_boundaries_store_does_not_import_httpx() -> None:
    loaded = modules_after("import feeds.store")

    assert "feeds.store" in loaded
    assert "httpx" not in top_level(loaded)
    assert "feeds.fetch" not in loaded
    assert "textual" not in top_level(loaded)


@pytest.mark.skipif(
    importlib.util.find_spec("tui.app") is None, reason="tui/app.py does not exist yet"
)
def test_boundaries_tui_does_no_network_io() -> None:
    loaded = modules_after("import tui.app")

    assert "httpx" not in top_level(loaded)
    assert not {"feeds.fetch", "feeds.poller"} & loaded
