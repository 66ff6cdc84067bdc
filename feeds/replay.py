"""The loopback feed server that plays the London talks replay (issue #5).

:mod:`feeds.replay_data` reads the replay (``seeds/london-2025-06-10/``); :class:`ReplayServer`
serves each source over real HTTP on 127.0.0.1 as RSS 2.0, Atom, JSON Feed or a newswire's JSON,
showing an item only once the :class:`ReplayClock` has passed its time. The server behaves as
feed servers do: strong ETags and Last-Modified with 304 answers, gzip when asked, keep-alive,
and the failures the manifest declares (HTTP 500, or a server that answers only after the
poller has given up).

Standard library only (plus our own modules), so the demo's server never needs the UI.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import re
import socket
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from feeds.replay_data import (
    CONTENT_TYPES,
    DEFAULT_SPEED,
    DEFAULT_START,
    MAX_ITEMS,
    Replay,
    ReplayItem,
    ReplaySource,
    load_replay,
    positive,
)

log = logging.getLogger(__name__)

_ATOM_NS = "http://www.w3.org/2005/Atom"


# --- the clock -----------------------------------------------------------------------------------


class ReplayClock:
    """Maps real time to replay time: ``start`` plus the real seconds elapsed times ``speed``.

    Args:
        start: the replay time when the clock is made (aware).
        speed: replay seconds per real second (360: an hour of the talks in 10 s).
        real_clock: a monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        start: datetime = DEFAULT_START,
        speed: float = DEFAULT_SPEED,
        real_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.utcoffset() is None:
            raise ValueError("the replay start must be an aware datetime")
        if not positive(speed):
            raise ValueError(f"speed must be a positive number, got {speed!r}")
        self.start = start.astimezone(UTC)
        self.speed = float(speed)
        self._real = real_clock
        self._origin = real_clock()

    def now(self) -> datetime:
        """The replay time now (aware, UTC)."""
        return self.start + timedelta(seconds=(self._real() - self._origin) * self.speed)

    __call__ = now

    def real_seconds_until(self, when: datetime) -> float:
        """How many real seconds until the replay clock reaches ``when`` (0 if it has)."""
        return max(0.0, (when - self.now()).total_seconds() / self.speed)


# --- rendering -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rendered:
    """One source's feed as of one replay time."""

    body: bytes
    content_type: str
    etag: str  # strong, from the content
    last_modified: datetime | None

    @property
    def gzip_etag(self) -> str:
        """The strong ETag of the gzip-coded representation (a different one, by RFC 9110)."""
        return self.etag[:-1] + '-gz"'


def render_source(
    source: ReplaySource, now: datetime, *, self_url: str = "", limit: int = MAX_ITEMS
) -> Rendered:
    """Render what ``source`` shows at replay time ``now`` in its kind's format.

    Args:
        source: the source.
        now: the replay time.
        self_url: where the feed is served (Atom's and JSON Feed's own link).
        limit: the most items listed, newest first.
    """
    items = source.visible(now, limit)
    changed = source.changed_at(now)
    if source.kind == "rss":
        body = _render_rss(source, items, changed)
    elif source.kind == "atom":
        body = _render_atom(source, items, changed, self_url)
    elif source.kind == "jsonfeed":
        body = _render_jsonfeed(source, items, self_url)
    else:
        body = _render_wire(source, items, changed)
    etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
    return Rendered(body, CONTENT_TYPES[source.kind], etag, changed)


def _render_rss(source: ReplaySource, items: list[ReplayItem], changed: datetime | None) -> bytes:
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", source.title)
    _text(channel, "link", source.link)
    _text(channel, "description", f"{source.name} (talkwatch replay)")
    if source.lang:
        _text(channel, "language", source.lang)
    if changed is not None:
        _text(channel, "lastBuildDate", _http_date(changed))
    _text(channel, "generator", "talkwatch replay")
    # No <ttl>: it would stretch the poller's interval (and the demo polls every few seconds).
    for item in items:
        element = ET.SubElement(channel, "item")
        _text(element, "title", item.title)
        _text(element, "link", item.link)
        ET.SubElement(element, "guid", isPermaLink="false").text = item.id
        _text(element, "pubDate", _http_date(item.time))
        _text(element, "description", item.summary)
    return _xml(rss)


