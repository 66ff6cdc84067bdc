"""A real HTTP server on 127.0.0.1 for tests: feed files with the behaviours servers really have.

Each path maps to a :class:`Route`: a body with ETag/Last-Modified (and 304s), gzip when asked,
redirects, error statuses with Retry-After, slow or drip-fed responses. Every request is logged
with its headers so tests can assert on what the poller sent.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """How the server answers one path."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    validators: bool = True  # send ETag and Last-Modified, answer conditional requests with 304
    send_etag: bool = True  # False: Last-Modified only
    gzip: bool = False  # compress when the client accepts gzip
    raw_gzip: bytes | None = None  # send these bytes as a gzip body as they are (bombs)
    encoded: tuple[str, bytes] | None = None  # (Content-Encoding, bytes) to send as they are
    location: str | None = None  # for 3xx
    delay: float = 0.0  # seconds before answering
    drip: float = 0.0  # seconds between single bytes of the body
    last_modified: str = field(default_factory=lambda: formatdate(time.time() - 3600, usegmt=True))

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass
class Seen:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    status: int
    port: int = 0  # the client's port: one per connection


class FeedServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` with ``routes`` and a ``requests`` log."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.in_flight = 0
        self.max_in_flight = 0

    def handle_error(self, request: object, client_address: object) -> None:
        # A client closing a kept-alive connection is normal, not worth a traceback on stderr.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def url(self, path: str) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def seen(self, path: str) -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FeedServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        with self.server.lock:
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        try:
            self._answer()
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    def _answer(self) -> None:
        route = self.server.routes.get(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        if route is None:
            self._send(404, b"not found", {"Content-Type": "text/plain"}, headers)
            return
        if route.delay:
            if self.server.stopping.wait(route.delay):
                return
        extra = dict(route.headers)
        if route.location is not None:
            extra["Location"] = route.location
        if route.status != 200:
            self._send(
                route.status, route.body, {"Content-Type": route.content_type, **extra}, headers
            )
            return
        if route.validators:
            if route.send_etag:
                extra["ETag"] = route.etag
            extra["Last-Modified"] = route.last_modified
            inm = headers.get("if-none-match")
            ims = headers.get("if-modified-since")
            if (inm and inm == route.etag) or (not inm and ims and ims == route.last_modified):
                self._send(304, b"", extra, headers)
                return
        body = route.body
        if route.raw_gzip is not None:
            body = route.raw_gzip
            extra["Content-Encoding"] = "gzip"
        elif route.encoded is not None:
            extra["Content-Encoding"], body = route.encoded
        elif route.gzip and "gzip" in headers.get("accept-encoding", ""):
            body = gzip.compress(body)
            extra["Content-Encoding"] = "gzip"
        self._send(
            200, body, {"Content-Type": route.content_type, **extra}, headers, drip=route.drip
        )

    def _send(
        self,
        status: int,
        body: bytes,
        extra: dict[str, str],
        headers: dict[str, str],
        *,
        drip: float = 0.0,
    ) -> None:
        with self.server.lock:
            self.server.requests.append(Seen(self.path, headers, status, self.client_address[1]))
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if drip:
                for index in range(len(body)):
                    if self.server.stopping.wait(drip):
                        return
                    self.wfile.write(body[index : index + 1])
                    self.wfile.flush()
            elif status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
