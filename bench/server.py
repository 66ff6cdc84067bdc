"""A threaded HTTP/1.1 server that serves a feed corpus on 127.0.0.1 for the ingest benchmark.

Every response is rendered once at startup (status line, headers and body, plain and gzip, 200
and 304), so a request costs the stdlib's header parsing, a dict look-up, a validator compare
and one `sendall`. The server keeps connections alive, answers If-None-Match and
If-Modified-Since with 304, serves gzip to clients that accept it and counts what it did.

    server = FeedServer(build_corpus())
    server.start()              # background thread; server.url("/feeds/000.xml")
    ...
    server.stop()
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from corpus import FeedDocument


@dataclass(frozen=True, slots=True)
class ServerStats:
    """Counters since the server started; subtract two snapshots to get one run's share."""

    requests: int = 0
    ok: int = 0
    not_modified: int = 0
    other: int = 0
    gzip: int = 0
    conditional: int = 0
    connections: int = 0
    bytes_sent: int = 0

    def __sub__(self, other: ServerStats) -> ServerStats:
        return ServerStats(
            requests=self.requests - other.requests,
            ok=self.ok - other.ok,
            not_modified=self.not_modified - other.not_modified,
            other=self.other - other.other,
            gzip=self.gzip - other.gzip,
            conditional=self.conditional - other.conditional,
            connections=self.connections - other.connections,
            bytes_sent=self.bytes_sent - other.bytes_sent,
        )


@dataclass(frozen=True, slots=True)
class _Resource:
    """The pre-rendered responses for one feed."""

    etags: frozenset[str]  # both representations' tags: either one validates
    last_modified: datetime
    last_modified_http: str
    ok_plain: bytes
    ok_gzip: bytes
    head_plain: bytes
    head_gzip: bytes
    not_modified_plain: bytes
    not_modified_gzip: bytes


def _render(status: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers), "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


def _build_resource(doc: FeedDocument) -> _Resource:
    # A strong ETag names one representation, so the gzip one gets its own tag (as Apache does).
    tag = hashlib.sha256(doc.body).hexdigest()[:24]
    etag_plain, etag_gzip = f'"{tag}"', f'"{tag}-gz"'
    last_modified = format_datetime(doc.last_modified, usegmt=True)
    compressed = gzip.compress(doc.body, compresslevel=6, mtime=0)
    common = [
        ("Server", "talkwatch-bench"),
        ("Last-Modified", last_modified),
        ("Cache-Control", "max-age=0"),
        ("Vary", "Accept-Encoding"),
    ]
    plain_headers = [*common, ("ETag", etag_plain)]
    gzip_headers = [*common, ("ETag", etag_gzip)]

    def ok(headers: list[tuple[str, str]], body: bytes, encoded: bool) -> bytes:
        extra = [("Content-Encoding", "gzip")] if encoded else []
        return _render(
            "200 OK",
            [
                *headers,
                ("Content-Type", doc.content_type),
                *extra,
                ("Content-Length", str(len(body))),
            ],
        )

    head_plain = ok(plain_headers, doc.body, encoded=False)
    head_gzip = ok(gzip_headers, compressed, encoded=True)
    return _Resource(
        etags=frozenset({etag_plain, etag_gzip}),
        last_modified=doc.last_modified,
        last_modified_http=last_modified,
        ok_plain=head_plain + doc.body,
        ok_gzip=head_gzip + compressed,
        head_plain=head_plain,
        head_gzip=head_gzip,
        not_modified_plain=_render("304 Not Modified", plain_headers),
        not_modified_gzip=_render("304 Not Modified", gzip_headers),
    )


@lru_cache(maxsize=64)
def accepts_gzip(accept_encoding: str) -> bool:
    """Tell whether an Accept-Encoding value allows gzip (a q=0 forbids it)."""
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip().lower().replace(" ", "")
        return not (q.startswith("q=") and q[2:] in ("0", "0.0", "0.00", "0.000"))
    return False


def etag_matches(if_none_match: str, etags: frozenset[str]) -> bool:
    """Weak comparison of an If-None-Match list with the current tags (RFC 9110 13.1.2)."""
    if if_none_match.strip() == "*":
        return True
    for candidate in if_none_match.split(","):
        candidate = candidate.strip().removeprefix("W/")
        if candidate in etags:
            return True
    return False


def not_modified_since(if_modified_since: str, resource: _Resource) -> bool:
    """Tell whether the resource is unchanged since the If-Modified-Since date."""
    if if_modified_since == resource.last_modified_http:  # the usual case: echo of our header
        return True
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False  # an invalid date is ignored (RFC 9110 13.1.3)
    if since.tzinfo is None:
        return False
    return resource.last_modified <= since


class FeedRequestHandler(BaseHTTPRequestHandler):
    """Answers GET/HEAD for the corpus from pre-rendered bytes."""

    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = "talkwatch-bench"
    timeout = 60  # an idle keep-alive connection's thread ends after this
    server: FeedServer

    def setup(self) -> None:
        super().setup()
        self.server.count_connection()

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _respond(self, head: bool) -> None:
        resource = self.server.resources.get(self.path)
        if resource is None:
            self.server.count(status=404, encoded=False, conditional=False, sent=0)
            self.send_error(404)
            return
        headers = self.headers
        use_gzip = accepts_gzip(headers.get("Accept-Encoding", ""))
        if_none_match = headers.get("If-None-Match")
        if if_none_match is not None:  # If-Modified-Since is ignored then (RFC 9110 13.2.2)
            conditional = True
            unchanged = etag_matches(if_none_match, resource.etags)
        else:
            if_modified_since = headers.get("If-Modified-Since")
            conditional = if_modified_since is not None
            unchanged = conditional and not_modified_since(str(if_modified_since), resource)
        if unchanged:
            data = resource.not_modified_gzip if use_gzip else resource.not_modified_plain
            status = 304
        else:
            status = 200
            if head:
                data = resource.head_gzip if use_gzip else resource.head_plain
            else:
                data = resource.ok_gzip if use_gzip else resource.ok_plain
        self.wfile.write(data)
        self.server.count(status=status, encoded=use_gzip, conditional=conditional, sent=len(data))

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: a log line per request would cost more than the request."""


class FeedServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer on 127.0.0.1 that serves documents at their paths."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 256  # 16+ clients connecting at once must not see a refused connection
    allow_reuse_address = True

    def __init__(self, documents: Iterable[FeedDocument], host: str = "127.0.0.1") -> None:
        self.resources: dict[str, _Resource] = {doc.path: _build_resource(doc) for doc in documents}
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._thread: threading.Thread | None = None
        super().__init__((host, 0), FeedRequestHandler)

    @property
    def base_url(self) -> str:
        """The server's root URL, e.g. http://127.0.0.1:45231."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        """Return the absolute URL of a path on this server."""
        return self.base_url + path

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join()

    def stats(self) -> ServerStats:
        """Return a snapshot of the counters."""
        with self._lock:
            return ServerStats(**self._counts)

    def count_connection(self) -> None:
        """Count one accepted connection."""
        with self._lock:
            self._counts["connections"] += 1

    def count(self, *, status: int, encoded: bool, conditional: bool, sent: int) -> None:
        """Count one request."""
        key = {200: "ok", 304: "not_modified"}.get(status, "other")
        with self._lock:
            counts = self._counts
            counts["requests"] += 1
            counts[key] += 1
            counts["gzip"] += encoded
            counts["conditional"] += conditional
            counts["bytes_sent"] += sent
