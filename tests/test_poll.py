"""The poller against a real HTTP server on 127.0.0.1 and a real SQLite file."""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import formatdate

import brotli  # type: ignore[import-untyped, unused-ignore]  # httpx[brotli]
import pytest

from feeds.config import PollConfig
from feeds.models import Source
from feeds.poller import Poller, SourceOutcome
from feeds.store import Store
from tests.conftest import data
from tests.feedgen import E, jsonfeed, rss
from tests.feedserver import FeedServer, Route

T0 = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def add(store: Store, server: FeedServer, path: str, route: Route, **kw: object) -> Source:
    server.routes[path] = route
    return store.add_source(server.url(path), name=path.strip("/"), now=T0, **kw)  # type: ignore[arg-type]


async def poll(
    store: Store, config: PollConfig, *sources: Source, clock: Callable[[], datetime] | None = None
) -> list[SourceOutcome]:
    async with Poller(store, config, clock=clock or Clock()) as poller:
        fresh = [store.get_source(s.id) for s in sources]
        summary = await poller.poll_once([s for s in fresh if s is not None])
    order = {s.id: i for i, s in enumerate(sources)}
    return sorted(summary.outcomes, key=lambda o: order[o.source.id])


THREE = [
    E(
        "g1",
        "US and China resume talks in London",
        "<p>Day <b>two</b> of talks.</p>",
        "https://news.example.com/a/1?utm_source=rss&id=7",
    ),
    E("g2", "Rare earths on the agenda", "Magnets &amp; more", "https://news.example.com/a/2"),
    E("g3", "Markets steady", "", "https://news.example.com/a/3"),
]


