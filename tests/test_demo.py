"""The London talks replay, its loopback feed server and the headless demo (issue #5).

The server is tested over real HTTP on 127.0.0.1 with a fake real-time clock, and its feeds are
read back with the poller's own parsers; the demo runs the real poller into a real SQLite file.
"""

from __future__ import annotations

import gzip
import http.client
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from feeds.demo import (
    demo_config,
    demo_session,
    format_summary,
    run_demo_headless,
    run_demo_poller,
)
from feeds.models import ParsedFeed
from feeds.normalize import plain_text
from feeds.parse import parse_body
from feeds.replay import ReplayClock, ReplayServer
from feeds.replay_data import MAX_ITEMS, Replay, ReplaySource, load_replay, replay_dir
from feeds.seeds import load_talk_profile, seeds_dir
from feeds.store import Store
from feeds.tagging import Tagger

LONDON = timezone(timedelta(hours=1))
DELEGATES = {
    "Scott Bessent",
    "Howard Lutnick",
    "Jamieson Greer",
    "He Lifeng",
    "Wang Wentao",
    "Li Chenggang",
    "Donald Trump",
    "Xi Jinping",
}


def london(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 6, day, hour, minute, tzinfo=LONDON)


class FakeTime:
    """A real-time clock for ReplayClock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def replay() -> Replay:
    return load_replay()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def server(replay: Replay, fake_time: FakeTime) -> Iterator[ReplayServer]:
    """The replay at 9 June 08:00 London; one fake real second is one replay second."""
    clock = ReplayClock(london(9, 8), speed=1.0, real_clock=fake_time)
    with ReplayServer(replay, clock=clock, hang=0.5) as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5.0) as http:
        yield http


def parse(source: ReplaySource, response: httpx.Response) -> ParsedFeed:
    """Read a served feed back with the poller's parser for its kind."""
    return parse_body(
        source.poll_kind,
        response.content,
        url=str(response.url),
        content_type=response.headers.get("content-type", ""),
        options=source.wire,
    )


def set_replay_time(server: ReplayServer, fake_time: FakeTime, when: datetime) -> None:
    fake_time.advance((when - server.clock.now()).total_seconds())


# --- the replay data ----------------------------------------------------------------------------


def test_replay_has_200_to_400_items_over_8_sources_of_4_kinds(replay: Replay) -> None:
    assert replay_dir() == seeds_dir() / "london-2025-06-10"
    assert 200 <= replay.items <= 400
    assert len(replay.sources) >= 8
    assert {s.kind for s in replay.sources} == {"rss", "atom", "jsonfeed", "wire"}
    # Besides the misbehaving ones, at least eight sources really deliver.
    assert sum(1 for s in replay.sources if s.fail is None and s.items) >= 8
    # Nothing is pushed out of a feed by newer items before a poller could see it.
    assert all(len(s.items) <= MAX_ITEMS for s in replay.sources)


def test_replay_times_cover_9_to_11_june_london(replay: Replay) -> None:
    records = [r for s in replay.sources for r in (*s.items, *s.revisions)]
    assert all(r.time.utcoffset() == timedelta(hours=1) for r in records)
    assert london(9, 0) <= replay.first < london(9, 9)
    assert london(11, 6) < replay.last < london(12, 0)
    # Densest on the main day's afternoon and evening.
    per_half_day = {
        label: sum(1 for r in records if start <= r.time < start + timedelta(hours=12))
        for label, start in {
            "9 am": london(9, 0),
            "9 pm": london(9, 12),
            "10 am": london(10, 0),
            "10 pm": london(10, 12),
            "11 am": london(11, 0),
        }.items()
    }
    assert max(per_half_day, key=per_half_day.__getitem__) == "10 pm"


def test_replay_sources_are_of_every_sort(replay: Replay) -> None:
    tiers = {s.tier for s in replay.sources}
    assert {"wire", "official", "press", "aggregator"} <= tiers
    chinese = [s for s in replay.sources if s.lang.startswith("zh")]
    assert chinese and all("中" in "".join(i.title for i in s.items) for s in chinese)
    wire = replay.source("dispatch")
    assert wire.kind == "wire" and set(wire.wire) == {
        "items",
        "id",
        "title",
        "url",
        "time",
        "summary",
    }
    news = replay.source("gnews")
    assert all(
        i.link.startswith("https://news.google.com/") and "?url=" in i.link for i in news.items
    )
    assert all(" - " in i.title for i in news.items)
    assert replay.source("commerce").fail == "500"
    assert replay.source("chinadaily").fail == "timeout"
    assert sum(len(s.revisions) for s in replay.sources) >= 5


def test_replay_tagged_by_the_real_tagger(replay: Replay) -> None:
    tagger = Tagger(load_talk_profile("london-2025"))
    records = [r for s in replay.sources for r in (*s.items, *s.revisions)]
    tagged = [tagger.tag(plain_text(r.title), plain_text(r.summary)) for r in records]
    related = sum(t.related for t in tagged)
    assert 0.5 <= related / len(tagged) <= 0.9  # a good share, with real noise around it
    assert DELEGATES <= {person for t in tagged for person in t.people}
    # The late-night framework announcement fires alerts, from several sources.
    alerting = {
        source.id
        for source in replay.sources
        for record in (*source.items, *source.revisions)
        if london(10, 23) <= record.time <= london(11, 4)
        and "alert:framework"
        in tagger.tag(plain_text(record.title), plain_text(record.summary)).tags
    }
    assert len(alerting) >= 5