def _render_atom(
    source: ReplaySource, items: list[ReplayItem], changed: datetime | None, self_url: str
) -> bytes:
    feed = ET.Element("feed", xmlns=_ATOM_NS)
    if source.lang:
        feed.set("xml:lang", source.lang)
    _text(feed, "id", f"tag:talkwatch.replay,2025:{source.id}")
    _text(feed, "title", source.title)
    _text(feed, "updated", (changed or DEFAULT_START).isoformat())
    ET.SubElement(feed, "link", rel="alternate", type="text/html", href=source.link)
    if self_url:
        ET.SubElement(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    author = ET.SubElement(feed, "author")
    _text(author, "name", source.name)
    for item in items:
        entry = ET.SubElement(feed, "entry")
        _text(entry, "id", source.entry_id(item.id))
        _text(entry, "title", item.title)
        ET.SubElement(entry, "link", rel="alternate", type="text/html", href=item.link)
        _text(entry, "published", item.time.isoformat())
        _text(entry, "updated", _updated(source, item).isoformat())
        ET.SubElement(entry, "summary", type="html").text = item.summary
    return _xml(feed)


def _render_jsonfeed(source: ReplaySource, items: list[ReplayItem], self_url: str) -> bytes:
    feed: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": source.title,
        "home_page_url": source.link,
        "authors": [{"name": source.name}],
        "items": [],
    }
    if self_url:
        feed["feed_url"] = self_url
    if source.lang:
        feed["language"] = source.lang
    for item in items:
        entry: dict[str, Any] = {
            "id": item.id,
            "url": item.link,
            "title": item.title,
            "summary": item.summary,
            "date_published": item.time.isoformat(),
        }
        if item.revises is not None:
            entry["date_modified"] = _updated(source, item).isoformat()
        if item.lang and item.lang != source.lang:
            entry["language"] = item.lang
        feed["items"].append(entry)
    return _json(feed)


def _render_wire(source: ReplaySource, items: list[ReplayItem], changed: datetime | None) -> bytes:
    """The newswire's JSON, shaped by the source's own field mapping (dotted paths)."""
    mapping = source.wire
    stories: list[dict[str, Any]] = []
    for item in items:
        story: dict[str, Any] = {}
        _put(story, mapping["id"], item.id)
        _put(story, mapping["title"], item.title)
        _put(story, mapping["url"], item.link)
        _put(story, mapping["time"], _zulu(item.time))
        _put(story, mapping["summary"], item.summary)
        # What a real wire adds around the mapped fields: version and language.
        story.setdefault("version", 1 if item.revises is None else 2)
        story.setdefault("language", item.lang or source.lang)
        if item.revises is not None:
            story.setdefault("updated", _zulu(_updated(source, item)))
        stories.append(story)
    document: dict[str, Any] = {"status": "ok", "service": source.name}
    if changed is not None:
        document["generated"] = _zulu(changed)
    if mapping["items"]:
        _put(document, mapping["items"], stories)
        return _json(document)
    return _json(stories)


def _updated(source: ReplaySource, item: ReplayItem) -> datetime:
    """When a shown item last changed: its revision's time, or its own."""
    if item.revises is None:
        return item.time
    for revision in source.revisions:
        if revision.id == item.revises:
            return revision.time
    return item.time


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text


