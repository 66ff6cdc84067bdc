"""OPML import and export through the command line, and read_opml/write_opml round trips."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from feeds.cli import main
from feeds.opml import read_opml, write_opml
from feeds.store import Store

NESTED = """\
<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Trade desk</title></head>
  <body>
    <outline text="Official">
      <outline text="USTR" title="USTR press releases" type="rss"
               xmlUrl="https://ustr.gov/rss.xml" htmlUrl="https://ustr.gov/"/>
      <outline text="China">
        <outline text="MOFCOM" type="atom" xmlUrl="https://mofcom.example/news.atom"/>
        <outline text="Xinhua JSON" type="json" xmlUrl="https://xinhua.example/feed.json"/>
      </outline>
    </outline>
    <outline text="Wires">
      <outline text="Newswire" xmlUrl="https://wire.example/api" talkwatchKind="wire"
               talkwatchTier="wire" talkwatchInterval="120"/>
      <outline text="USTR again" xmlUrl="https://ustr.gov/rss.xml"/>
      <outline text="A category with no feed"/>
    </outline>
    <outline text="Reuters &amp; Co" xmlurl="  https://reuters.example/rss  "/>
  </body>
</opml>
"""
NESTED_URLS = {
    "https://ustr.gov/rss.xml": ("USTR press releases", "rss"),
    "https://mofcom.example/news.atom": ("MOFCOM", "rss"),
    "https://xinhua.example/feed.json": ("Xinhua JSON", "jsonfeed"),
    "https://wire.example/api": ("Newswire", "wire"),
    "https://reuters.example/rss": ("Reuters & Co", "rss"),
}


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """No config file anywhere: every command runs on the defaults."""
    monkeypatch.delenv("TALKWATCH_CONFIG")


def run(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--db", str(db), *args])
    out, err = capsys.readouterr()
    return code, out, err


def sources(capsys: pytest.CaptureFixture[str], db: Path) -> list[dict[str, object]]:
    code, out, _ = run(capsys, db, "sources", "list", "--json")
    assert code == 0
    return [json.loads(line) for line in out.splitlines()]


def test_read_opml_flattens_categories(tmp_path: Path) -> None:
    path = tmp_path / "desk.opml"
    path.write_text(NESTED, encoding="utf-8")

    seeds = read_opml(path)

    assert [(s.url, s.name, s.kind) for s in seeds] == [
        ("https://ustr.gov/rss.xml", "USTR press releases", "rss"),
        ("https://mofcom.example/news.atom", "MOFCOM", "rss"),
        ("https://xinhua.example/feed.json", "Xinhua JSON", "jsonfeed"),
        ("https://wire.example/api", "Newswire", "wire"),
        ("https://ustr.gov/rss.xml", "USTR again", "rss"),
        ("https://reuters.example/rss", "Reuters & Co", "rss"),
    ]
    wire = seeds[3]
    assert (wire.tier, wire.interval) == ("wire", 120.0)


def test_import_opml_adds_every_feed_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "desk.opml"
    path.write_text(NESTED, encoding="utf-8")
    db = tmp_path / "t.db"

    code, out, _ = run(capsys, db, "import-opml", str(path))

    assert code == 0
    assert out == f"imported 5 sources from {path} (1 already present)\n"
    rows = sources(capsys, db)
    assert {row["url"]: (row["name"], row["kind"]) for row in rows} == NESTED_URLS
    assert all(row["health"] == "new" for row in rows)


def test_import_opml_twice_skips_known_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "desk.opml"
    path.write_text(NESTED, encoding="utf-8")
    db = tmp_path / "t.db"
    run(capsys, db, "import-opml", str(path))
    before = sources(capsys, db)

    code, out, _ = run(capsys, db, "import-opml", str(path))

    assert code == 0
    assert out == f"imported 0 sources from {path} (6 already present)\n"
    assert sources(capsys, db) == before


def test_import_opml_renames_clashing_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "t.db"
    run(capsys, db, "sources", "add", "https://mine.example/a.xml", "--name", "MOFCOM")
    path = tmp_path / "desk.opml"
    path.write_text(NESTED, encoding="utf-8")

    assert run(capsys, db, "import-opml", str(path))[0] == 0

    by_name = {row["name"]: row["url"] for row in sources(capsys, db)}
    assert by_name["MOFCOM"] == "https://mine.example/a.xml"
    assert by_name["MOFCOM (2)"] == "https://mofcom.example/news.atom"


@pytest.fixture
def populated_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    db = tmp_path / "t.db"
    adds = [
        [
            "https://news.example/rss.xml",
            "--name",
            'Reuters & <Co> "wire" 新华',
            "--interval",
            "90",
        ],
        ["https://json.example/feed.json", "--name", "JSON one", "--kind", "jsonfeed"],
        ["https://wire.example/api", "--name", "Wire", "--kind", "wire", "--tier", "wire"],
    ]
    for args in adds:
        assert run(capsys, db, "sources", "add", *args)[0] == 0
    return db


def expected_sources(db: Path) -> set[tuple[str, str, str, float | None, str]]:
    with Store(db) as store:
        return {(s.name, s.url, s.kind, s.interval, s.tier) for s in store.get_sources()}


def test_export_opml_to_file_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], populated_db: Path
) -> None:
    out_file = tmp_path / "out.opml"

    code, out, err = run(capsys, populated_db, "export-opml", str(out_file))

    assert code == 0
    assert out == ""
    assert err == f"wrote {out_file}\n"
    seeds = read_opml(out_file)
    assert {(s.name, s.url, s.kind, s.interval, s.tier) for s in seeds} == expected_sources(
        populated_db
    )
    assert len(seeds) == 3


def test_export_opml_to_stdout_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], populated_db: Path
) -> None:
    code, out, _ = run(capsys, populated_db, "export-opml")

    assert code == 0
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    copy = tmp_path / "copy.opml"
    copy.write_text(out, encoding="utf-8")
    seeds = read_opml(copy)
    assert {(s.name, s.url, s.kind) for s in seeds} == {
        (name, url, kind) for name, url, kind, _, _ in expected_sources(populated_db)
    }


def test_export_then_import_into_new_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], populated_db: Path
) -> None:
    out_file = tmp_path / "out.opml"
    run(capsys, populated_db, "export-opml", str(out_file))
    fresh = tmp_path / "fresh.db"

    code, out, _ = run(capsys, fresh, "import-opml", str(out_file))

    assert code == 0
    assert "imported 3 sources" in out
    assert expected_sources(fresh) == expected_sources(populated_db)


def test_export_opml_empty_database_is_valid_opml(tmp_path: Path) -> None:
    path = tmp_path / "empty.opml"
    path.write_text(write_opml([]), encoding="utf-8")

    assert read_opml(path) == []


def test_export_opml_unwritable_file_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], populated_db: Path
) -> None:
    target = tmp_path / "no-such-dir" / "out.opml"

    code, out, err = run(capsys, populated_db, "export-opml", str(target))

    assert code == 1
    assert out == ""
    assert err.startswith(f"talkwatch: error: {target}: cannot write")
    assert err.count("\n") == 1


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "nope.opml"


def _directory(tmp_path: Path) -> Path:
    folder = tmp_path / "folder.opml"
    folder.mkdir()
    return folder


def _not_xml(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.txt"
    path.write_text("https://ustr.gov/rss.xml\nhttps://wire.example/api\n", encoding="utf-8")
    return path


def _not_opml(tmp_path: Path) -> Path:
    path = tmp_path / "feed.xml"
    path.write_text('<rss version="2.0"><channel><title>x</title></channel></rss>\n')
    return path


def _truncated(tmp_path: Path) -> Path:
    path = tmp_path / "cut.opml"
    path.write_text(NESTED[: len(NESTED) // 2], encoding="utf-8")
    return path


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.opml"
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_missing, "file not found"),
        (_directory, "is a directory"),
        (_not_xml, "not valid OPML/XML"),
        (_not_opml, "not an OPML file (root element is <rss>)"),
        (_truncated, "not valid OPML/XML"),
        (_empty, "not valid OPML/XML"),
    ],
    ids=["missing", "directory", "not-xml", "not-opml", "truncated", "empty"],
)
def test_import_opml_bad_file_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Callable[[Path], Path], reason: str
) -> None:
    path = make(tmp_path)
    db = tmp_path / "t.db"

    code, out, err = run(capsys, db, "import-opml", str(path))

    assert code == 1
    assert out == ""
    assert err.startswith(f"talkwatch: error: {path}: ")
    assert reason in err
    assert err.count("\n") == 1
    assert not db.exists()  # nothing written for a file that could not be read


def test_import_opml_refuses_non_http_urls_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "odd.opml"
    path.write_text(
        '<opml version="2.0"><body>'
        '<outline text="ok" xmlUrl="https://ok.example/rss"/>'
        '<outline text="local" xmlUrl="file:///etc/passwd"/>'
        '<outline text="script" xmlUrl="javascript:alert(1)"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    db = tmp_path / "t.db"

    code, out, err = run(capsys, db, "import-opml", str(path))

    assert code == 0
    assert out == f"imported 1 sources from {path} (0 already present; 2 skipped, not http(s))\n"
    assert err.splitlines() == ["  skipped: file:///etc/passwd", "  skipped: javascript:alert(1)"]
    assert [row["url"] for row in sources(capsys, db)] == ["https://ok.example/rss"]
