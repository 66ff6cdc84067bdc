"""The shared corpus of real-world feeds, served over loopback HTTP and polled for real.

One module-scoped poll run (two rounds, parsing in a two-process pool) feeds the per-file and
whole-corpus tests; a pure test runs ``parse_body`` on each file directly.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feeds.config import PollConfig
from feeds.errors import ParseError
from feeds.models import Source, StoredItem, utc_now
from feeds.parse import parse_body
from feeds.poller import Poller, PollSummary, SourceOutcome
from feeds.seeds import load_talk_profile
from feeds.store import Store
from feeds.tagging import Tagger
from tests.conftest import REAL_FEEDS
from tests.feedgen import E, rss
from tests.feedserver import FeedServer, Route

pytestmark = pytest.mark.skipif(
    not REAL_FEEDS.is_dir(), reason=f"feed corpus not found at {REAL_FEEDS}"
)

FILES = (
    sorted(p for p in REAL_FEEDS.iterdir() if p.is_file() and p.suffix != ".md")
    if REAL_FEEDS.is_dir()
    else []
)
MALFORMED = "reuters-most-read-malformed.xml"
# Entries without a guid whose links differ only in the fragment (entries.php#111, #110, ...).
FRAGMENT_LINKS = "nixers-newsletter-nonrfc-dates.xml"

CONTROL_RE = re.compile("[\x00-\x1f\x7f\x80-\x9f]")
TAG_RE = re.compile(
    r"<\s*/?\s*(?:p|br|div|span|img|a|b|i|em|strong|ul|ol|li|table|tr|td|h[1-6]|iframe"
    r"|script|style|figure|blockquote)(?=[\s/>])",
    re.IGNORECASE,
)


def kind_of(path: Path) -> str:
    return "jsonfeed" if path.suffix == ".json" else "rss"


def content_type_of(path: Path) -> str:
    # No charset: the document's own declaration (or BOM) decides, as with most real servers.
    return "application/feed+json" if path.suffix == ".json" else "application/rss+xml"


@functools.cache
def entry_keys(path: Path) -> list[Any]:
    """What identifies each entry, read independently of feeds.parse."""
    body = path.read_bytes()
    if path.suffix == ".json":
        return [item.get("id") or item.get("url") for item in json.loads(body)["items"]]
    return [
        e.get("id") or e.get("link") or (e.get("title"), e.get("published"))
        for e in feedparser.parse(body).entries
        # Empty shells (illegally nested items) carry nothing to store.
        if any(e.get(k) for k in ("title", "summary", "link", "id", "content"))
    ]


def text_problems(name: str, title: str, summary: str) -> list[str]:
    problems = []
    for field, text in (("title", title), ("summary", summary)):
        if CONTROL_RE.search(text):
            problems.append(f"{name}: control character in {field}: {text[:80]!r}")
        if TAG_RE.search(text):
            problems.append(f"{name}: HTML tag in {field}: {text[:80]!r}")
    return problems


@dataclass
class CorpusRun:
    first: dict[str, SourceOutcome]
    second: PollSummary
    sources: dict[str, Source]  # after the first round
    items: dict[str, list[StoredItem]]  # after the first round
    count_after_first: int
    count_after_second: int
    pool_workers: int
    server: FeedServer


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CorpusRun]:
    server = FeedServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = PollConfig(
        connect_timeout=5.0, read_timeout=10.0, deadline=30.0, jitter=0.0, workers=2
    )
    try:
        with Store(tmp_path_factory.mktemp("corpus") / "corpus.db") as store:
            for path in FILES:
                server.routes[f"/{path.name}"] = Route(
                    body=path.read_bytes(), content_type=content_type_of(path)
                )
                store.add_source(
                    server.url(f"/{path.name}"),
                    name=path.name,
                    kind=kind_of(path),
                    now=utc_now(),
                )

            async def two_rounds() -> CorpusRun:
                tagger = Tagger(load_talk_profile("london-2025"))
                async with Poller(store, config, tagger=tagger) as poller:
                    first = await poller.poll_once(store.get_sources())
                    assert poller._pool is not None  # the pool the round parsed in
                    sources = {s.name: s for s in store.get_sources()}
                    items = {
                        name: store.get_items(source_id=s.id, limit=None)
                        for name, s in sources.items()
                    }
                    after_first = store.count_items()
                    second = await poller.poll_once(store.get_sources())
                    return CorpusRun(
                        first={o.source.name: o for o in first.outcomes},
                        second=second,
                        sources=sources,
                        items=items,
                        count_after_first=after_first,
                        count_after_second=store.count_items(),
                        pool_workers=poller._pool.workers,
                        server=server,
                    )

            yield asyncio.run(two_rounds())
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_corpus_round_parses_in_a_process_pool(corpus: CorpusRun) -> None:
    assert corpus.pool_workers == 2
    assert set(corpus.first) == {p.name for p in FILES}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_source_outcome(corpus: CorpusRun, path: Path) -> None:
    outcome = corpus.first[path.name]
    source = corpus.sources[path.name]

    if path.name == MALFORMED:
        assert not outcome.ok
        assert outcome.error is not None and outcome.error.startswith("parse: ")
        assert len(outcome.error) > len("parse: ") + 10
        assert source.last_error == outcome.error
        assert source.failures == 1
        assert corpus.items[path.name] == []
    else:
        assert outcome.ok, outcome.error
        assert source.last_status == 200
        assert source.last_error is None
        assert source.failures == 0
        assert source.etag is not None
        assert outcome.new == len(corpus.items[path.name])


@pytest.mark.parametrize(
    "path",
    [p for p in FILES if p.name != MALFORMED],
    ids=lambda p: p.name,
)
def test_corpus_stored_count_matches_feedparser(corpus: CorpusRun, path: Path) -> None:
    expected = len(set(entry_keys(path)))

    assert len(corpus.items[path.name]) == expected


def test_corpus_stored_text_is_plain(corpus: CorpusRun) -> None:
    problems = [
        problem
        for name, items in corpus.items.items()
        for item in items
        for problem in text_problems(name, item.title, item.summary)
    ]

    assert problems == []
    assert all(item.title for items in corpus.items.values() for item in items)


def test_corpus_published_is_aware_utc(corpus: CorpusRun) -> None:
    for items in corpus.items.values():
        for item in items:
            assert item.published.utcoffset() == timedelta(0)
            assert item.first_seen.utcoffset() == timedelta(0)
            if item.published_orig is not None:
                assert item.published_orig.utcoffset() == timedelta(0)


def test_corpus_second_round_is_all_304(corpus: CorpusRun) -> None:
    second = corpus.second

    assert (second.new, second.updated) == (0, 0)
    assert second.not_modified == len(FILES) - 1
    assert [o.source.name for o in second.outcomes if not o.ok] == [MALFORMED]
    assert corpus.count_after_second == corpus.count_after_first > 0
    not_modified = [r for r in corpus.server.requests if r.status == 304]
    assert len(not_modified) == len(FILES) - 1


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_parse_body_corpus_file(path: Path) -> None:
    body = path.read_bytes()
    kwargs: dict[str, Any] = {
        "url": f"https://corpus.example/{path.name}",
        "content_type": content_type_of(path),
    }

    if path.name == MALFORMED:
        with pytest.raises(ParseError) as caught:
            parse_body(kind_of(path), body, **kwargs)
        assert str(caught.value).strip()
        return
    parsed = parse_body(kind_of(path), body, **kwargs)

    assert len(parsed.entries) == len(entry_keys(path))
    problems = []
    for entry in parsed.entries:
        assert entry.guid and entry.title
        assert entry.published is None or entry.published.utcoffset() == timedelta(0)
        problems += text_problems(path.name, entry.title, entry.summary)
    assert problems == []


def test_parse_body_links_differing_by_fragment_stay_distinct() -> None:
    body = rss(
        [E(None, f"Issue {n}", link=f"https://letters.example/entries.php#{n}") for n in (1, 2, 3)]
    )

    parsed = parse_body("rss", body, url="https://letters.example/feed.xml")

    assert len({entry.guid for entry in parsed.entries}) == 3


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream"])
def test_parse_body_empty_feed_with_odd_content_type_is_not_an_error(content_type: str) -> None:
    parsed = parse_body(
        "rss", rss([]), url="https://quiet.example/feed.xml", content_type=content_type
    )

    assert parsed.entries == ()
    assert parsed.title == "Test feed"


def test_corpus_items_are_tagged_on_ingest(corpus: CorpusRun) -> None:
    """Tagging ran in the worker processes for every stored item (issue #3)."""
    items = [item for found in corpus.items.values() for item in found]
    assert items
    tagged = [item for item in items if item.tags]
    assert len(tagged) > len(items) // 10
    assert all(set(item.tags) == set(item.matches) for item in items)
    assert any(item.related for item in items)  # the 2019/2025 trade-policy feeds