def _xml(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8")  # no declaration for utf-8: we add ours
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def _zulu(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the server ----------------------------------------------------------------------------------


class ReplayServer:
    """Serves a replay on 127.0.0.1 with simulated time; a real HTTP/1.1 server in threads.

    Args:
        replay: what to serve (default: the bundled London replay).
        clock: the replay clock (default: one at ``start``/``speed``, or the manifest's).
        start: where the default clock starts (default: the manifest's, 9 June 08:00 London).
        speed: the default clock's replay seconds per real second (default: the manifest's).
        hang: seconds a "timeout" source keeps requests waiting (default: the manifest's).
        max_items: the most items one response lists.
        host, port: where to listen (port 0: a free one).

    Use ``start()``/``stop()`` or ``with ReplayServer() as server:``; ``url(source_id)`` gives
    each source's address once started.
    """

    def __init__(
        self,
        replay: Replay | None = None,
        *,
        clock: ReplayClock | None = None,
        start: datetime | None = None,
        speed: float | None = None,
        hang: float | None = None,
        max_items: int = MAX_ITEMS,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.replay = replay or load_replay()
        self.clock = clock or ReplayClock(
            start if start is not None else self.replay.start,
            speed if speed is not None else self.replay.speed,
        )
        self.hang = hang
        self.max_items = max_items
        self.host = host
        self.port = port
        self.requests = 0  # answered so far (any status)
        self._lock = threading.Lock()
        self._paths = {source.path: source for source in self.replay.sources}
        self._cache: dict[tuple[str, datetime | None], Rendered] = {}
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Bind to a port and serve in a daemon thread."""
        if self._httpd is not None:
            return
        httpd = _HTTPServer((self.host, self.port), self)
        self.port = int(httpd.server_address[1])
        self._cache.clear()  # rendered feeds name their own URL, which has the port in it
        thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name="replay-server", daemon=True
        )
        thread.start()
        self._httpd, self._thread = httpd, thread

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, wake and close every open connection, and join the threads."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        httpd.stopping.set()  # hanging handlers return at once
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        thread.join(timeout)
        httpd.join_handlers(timeout)
        self._httpd = self._thread = None

    def __enter__(self) -> ReplayServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    # -- addresses ----------------------------------------------------------------------------

    def url(self, source_id: str = "") -> str:
        """The URL of a source (or of the server's index, ``/``)."""
        if self._httpd is None:
            raise RuntimeError("the replay server is not started")
        path = self.replay.source(source_id).path if source_id else "/"
        return f"http://{self.host}:{self.port}{path}"

    # -- answers ------------------------------------------------------------------------------

    def render(self, source: ReplaySource, now: datetime) -> Rendered:
        """The source as of ``now``; renders once per change of what it shows."""
        key = (source.id, source.changed_at(now))
        rendered = self._cache.get(key)
        if rendered is None:
            self_url = f"http://{self.host}:{self.port}{source.path}"
            rendered = render_source(source, now, self_url=self_url, limit=self.max_items)
            self._cache[key] = rendered  # one writer may race another: both render the same
        return rendered

    def index(self) -> bytes:
        now = self.clock.now()
        return _json(
            {
                "replay": self.replay.name,
                "now": now.isoformat(),
                "speed": self.clock.speed,
                "sources": [
                    {
                        "id": s.id,
                        "name": s.name,
                        "kind": s.kind,
                        "url": self.url(s.id),
                        "visible": len(s.visible(now, self.max_items)),
                        "failing": s.failing(now),
                    }
                    for s in self.replay.sources
                ],
            }
        )

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def source_at(self, path: str) -> ReplaySource | None:
        return self._paths.get(path)


class _HTTPServer(ThreadingHTTPServer):
    """The socket server: one daemon thread per connection, every connection tracked for stop."""

    daemon_threads = True
    block_on_close = False  # we join our own handler threads, with a timeout
    request_queue_size = 64
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], replay: ReplayServer) -> None:
        super().__init__(address, _Handler)
        self.replay = replay
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._open: dict[socket.socket, threading.Thread] = {}

    def track(self, connection: socket.socket) -> None:
        with self._lock:
            self._open[connection] = threading.current_thread()

    def untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.pop(connection, None)

    def close_connections(self) -> None:
        """Shut down idle keep-alive connections so their threads stop waiting for requests."""
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def join_handlers(self, timeout: float) -> None:
        with self._lock:
            threads = list(self._open.values())
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (after its own timeout, or closing a kept-alive connection) is
        # normal for a feed server, not worth a traceback.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a poller reuses its connections
    server_version = "talkwatch-replay/1"
    timeout = 60  # an idle kept-alive connection is closed after this many seconds
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("replay %s: " + format, self.address_string(), *args)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, *, head: bool) -> None:
        replay = self.server.replay
        replay.count_request()
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._send(200, replay.index(), "application/json; charset=utf-8", head=head)
            return
        source = replay.source_at(path)
        if source is None:
            self._send(404, b"no such feed\n", "text/plain; charset=utf-8", head=head)
            return
        now = replay.clock.now()
        if source.failing(now) and source.fail == "timeout":
            # Keep the client waiting past its deadline; answer (late) only if it is still there.
            hang = replay.hang if replay.hang is not None else source.hang
            if self.server.stopping.wait(hang):
                self.close_connection = True
                return
            now = replay.clock.now()
        elif source.failing(now):
            body = b"<html><body><h1>500 Internal Server Error</h1></body></html>\n"
            self._send(500, body, "text/html; charset=utf-8", head=head)
            return
        self._feed(replay.render(source, now), head=head)

    def _feed(self, rendered: Rendered, *, head: bool) -> None:
        gzipped = _accepts_gzip(self.headers.get("Accept-Encoding", ""))
        etag = rendered.gzip_etag if gzipped else rendered.etag
        if _not_modified(self.headers, rendered):
            self.send_response(304)
            self._validators(etag, rendered)
            self.end_headers()
            return
        body = gzip.compress(rendered.body, mtime=0) if gzipped else rendered.body
        extra = {"Content-Encoding": "gzip"} if gzipped else {}
        self._send(200, body, rendered.content_type, head=head, extra=extra, rendered=rendered)

    def _validators(self, etag: str, rendered: Rendered) -> None:
        self.send_header("ETag", etag)
        if rendered.last_modified is not None:
            self.send_header("Last-Modified", _http_date(rendered.last_modified))
        self.send_header("Cache-Control", "no-cache")  # always revalidate: the replay moves on
        self.send_header("Vary", "Accept-Encoding")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        head: bool,
        extra: Mapping[str, str] | None = None,
        rendered: Rendered | None = None,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            if rendered is not None:
                gzipped = (extra or {}).get("Content-Encoding") == "gzip"
                self._validators(rendered.gzip_etag if gzipped else rendered.etag, rendered)
            self.end_headers()
            if not head:
                self.wfile.write(body)
        except OSError:
            self.close_connection = True  # the client left; nothing to tell it


def _accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (``gzip;q=0`` refuses it)."""
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            match = re.search(r"q\s*=\s*([0-9.]+)", params)
            try:
                return match is None or float(match.group(1)) > 0
            except ValueError:
                return False
    return False


def _not_modified(headers: Any, rendered: Rendered) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or bool(tags & {rendered.etag, rendered.gzip_etag})
    since = headers.get("If-Modified-Since")
    if since and rendered.last_modified is not None:
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return rendered.last_modified.replace(microsecond=0) <= when
    return False