# --- the clock and the server ---------------------------------------------------------------------


def test_replay_clock_maps_real_seconds_to_replay_time(fake_time: FakeTime) -> None:
    clock = ReplayClock(london(9, 8), speed=360.0, real_clock=fake_time)
    assert clock.now() == london(9, 8)
    fake_time.advance(10)
    assert clock.now() == london(9, 9)
    assert clock.real_seconds_until(london(9, 10)) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        ReplayClock(london(9, 8), speed=0)


def test_server_serves_only_items_whose_time_has_passed(
    server: ReplayServer, fake_time: FakeTime, client: httpx.Client, replay: Replay
) -> None:
    wire = replay.source("northgate")
    first = parse(wire, client.get(server.url("northgate")))
    expected = [i.id for i in sorted(wire.items, key=lambda i: i.time) if i.time <= london(9, 8)]
    assert sorted(e.guid for e in first.entries) == sorted(expected)
    assert len(first.entries) < len(wire.items)

    fake_time.advance(6 * 3600)  # 14:00
    later = parse(wire, client.get(server.url("northgate")))
    times = [e.published for e in later.entries]
    assert len(later.entries) > len(first.entries)
    assert all(t is not None and t <= london(9, 14) for t in times)
    assert times == sorted(times, reverse=True)  # newest first


def test_server_renders_every_kind_for_the_pollers_parsers(
    server: ReplayServer, fake_time: FakeTime, client: httpx.Client, replay: Replay
) -> None:
    set_replay_time(server, fake_time, london(11, 12))
    for source in replay.sources:
        if source.fail is not None:
            continue
        response = client.get(server.url(source.id))
        assert response.status_code == 200, source.id
        parsed = parse(source, response)
        visible = source.visible(server.clock.now())
        assert [e.guid for e in parsed.entries] == [source.entry_id(i.id) for i in visible]
        assert all(e.title and e.published and e.url.startswith("https://") for e in parsed.entries)
    # The news search's redirect links unwrap to the outlets' own articles.
    news = parse(replay.source("gnews"), client.get(server.url("gnews")))
    outlets = {i.link for s in replay.sources for i in s.items}
    assert sum(e.url in outlets for e in news.entries) >= 30


def test_server_answers_304_to_conditional_requests(
    server: ReplayServer, fake_time: FakeTime, client: httpx.Client
) -> None:
    url = server.url("markets")
    first = client.get(url)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and not etag.startswith('W/"')
    assert last_modified == "Mon, 09 Jun 2025 05:30:00 GMT"  # newest visible item, 06:30 London

    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.content == b"" and not_modified.headers["etag"] == etag

    fake_time.advance(3600)  # a new item at 08:05 London
    changed = client.get(url, headers={"If-None-Match": etag, "If-Modified-Since": last_modified})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.headers["last-modified"] == "Mon, 09 Jun 2025 07:05:00 GMT"


