"""HTTP fetching: the only module that imports httpx.

One :class:`httpx.AsyncClient` per run, shared by every source. Each request is polite
(conditional GET, an honest User-Agent, bounded concurrency overall and per host) and defensive
(redirects followed by hand and counted, a total deadline so a drip-feeding server cannot hold a
poll, a cap on the decompressed body so a compression bomb cannot fill memory).
"""

from __future__ import annotations

import asyncio
import email.utils
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from feeds.config import PollConfig
from feeds.errors import BodyTooLarge, FetchError, HTTPStatusError, TooManyRedirects
from feeds.models import FetchResult, Source

REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9,"
    " application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


def make_client(config: PollConfig) -> httpx.AsyncClient:
    """The one client a poll run shares across sources."""
    timeout = httpx.Timeout(
        connect=config.connect_timeout,
        read=config.read_timeout,
        write=config.read_timeout,
        pool=config.deadline,
    )
    limits = httpx.Limits(
        max_connections=config.concurrency,
        max_keepalive_connections=config.concurrency,
        keepalive_expiry=30.0,
    )
    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
        follow_redirects=False,  # followed by hand: counted, and permanent moves recorded
        headers={"User-Agent": config.user_agent, "Accept": ACCEPT},
        trust_env=False,  # a feed reader should not pick up proxies from a stray environment
    )


class Limiter:
    """Bounds requests in flight, overall and per host."""

    def __init__(self, overall: int, per_host: int) -> None:
        self._overall = asyncio.Semaphore(overall)
        self._per_host_limit = per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        host_sem = self._hosts.get(host)
        if host_sem is None:
            host_sem = self._hosts[host] = asyncio.Semaphore(self._per_host_limit)
        async with host_sem, self._overall:
            yield


async def fetch_source(
    client: httpx.AsyncClient,
    source: Source,
    config: PollConfig,
    limiter: Limiter,
    *,
    conditional: bool = True,
) -> FetchResult:
    """Fetch one source's URL.

    Args:
        client: the run's shared client.
        source: what to fetch; its stored ETag and Last-Modified make the request conditional.
        config: timeouts, caps and redirect limit.
        limiter: the run's concurrency bounds.
        conditional: send the stored validators (``False`` forces a full fetch).

    Returns:
        A 2xx result with the decompressed body, or a 304 result without one.

    Raises:
        FetchError: timeouts, connection failures, error statuses (with ``status`` and
            ``retry_after`` set), too many redirects or a body over the cap.
    """
    headers: dict[str, str] = {}
    if conditional and source.etag:
        headers["If-None-Match"] = source.etag
    if conditional and source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    url = source.url
    permanent = True
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline_at = started + config.deadline
    for _hop in range(config.max_redirects + 1):
        _check_scheme(url)
        async with limiter.slot(url):
            try:
                async with asyncio.timeout_at(deadline_at):
                    result = await _get_once(client, url, headers, config)
            except TimeoutError as exc:
                raise FetchError(f"gave up after {config.deadline:g}s (deadline)") from exc
            except httpx.TimeoutException as exc:
                raise FetchError(f"timed out ({_timeout_kind(exc)})") from exc
            except httpx.HTTPError as exc:
                raise FetchError(_describe_http_error(exc)) from exc
        if isinstance(result, _Redirect):
            permanent = permanent and result.status in PERMANENT_REDIRECTS
            url = result.location
            continue
        moved_to = url if permanent and url != source.url else None
        return FetchResult(
            status=result.status,
            url=url,
            body=result.body,
            content_type=result.content_type,
            etag=result.etag,
            last_modified=result.last_modified,
            max_age=result.max_age,
            moved_to=moved_to,
            elapsed=loop.time() - started,
        )
    raise TooManyRedirects(f"more than {config.max_redirects} redirects (last: {url})")


@dataclass(frozen=True, slots=True)
class _Redirect:
    status: int
    location: str


async def _get_once(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], config: PollConfig
) -> FetchResult | _Redirect:
    request = client.build_request("GET", url, headers=headers)
    response = await client.send(request, stream=True)
    try:
        status = response.status_code
        if status != 200:
            # Drain what is left of a small body (a 304 has none, redirects and errors a
            # little) so the connection goes back to the pool instead of being closed.
            await _drain_small(response)
        if status in REDIRECTS:
            location = response.headers.get("location", "").strip()
            if not location:
                raise HTTPStatusError(f"HTTP {status} redirect without a Location", status=status)
            return _Redirect(status, urljoin(url, location))
        if status == 304:
            return FetchResult(
                status=304,
                url=url,
                etag=response.headers.get("etag") or headers.get("If-None-Match"),
                last_modified=response.headers.get("last-modified")
                or headers.get("If-Modified-Since"),
                max_age=_max_age(response.headers),
            )
        if status >= 400 or status < 200:
            raise HTTPStatusError(
                f"HTTP {status} {response.reason_phrase}".strip(),
                status=status,
                retry_after=_retry_after(response.headers.get("retry-after")),
            )
        body = await _read_capped(response, config.max_body_bytes)
        return FetchResult(
            status=status,
            url=url,
            body=body,
            content_type=response.headers.get("content-type", ""),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            max_age=_max_age(response.headers),
        )
    finally:
        await response.aclose()


async def _drain_small(response: httpx.Response, limit: int = 64 * 1024) -> None:
    length = response.headers.get("content-length", "")
    if response.status_code in (204, 304) or (length.isdigit() and int(length) <= limit):
        try:
            await response.aread()
        except httpx.HTTPError:
            pass  # the answer is already known; a broken body only costs the connection


async def _read_capped(response: httpx.Response, cap: int) -> bytes:
    """Read the decompressed body, stopping as soon as it passes ``cap`` bytes."""
    declared = response.headers.get("content-length")
    encoded = response.headers.get("content-encoding", "identity").lower() not in ("", "identity")
    if declared and declared.isdigit() and not encoded and int(declared) > cap:
        raise BodyTooLarge(f"body of {int(declared):,} bytes is over the {cap:,}-byte cap")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge(f"body passed the {cap:,}-byte cap (decompressed)")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"not an http(s) URL: {url[:200]}")


def _timeout_kind(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect"
    if isinstance(exc, httpx.ReadTimeout):
        return "read"
    if isinstance(exc, httpx.PoolTimeout):
        return "pool"
    return "write"


def _describe_http_error(exc: httpx.HTTPError) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        if "Name or service not known" in text or "nodename nor servname" in text:
            return "DNS lookup failed (host unknown or offline)"
        if "Connection refused" in text:
            return "connection refused"
        return f"connection failed: {text}"
    if isinstance(exc, httpx.DecodingError):
        return f"bad compressed body: {text}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"protocol error: {text}"
    return text


def _retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def _max_age(headers: httpx.Headers) -> float | None:
    """How long the server says the response stays fresh (Cache-Control, else Expires)."""
    control = headers.get("cache-control", "")
    if re.search(r"no-store|no-cache", control, re.IGNORECASE):
        return None
    match = _MAX_AGE.search(control)
    if match:
        return float(match.group(1))
    expires = headers.get("expires")
    if not expires:
        return None
    try:
        when = email.utils.parsedate_to_datetime(expires)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    base = datetime.now(UTC)
    date = headers.get("date")
    if date:
        try:
            base = email.utils.parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError):
            pass
        if base.tzinfo is None:
            base = base.replace(tzinfo=UTC)
    seconds = (when - base).total_seconds()
    return seconds if seconds > 0 else None
