"""``talkwatch retag``: items tagged on ingest are tagged again after the talk profile changes.

Items come in through a real ``poll --once`` against the feed server on 127.0.0.1, tagged with the
bundled London profile; then a copy of that profile is edited and ``retag`` runs with it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from feeds.cli import main
from feeds.models import Entry
from feeds.profile import load_profile
from feeds.seeds import seeds_dir
from feeds.store import Store
from feeds.tagging import Tagger
from tests.conftest import NOW
from tests.feedgen import E, rss
from tests.feedserver import FeedServer, Route

BUNDLED = seeds_dir() / "london-2025.toml"

CONFIG = """\
profile = "{profile}"

[poll]
connect_timeout = 2.0
read_timeout = 2.0
deadline = 5.0
workers = {workers}
"""

LUTNICK = "Lutnick says China will ease export controls on rare earths"
LIU = "Liu Jianchao meets Bessent"
WIMBLEDON = "Wimbledon: Draper through to the third round"
OPENING = "He Lifeng and Bessent open talks at Lancaster House"

ITEMS = [
    E("w-1", LUTNICK, "The commerce secretary spoke after a call on Thursday."),
    E("w-2", LIU, "The two men spoke briefly."),
    E("w-3", WIMBLEDON, "The British number one won in straight sets."),
    E("w-4", OPENING, "Day one of the US-China talks began in London."),
]

# The edit: "Lutnick" alone no longer names him (only "Howard Lutnick" does), and the profile
# gains a Chinese delegate. The Lutnick item loses its only US-side match and stops being related;
# the Liu item gains a China-side match next to Bessent and becomes related. The other two stay.
LUTNICK_ALIASES = '"Howard Lutnick", "Lutnick", '
NEW_PERSON = """\
[[person]]
id = "liu-jianchao"
name = "Liu Jianchao"
side = "cn"
role = "Party envoy"
aliases = ["Liu Jianchao"]

"""
TOPICS_MARK = "# --- Topics"

RETAG_RE = re.compile(
    r"^retagged (?P<seen>\d+) items with profile '(?P<profile>[^']+)': (?P<changed>\d+) changed;"
    r" \d+\.\d\ds$"
)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines()]

    def retagged(self) -> tuple[int, int]:
        """(items seen, items changed) from retag's one output line."""
        assert self.code == 0, self
        lines = self.out.splitlines()
        assert len(lines) == 1, self.out
        match = RETAG_RE.match(lines[0])
        assert match, lines[0]
        assert match["profile"] == "london-2025"
        return int(match["seen"]), int(match["changed"])