async def test_poll_stores_items_as_plain_text(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    source = add(store, feed_server, "/a.rss", Route(body=rss(THREE)))
    [outcome] = await poll(store, poll_config, source)
    assert outcome.ok and outcome.new == 3
    items = {i.guid: i for i in store.get_items(limit=None)}
    assert items["g1"].summary == "Day two of talks."
    assert items["g1"].url == "https://news.example.com/a/1?id=7"
    assert items["g2"].summary == "Magnets & more"
    assert items["g1"].published == datetime(2025, 6, 10, 9, 0, tzinfo=UTC)


async def test_poll_second_round_is_304_after_etag(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    route = Route(body=rss(THREE))
    source = add(store, feed_server, "/a.rss", route)
    await poll(store, poll_config, source)
    [again] = await poll(store, poll_config, source)
    assert again.ok and again.not_modified and again.new == 0
    second = feed_server.seen("/a.rss")[1]
    assert second.headers["if-none-match"] == route.etag
    assert second.status == 304
    assert store.count_items() == 3


async def test_poll_second_round_is_304_after_last_modified(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    route = Route(body=rss(THREE), send_etag=False)
    source = add(store, feed_server, "/lm.rss", route)
    await poll(store, poll_config, source)
    [again] = await poll(store, poll_config, source)
    assert again.not_modified
    second = feed_server.seen("/lm.rss")[1]
    assert "if-none-match" not in second.headers
    assert second.headers["if-modified-since"] == route.last_modified


async def test_poll_reuses_connections_after_304(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    config = PollConfig(**{**_fields(poll_config), "per_host": 1, "concurrency": 1})
    sources = [add(store, feed_server, f"/k{i}.rss", Route(body=rss(THREE))) for i in range(4)]
    await poll(store, config, *sources)
    outcomes = await poll(store, config, *sources)
    assert all(o.not_modified for o in outcomes)
    second_round = feed_server.requests[4:]
    assert len({seen.port for seen in second_round}) == 1


async def test_poll_sends_honest_user_agent_and_accepts_gzip(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    source = add(store, feed_server, "/gz.rss", Route(body=rss(THREE), gzip=True))
    [outcome] = await poll(store, poll_config, source)
    assert outcome.ok and outcome.new == 3
    seen = feed_server.seen("/gz.rss")[0]
    assert seen.headers["user-agent"].startswith("talkwatch/")
    assert "gzip" in seen.headers["accept-encoding"]


@pytest.mark.parametrize("coding", ["deflate", "br"])
async def test_poll_reads_deflate_and_brotli_bodies(
    store: Store, feed_server: FeedServer, poll_config: PollConfig, coding: str
) -> None:
    body = rss(THREE)
    packed = zlib.compress(body) if coding == "deflate" else brotli.compress(body)
    source = add(store, feed_server, f"/{coding}.rss", Route(body=body, encoded=(coding, packed)))
    [outcome] = await poll(store, poll_config, source)
    assert outcome.ok and outcome.new == 3
    assert coding in feed_server.seen(f"/{coding}.rss")[0].headers["accept-encoding"]


async def test_poll_revised_headline_kept_as_revision(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    route = Route(body=rss(THREE))
    source = add(store, feed_server, "/a.rss", route)
    await poll(store, poll_config, source)
    route.body = rss(
        [
            E(
                "g1",
                "UPDATE 1-US and China agree framework",
                "New text",
                "https://news.example.com/a/1",
            )
        ]
        + THREE[1:]
    )
    [outcome] = await poll(store, poll_config, source)
    assert (outcome.new, outcome.updated) == (0, 1)
    [item] = [i for i in store.get_items(limit=None) if i.guid == "g1"]
    assert item.title == "UPDATE 1-US and China agree framework"
    assert item.revisions == 1 and item.updated_at is not None
    [(old_title, old_summary, _when)] = store.get_revisions(item.id)
    assert old_title == "US and China resume talks in London"
    assert old_summary == "Day two of talks."
    assert store.count_items() == 3


async def test_poll_same_story_from_two_sources_is_grouped(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    one = add(
        store,
        feed_server,
        "/one.rss",
        Route(
            body=rss(
                [
                    E(
                        "x1",
                        "US, China agree trade framework after London talks",
                        link="https://a.example/1",
                    ),
                ]
            )
        ),
    )
    two = add(
        store,
        feed_server,
        "/two.rss",
        Route(
            body=rss(
                [
                    E(
                        "y1",
                        "US, China agree trade framework after London talks - Reuters",
                        link="https://b.example/other",
                    ),
                    E("y2", "Unrelated story about football", link="https://b.example/2"),
                ]
            )
        ),
    )
    three = add(
        store,
        feed_server,
        "/three.rss",
        Route(
            body=rss(
                [
                    E(
                        "z1",
                        "Different headline, same link",
                        link="https://a.example/1?utm_medium=x",
                    ),
                ]
            )
        ),
    )
    await poll(store, poll_config, one)
    await poll(store, poll_config, two, three)
    items = {i.guid: i for i in store.get_items(limit=None)}
    assert items["x1"].story_id == items["y1"].story_id == items["z1"].story_id
    assert items["x1"].story_sources == 3
    assert items["y2"].story_id != items["x1"].story_id


async def test_poll_missing_and_future_times_become_first_seen(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    source = add(
        store,
        feed_server,
        "/t.rss",
        Route(
            body=rss(
                [
                    E("none", "No date", date=None),
                    E("future", "From the future", date="Fri, 01 Jan 2100 00:00:00 GMT"),
                ]
            )
        ),
    )
    await poll(store, poll_config, source, clock=Clock(T0))
    items = {i.guid: i for i in store.get_items(limit=None)}
    assert items["none"].published == T0 and items["none"].published_orig is None
    assert items["future"].published == T0
    assert items["future"].published_orig == datetime(2100, 1, 1, tzinfo=UTC)


async def test_poll_no_guid_falls_back_to_link_then_hash(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    body = rss([E(None, "Linked", link="https://x.example/1?utm_source=a"), E(None, "Bare")])
    route = Route(body=body)
    source = add(store, feed_server, "/ng.rss", route)
    await poll(store, poll_config, source)
    route.body = body + b" "  # a new ETag, same entries: nothing new
    [outcome] = await poll(store, poll_config, source)
    assert outcome.new == 0 and outcome.updated == 0
    guids = sorted(i.guid for i in store.get_items(limit=None))
    assert guids[0] == "https://x.example/1" and guids[1].startswith("sha1:")


async def test_poll_atom_resolves_relative_links(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    source = add(
        store,
        feed_server,
        "/m.atom",
        Route(body=data("atom.xml"), content_type="application/atom+xml"),
    )
    [outcome] = await poll(store, poll_config, source)
    assert outcome.new == 2
    items = {i.guid: i for i in store.get_items(limit=None)}
    # Relative references resolve against the document's URL (RFC 3986; no xml:base here).
    assert items["urn:uuid:m-1"].link == feed_server.url("/2025/06/09/hang-seng")
    assert items["urn:uuid:m-1"].title == "Hang Seng rises 1.6% as talks begin"
    assert items["urn:uuid:m-2"].published == datetime(2025, 6, 8, 23, 0, tzinfo=UTC)
    assert items["urn:uuid:m-2"].summary == "The yuan held steady."


async def test_poll_jsonfeed_and_wire_kinds(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    jf = add(
        store,
        feed_server,
        "/f.json",
        Route(body=jsonfeed(THREE), content_type="application/feed+json"),
        kind="jsonfeed",
    )
    wire = add(
        store,
        feed_server,
        "/wire",
        Route(body=data("wire.json"), content_type="application/json"),
        kind="wire",
        options={
            "items": "data.articles",
            "id": "uid",
            "title": "headline",
            "url": "web",
            "time": "ts",
            "summary": "lede",
        },
    )
    a, b = await poll(store, poll_config, jf, wire, clock=Clock(T0 + timedelta(days=1)))
    assert (a.ok, a.new, b.ok, b.new) == (True, 3, True, 3)
    items = {i.guid: i for i in store.get_items(limit=None)}
    assert items["w-1"].summary == "Negotiators in London reached a framework late on Tuesday."
    assert items["w-1"].url == "https://wire.example.com/a/1"
    assert items["w-2"].published == datetime(2025, 6, 10, 22, 5, tzinfo=UTC)
    assert items["g2"].title == "Rare earths on the agenda"


async def test_poll_wire_with_wrong_mapping_is_a_parse_error(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    wire = add(
        store,
        feed_server,
        "/wire",
        Route(body=data("wire.json")),
        kind="wire",
        options={"items": "nope.articles"},
    )
    [outcome] = await poll(store, poll_config, wire)
    assert not outcome.ok and "no item list" in (outcome.error or "")


async def test_poll_permanent_redirect_updates_url(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    feed_server.routes["/new.rss"] = Route(body=rss(THREE))
    source = add(store, feed_server, "/old.rss", Route(status=301, location="/new.rss"))
    [outcome] = await poll(store, poll_config, source)
    assert outcome.ok and outcome.new == 3
    stored = store.get_source(source.id)
    assert stored is not None and stored.url == feed_server.url("/new.rss")


async def test_poll_temporary_redirect_keeps_url(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    feed_server.routes["/mid"] = Route(status=301, location="/final.rss")
    feed_server.routes["/final.rss"] = Route(body=rss(THREE))
    source = add(store, feed_server, "/tmp.rss", Route(status=302, location="/mid"))
    [outcome] = await poll(store, poll_config, source)
    assert outcome.ok and outcome.new == 3
    stored = store.get_source(source.id)
    assert stored is not None and stored.url == source.url


async def test_poll_redirect_loop_is_recorded(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    source = add(store, feed_server, "/loop", Route(status=302, location="/loop"))
    [outcome] = await poll(store, poll_config, source)
    assert not outcome.ok and "redirects" in (outcome.error or "")
    assert len(feed_server.seen("/loop")) == poll_config.max_redirects + 1


async def test_poll_errors_recorded_while_other_sources_run(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    missing = store.add_source(feed_server.url("/missing"), name="missing", now=T0)
    broken = add(store, feed_server, "/500", Route(status=500, body=b"oops"))
    good = add(store, feed_server, "/good.rss", Route(body=rss(THREE)))
    a, b, c = await poll(store, poll_config, missing, broken, good)
    assert (a.ok, a.status, b.ok, b.status) == (False, 404, False, 500)
    assert c.ok and c.new == 3
    health = store.get_source(broken.id)
    assert health is not None
    assert health.last_status == 500 and health.failures == 1
    assert health.last_error is not None and "500" in health.last_error
    assert store.get_fetch_log(broken.id)[0]["status"] == 500


async def test_poll_backoff_grows_and_never_gives_up(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    source = add(store, feed_server, "/500", Route(status=500), interval=60)
    clock = Clock()
    delays = []
    for _ in range(4):
        await poll(store, poll_config, source, clock=clock)
        stored = store.get_source(source.id)
        assert stored is not None and stored.next_due is not None
        delays.append((stored.next_due - clock.now).total_seconds())
        clock.now = stored.next_due
    assert delays == [60, 120, 240, 480]
    stored = store.get_source(source.id)
    assert stored is not None and stored.failures == 4 and stored.retired_at is None
    assert source.id in {s.id for s in store.get_due_sources(clock.now)}


async def test_poll_success_resets_failures(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    route = Route(status=503)
    source = add(store, feed_server, "/flaky.rss", route)
    await poll(store, poll_config, source)
    route.status, route.body = 200, rss(THREE)
    [outcome] = await poll(store, poll_config, source)
    stored = store.get_source(source.id)
    assert outcome.ok and stored is not None
    assert stored.failures == 0 and stored.last_error is None and stored.last_ok_at is not None


@pytest.mark.parametrize("status", [429, 503])
async def test_poll_retry_after_seconds_honoured(
    store: Store, feed_server: FeedServer, poll_config: PollConfig, status: int
) -> None:
    source = add(
        store,
        feed_server,
        "/busy",
        Route(status=status, headers={"Retry-After": "7200"}),
        interval=60,
    )
    [outcome] = await poll(store, poll_config, source)
    assert not outcome.ok and outcome.next_due is not None
    assert outcome.next_due - T0 >= timedelta(seconds=7200)


async def test_poll_retry_after_date_honoured(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    later = datetime.now(UTC) + timedelta(hours=3)
    header = later.strftime("%a, %d %b %Y %H:%M:%S GMT")
    source = add(
        store, feed_server, "/busy", Route(status=429, headers={"Retry-After": header}), interval=60
    )
    [outcome] = await poll(store, poll_config, source)
    assert outcome.next_due is not None
    assert outcome.next_due - T0 >= timedelta(hours=2, minutes=55)


async def test_poll_410_retires_source_visibly(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    source = add(store, feed_server, "/gone", Route(status=410))
    [outcome] = await poll(store, poll_config, source)
    assert outcome.retired
    stored = store.get_source(source.id)
    assert stored is not None and stored.retired_at is not None
    assert stored.retired_reason == "HTTP 410 Gone"
    assert store.get_due_sources(T0 + timedelta(days=30)) == []


async def test_poll_cache_headers_expires_and_ttl_lengthen_interval(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    cached = add(
        store,
        feed_server,
        "/cached.rss",
        Route(body=rss(THREE), headers={"Cache-Control": "public, max-age=3600"}),
        interval=60,
    )
    ttl = add(store, feed_server, "/ttl.rss", Route(body=rss(THREE[:1], ttl=30)), interval=60)
    plain = add(store, feed_server, "/plain.rss", Route(body=rss(THREE[1:])), interval=60)
    expires = add(
        store,
        feed_server,
        "/expires.rss",
        # Expires counts from the server's Date header, which the test server sends as now.
        Route(body=rss(THREE), headers={"Expires": formatdate(time.time() + 7200, usegmt=True)}),
        interval=60,
    )
    uncached = add(
        store,
        feed_server,
        "/no-cache.rss",
        Route(body=rss(THREE), headers={"Cache-Control": "no-cache, max-age=3600"}),
        interval=60,
    )
    a, b, c, d, e = await poll(store, poll_config, cached, ttl, plain, expires, uncached)
    assert a.next_due == T0 + timedelta(seconds=3600)
    assert b.next_due == T0 + timedelta(minutes=30)
    assert c.next_due == T0 + timedelta(seconds=60)
    assert d.next_due is not None
    assert abs((d.next_due - T0).total_seconds() - 7200) <= 2
    assert e.next_due == T0 + timedelta(seconds=60)  # no-cache: the configured interval


async def test_poll_jitter_spreads_next_due(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    config = PollConfig(**{**_fields(poll_config), "jitter": 0.2})
    sources = [
        add(store, feed_server, f"/j{i}.rss", Route(body=rss(THREE)), interval=100)
        for i in range(6)
    ]
    outcomes = await poll(store, config, *sources)
    offsets = {(o.next_due - T0).total_seconds() for o in outcomes if o.next_due}
    assert len(offsets) > 1
    assert all(80 <= s <= 120 for s in offsets)


async def test_poll_slow_server_times_out(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    config = PollConfig(**{**_fields(poll_config), "read_timeout": 0.3})
    source = add(store, feed_server, "/slow", Route(body=rss(THREE), delay=3))
    started = time.monotonic()
    [outcome] = await poll(store, config, source)
    assert not outcome.ok and "timed out" in (outcome.error or "")
    assert time.monotonic() - started < 2.5


async def test_poll_drip_feeding_server_hits_deadline(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    # Each byte arrives well within the read timeout, so only the total deadline stops it.
    config = PollConfig(**{**_fields(poll_config), "read_timeout": 2.0, "deadline": 1.0})
    source = add(store, feed_server, "/drip", Route(body=rss(THREE), drip=0.05))
    started = time.monotonic()
    [outcome] = await poll(store, config, source)
    assert not outcome.ok and "deadline" in (outcome.error or "")
    assert time.monotonic() - started < 2.5


async def test_poll_body_over_cap_is_refused(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    config = PollConfig(**{**_fields(poll_config), "max_body_mb": 0.01})
    source = add(store, feed_server, "/big", Route(body=b"x" * 50_000))
    [outcome] = await poll(store, config, source)
    assert not outcome.ok and "cap" in (outcome.error or "")


async def test_poll_gzip_bomb_stopped_on_decompressed_size(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    config = PollConfig(**{**_fields(poll_config), "max_body_mb": 1.0})
    bomb = gzip.compress(b"<rss>" + b" " * 50_000_000)
    assert len(bomb) < 100_000
    source = add(store, feed_server, "/bomb", Route(raw_gzip=bomb))
    [outcome] = await poll(store, config, source)
    assert not outcome.ok and "decompressed" in (outcome.error or "")


async def test_poll_broken_xml_is_parse_error(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    source = add(store, feed_server, "/broken", Route(body=b"this is not <<< a feed at all"))
    html = add(
        store,
        feed_server,
        "/html",
        Route(
            body=b"<!DOCTYPE html><html><body>Checking your browser</body></html>",
            content_type="text/html",
        ),
    )
    a, b = await poll(store, poll_config, source, html)
    assert not a.ok and (a.error or "").startswith("parse:")
    assert not b.ok and "HTML page" in (b.error or "")


async def test_poll_connection_refused_is_recorded(store: Store, poll_config: PollConfig) -> None:
    source = store.add_source("http://127.0.0.1:9/feed", name="closed", now=T0)
    [outcome] = await poll(store, poll_config, source)
    assert not outcome.ok and outcome.error


async def test_poll_per_host_concurrency_bounded(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    config = PollConfig(**{**_fields(poll_config), "per_host": 2, "concurrency": 8})
    sources = [
        add(store, feed_server, f"/s{i}.rss", Route(body=rss(THREE), delay=0.2)) for i in range(6)
    ]
    outcomes = await poll(store, config, *sources)
    assert all(o.ok for o in outcomes)
    assert feed_server.max_in_flight == 2


async def test_poll_process_pool_parses_many_sources(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    config = PollConfig(**{**_fields(poll_config), "workers": 2})
    sources = [
        add(
            store,
            feed_server,
            f"/p{i}.rss",
            Route(body=rss([E(f"p{i}-{n}", f"Headline {i} {n}") for n in range(20)])),
        )
        for i in range(10)
    ]
    outcomes = await poll(store, config, *sources)
    assert all(o.ok for o in outcomes)
    assert store.count_items() == 200


async def test_poll_run_polls_due_sources_until_stopped(
    store: Store, feed_server: FeedServer, poll_config: PollConfig
) -> None:
    import asyncio

    source = add(store, feed_server, "/run.rss", Route(body=rss(THREE)))
    stop = asyncio.Event()
    async with Poller(store, poll_config) as poller:
        task = asyncio.create_task(poller.run(stop))
        deadline = time.monotonic() + 10
        while store.count_items() < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert store.get_pollers(), "heartbeat written while running"
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    assert store.count_items() == 3
    assert store.get_pollers() == []
    stored = store.get_source(source.id)
    assert stored is not None and stored.last_ok_at is not None


def _fields(config: PollConfig) -> dict[str, object]:
    return {name: getattr(config, name) for name in config.__slots__}  # type: ignore[attr-defined]