def test_server_gzips_when_asked_and_keeps_connections_alive(server: ReplayServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("GET", "/gnews.rss", headers={"Accept-Encoding": "gzip"})
        zipped = connection.getresponse()
        zipped_body = zipped.read()
        connection.request("GET", "/gnews.rss", headers={"Accept-Encoding": "identity"})
        plain = connection.getresponse()  # the same connection: HTTP/1.1 keep-alive
        plain_body = plain.read()
    finally:
        connection.close()
    assert zipped.getheader("Content-Encoding") == "gzip"
    assert int(zipped.getheader("Content-Length", "0")) == len(zipped_body)
    assert gzip.decompress(zipped_body) == plain_body
    assert plain.getheader("Content-Encoding") is None
    assert int(plain.getheader("Content-Length", "0")) == len(plain_body)
    assert zipped.getheader("ETag") != plain.getheader("ETag")  # strong: one per coding
    assert "Accept-Encoding" in (plain.getheader("Vary") or "")


def test_server_applies_a_revision_once_its_time_passes(
    server: ReplayServer, fake_time: FakeTime, client: httpx.Client, replay: Replay
) -> None:
    dispatch = replay.source("dispatch")
    set_replay_time(server, fake_time, london(9, 8, 30))
    before = {e.guid: e for e in parse(dispatch, client.get(server.url("dispatch"))).entries}
    assert "nearly 10%" in before["dispatch-d01"].title

    fake_time.advance(15 * 60)  # past 08:40, when the figure was corrected
    after = {e.guid: e for e in parse(dispatch, client.get(server.url("dispatch"))).entries}
    corrected = after["dispatch-d01"]  # the same guid, new text
    assert corrected.title.startswith("CORRECTED:") and "34.5%" in corrected.title
    assert corrected.published == before["dispatch-d01"].published
    assert set(after) == set(before)  # a revision is not a new item


def test_failing_sources_fail_as_declared(
    server: ReplayServer, fake_time: FakeTime, client: httpx.Client
) -> None:
    url = server.url("commerce")
    set_replay_time(server, fake_time, london(10, 17, 59))
    assert client.get(url).status_code == 200
    fake_time.advance(60)
    assert client.get(url).status_code == 500
    set_replay_time(server, fake_time, london(11, 8))
    recovered = client.get(url)
    assert recovered.status_code == 200
    assert b"statement-lutnick-framework-london" in recovered.content  # published in the outage

    with pytest.raises(httpx.ReadTimeout):
        client.get(server.url("chinadaily"), timeout=0.2)
    started = time.monotonic()
    patient = client.get(server.url("chinadaily"), timeout=5.0)  # this server hangs 0.5 s
    assert patient.status_code == 200 and time.monotonic() - started >= 0.45


def test_server_stops_promptly_with_a_request_hanging(replay: Replay) -> None:
    server = ReplayServer(replay)  # the manifest's hang: 45 s
    server.start()
    errors: list[Exception] = []

    def fetch() -> None:
        try:
            httpx.get(server.url("chinadaily"), timeout=30.0, trust_env=False)
        except httpx.HTTPError as exc:
            errors.append(exc)

    waiting = threading.Thread(target=fetch)
    waiting.start()
    time.sleep(0.3)
    started = time.monotonic()
    server.stop()
    waiting.join(10)
    assert time.monotonic() - started < 3.0
    assert not waiting.is_alive() and errors  # the client saw the connection close
    assert not server.running


def test_server_index_and_unknown_paths(server: ReplayServer, client: httpx.Client) -> None:
    index = client.get(server.url()).json()
    assert index["now"].startswith("2025-06-09T07:00:00")
    assert {s["id"] for s in index["sources"]} >= {"northgate", "dispatch", "ledger", "markets"}
    assert client.get(server.url() + "nothing.rss").status_code == 404


# --- the demo -------------------------------------------------------------------------------------


def test_demo_headless_fetches_tags_and_stores_over_http(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    # 150,000x: the whole replay is visible within about 1.3 s of a 4 s run.
    summary = run_demo_headless(
        db,
        4.0,
        150_000,
        config=demo_config(interval=1.0, deadline=1.5, read_timeout=1.0),
    )

    assert summary.requests >= 12 * 2
    assert summary.replay_end > london(11, 14)
    assert 200 <= summary.items <= 400
    assert summary.items / 2 <= summary.related < summary.items
    assert summary.alerts >= 5
    assert summary.multi_source_stories >= 10
    by_name = {s.name: s for s in summary.sources}
    assert len(by_name) == 12
    hanging = by_name["China Daily: Business"]
    assert hanging.error is not None and hanging.items == 0
    assert "timed out" in hanging.error or "deadline" in hanging.error
    assert sum(1 for s in summary.sources if s.ok and s.items) >= 8
    text = format_summary(summary)
    assert "alerts" in text and "China Daily: Business" in text and hanging.error in text

    assert summary.db_path == db
    with Store(db, create=False) as store:
        items = list(store.iter_items())
        alerts = [i for i in items if any(t.startswith("alert:") for t in i.tags)]
    assert len(items) == summary.items
    assert len({i.source for i in alerts}) >= 4  # the framework story, from several sources
    assert {"Howard Lutnick", "Jamieson Greer"} <= {p for i in alerts for p in i.people}


def test_demo_poller_thread_stops_and_temporary_files_go() -> None:
    with demo_session(speed=150_000, interval=0.5) as session:
        assert session.temporary and session.db_path.exists()
        stop = threading.Event()
        config = demo_config(interval=0.5, deadline=1.0, read_timeout=1.0)
        poller = threading.Thread(
            target=run_demo_poller, args=(session.db_path, stop), kwargs={"config": config}
        )
        poller.start()
        time.sleep(2.0)
        stop.set()
        poller.join(10)
        assert not poller.is_alive()
        with Store(session.db_path, create=False) as store:
            assert store.count_items() > 100
        folder = session.db_path.parent
    assert not folder.exists()
    assert not session.server.running


def test_demo_again_on_the_same_database_repoints_its_sources(tmp_path: Path) -> None:
    db = tmp_path / "again.db"
    with demo_session(db) as first:
        urls = {s.name: s.url for s in first.sources}
    with demo_session(db) as second:
        assert {s.name for s in second.sources} == set(urls)
        assert all(s.url.startswith(second.server.url()) for s in second.sources)
        with Store(db, create=False) as store:
            assert len(store.get_sources()) == len(urls)


def test_demo_command_without_ui_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from feeds.cli import main

    db = tmp_path / "demo.db"
    code = main(["--db", str(db), "demo", "--no-tui", "--duration", "3", "--speed", "100000"])

    out = capsys.readouterr().out
    assert code == 0
    assert "related" in out and "alerts" in out
    assert "China Daily" in out and "error" in out
    assert db.exists()  # --db given: the database is kept