class Talkwatch:
    """``talkwatch --db DB --config CONFIG ...`` in-process; the config can be swapped."""

    def __init__(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        self.capsys = capsys
        self.tmp_path = tmp_path
        self.db = tmp_path / "talkwatch.db"
        self.config = self.use_profile("london-2025")

    def use_profile(self, profile: str, *, workers: int = 1) -> Path:
        """Point the config at ``profile`` (a name in seeds/ or a path)."""
        self.config = self.tmp_path / "config.toml"
        text = CONFIG.format(profile=profile, workers=workers)
        self.config.write_text(text, encoding="utf-8")
        return self.config

    def __call__(self, *args: str) -> Run:
        self.capsys.readouterr()
        code = main(["--db", str(self.db), "--config", str(self.config), *args])
        out, err = self.capsys.readouterr()
        return Run(code, out, err)

    def items(self) -> dict[str, dict[str, Any]]:
        run = self("search", "--all", "--json")
        assert run.code == 0, run
        return {row["title"]: row for row in run.json_lines()}


@pytest.fixture
def tw(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Talkwatch:
    return Talkwatch(capsys, tmp_path)


@pytest.fixture
def polled(tw: Talkwatch, feed_server: FeedServer) -> Talkwatch:
    """ITEMS polled once through the CLI, tagged on ingest with the bundled profile."""
    feed_server.routes["/wire.rss"] = Route(body=rss(ITEMS))
    assert tw("sources", "add", feed_server.url("/wire.rss"), "--name", "Wire").code == 0
    run = tw("poll", "--once")
    assert run.code == 0, run
    assert "4 new" in run.out
    return tw


@pytest.fixture
def edited_profile(tmp_path: Path) -> Path:
    text = BUNDLED.read_text(encoding="utf-8")
    assert text.count(LUTNICK_ALIASES) == 1 and text.count(TOPICS_MARK) == 1
    text = text.replace(LUTNICK_ALIASES, '"Howard Lutnick", ')
    text = text.replace(TOPICS_MARK, NEW_PERSON + TOPICS_MARK)
    path = tmp_path / "london-edited.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_poll_tags_items_on_ingest(polled: Talkwatch) -> None:
    items = polled.items()

    assert set(items) == {LUTNICK, LIU, WIMBLEDON, OPENING}
    lutnick = items[LUTNICK]
    assert "person:lutnick" in lutnick["tags"]
    assert "topic:export-controls" in lutnick["tags"]
    assert lutnick["people"] == ["Howard Lutnick"]
    assert lutnick["related"] is True
    assert items[OPENING]["people"] == ["Scott Bessent", "He Lifeng"]  # profile order
    assert "place:lancaster-house" in items[OPENING]["tags"]
    assert items[OPENING]["related"] is True
    # Bessent alone is one side of the talks: not related, though he is tagged.
    assert items[LIU]["tags"] == ["person:bessent"]
    assert items[LIU]["related"] is False
    assert items[WIMBLEDON]["tags"] == [] and items[WIMBLEDON]["people"] == []
    assert items[WIMBLEDON]["related"] is False


def test_retag_with_unchanged_profile_changes_nothing(polled: Talkwatch) -> None:
    before = polled.items()

    assert polled("retag").retagged() == (4, 0)
    assert polled.items() == before


def test_retag_after_profile_edit_counts_changed_items(
    polled: Talkwatch, edited_profile: Path
) -> None:
    polled.use_profile(str(edited_profile))

    assert polled("retag").retagged() == (4, 2)  # the Lutnick and the Liu items


def test_retag_after_profile_edit_stores_new_tags(polled: Talkwatch, edited_profile: Path) -> None:
    before = polled.items()
    polled.use_profile(str(edited_profile))

    polled("retag").retagged()

    after = polled.items()
    assert "person:liu-jianchao" in after[LIU]["tags"]
    assert after[LIU]["people"] == ["Scott Bessent", "Liu Jianchao"]
    assert after[LIU]["related"] is True
    assert "person:lutnick" not in after[LUTNICK]["tags"]
    assert after[LUTNICK]["people"] == []
    assert after[LUTNICK]["related"] is False
    assert after[LUTNICK]["score"] < before[LUTNICK]["score"]
    for title in (WIMBLEDON, OPENING):
        assert after[title] == before[title]
    related = polled("search", "--json")
    assert sorted(row["title"] for row in related.json_lines()) == sorted([LIU, OPENING])


def test_retag_twice_second_run_changes_nothing(polled: Talkwatch, edited_profile: Path) -> None:
    polled.use_profile(str(edited_profile))
    assert polled("retag").retagged() == (4, 2)
    tagged = polled.items()

    assert polled("retag").retagged() == (4, 0)
    assert polled.items() == tagged


def test_retag_back_to_bundled_profile_restores_ingest_tags(
    polled: Talkwatch, edited_profile: Path
) -> None:
    ingested = polled.items()
    polled.use_profile(str(edited_profile))
    polled("retag").retagged()

    polled.use_profile("london-2025")

    assert polled("retag").retagged() == (4, 2)
    assert polled.items() == ingested


def test_retag_empty_database_reports_zero(tw: Talkwatch) -> None:
    Store(tw.db).close()

    assert tw("retag").retagged() == (0, 0)


def test_retag_without_database_is_one_line_error(tw: Talkwatch) -> None:
    run = tw("retag")

    assert run.code == 1
    assert run.out == ""
    assert run.err.startswith("talkwatch: error: ")
    assert run.err.count("\n") == 1, run.err
    assert str(tw.db) in run.err and "no database" in run.err
    assert sorted(p.name for p in tw.tmp_path.iterdir()) == ["config.toml"]


# -- a larger store -----------------------------------------------------------------------------

# Every text matches something in the profile, so every item's stored tags must change.
TEXTS = [
    ("Bessent and He Lifeng resume talks in London, round {n}", "The US-China talks go on."),
    ("Tariff on steel imports rises again, week {n}", "Customs data show the change."),
    ("Lutnick visits a factory in Ohio, stop {n}", ""),
    ("China's rare earth exports fall for month {n}", "Magnet makers report shortages."),
    ("Trump plays golf in Scotland, hole {n}", ""),
    ("Wimbledon tickets sell out in London, day {n}", ""),
    ("中美经贸磋商 第{n}轮 在伦敦举行", "何立峰与贝森特会谈。"),
]


# retag tags in this process below 2 batches of 2,000 items, in worker processes above.
@pytest.mark.parametrize(
    ("count", "workers"), [(3000, 1), (4500, 2)], ids=["in-process", "worker-processes"]
)
def test_retag_tags_every_item_of_larger_store(tw: Talkwatch, count: int, workers: int) -> None:
    tw.use_profile("london-2025", workers=workers)
    entries = []
    for n in range(count):
        title, summary = TEXTS[n % len(TEXTS)]
        entries.append(
            Entry(
                guid=f"bulk-{n}",
                title=title.format(n=n),
                summary=summary,
                url=f"https://news.example/bulk/{n}",
                published=NOW - timedelta(minutes=n),
            )
        )
    with Store(tw.db) as store:
        source = store.add_source("https://news.example/bulk.rss", name="Bulk", now=NOW)
        assert store.add_entries(source.id, entries, NOW).new == count
        assert not any(item.tags for item in store.iter_items())  # stored untagged
    tagger = Tagger(load_profile(BUNDLED))
    expected = {e.guid: tagger.tag(e.title, e.summary) for e in entries}
    assert all(t.tags for t in expected.values())

    assert tw("retag").retagged() == (count, count)

    with Store(tw.db, create=False) as store:
        stored = {item.guid: item for item in store.iter_items()}
        related = store.get_items(related_only=True, limit=None)
    assert len(stored) == count
    for guid, tagging in expected.items():
        item = stored[guid]
        assert (item.tags, item.people, item.related, item.score) == (
            tagging.tags,
            tagging.people,
            tagging.related,
            tagging.score,
        ), guid
    expected_related = sum(t.related for t in expected.values())
    assert 0 < expected_related < count
    assert len(related) == expected_related
