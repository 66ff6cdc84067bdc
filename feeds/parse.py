"""Turning fetched bytes into normalised entries.

Three kinds of source: ``rss`` (RSS 0.9x/1.0/2.0, Atom, RDF) through feedparser, ``jsonfeed``
(JSON Feed 1.0/1.1) and ``wire`` (a JSON API with a field mapping) through small parsers of our
own. Plain UTF-8 RSS/Atom, most of what a poll fetches, is read by :mod:`feeds.fastfeed`, which
gives feedparser's fields at a third of its cost and hands everything else to feedparser.
Parsing is CPU-bound: :mod:`feeds.workers` runs it off the event loop, in worker processes when
there is more than one core to use.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from feeds.errors import ParseError
from feeds.fastfeed import FeedparserRules, fast_parse
from feeds.models import WIRE_KEYS, Entry, ParsedFeed
from feeds.normalize import canonical_url, parse_iso_time, plain_text, title_key, to_utc
from feeds.tagging import Tagger

MAX_SUMMARY_CHARS = 4000
MAX_TITLE_CHARS = 500
# Guesses for a wire source's fields when its mapping leaves one out (first present wins).
WIRE_DEFAULTS: dict[str, tuple[str, ...]] = {
    "items": ("items", "articles", "results", "stories", "data", "news"),
    "id": ("id", "guid", "uuid", "uri"),
    "title": ("title", "headline", "name"),
    "url": ("url", "link", "href", "web_url"),
    "time": (
        "published",
        "published_at",
        "publishedAt",
        "date",
        "time",
        "timestamp",
        "firstCreated",
        "updated",
    ),
    "summary": ("summary", "description", "abstract", "lede", "body", "content"),
}
assert frozenset(WIRE_DEFAULTS) == WIRE_KEYS


# Keyword arguments that make feedparser skip work we redo ourselves: its HTML sanitizer and
# relative-URI rewriting run over every summary, and we reduce summaries to plain text anyway.
_FEEDPARSER_ARGS: dict[str, Any] = {"sanitize_html": False, "resolve_relative_uris": False}


def parse_body(
    kind: str,
    body: bytes,
    *,
    url: str,
    content_type: str = "",
    options: Mapping[str, Any] | None = None,
    tagger: Tagger | None = None,
) -> ParsedFeed:
    """Parse one fetched body of the given source kind.

    Args:
        kind: ``rss``, ``jsonfeed`` or ``wire``.
        body: the decompressed bytes as fetched.
        url: the URL the body came from (base for relative links).
        content_type: the response's Content-Type, which may name the encoding.
        options: a wire source's field mapping.

    Returns:
        The entries, normalised to plain text, canonical links and UTC times.

    Raises:
        ParseError: the body is not a feed of this kind.
    """
    if kind == "rss":
        parsed = parse_rss(body, url=url, content_type=content_type)
    elif kind == "jsonfeed":
        parsed = parse_jsonfeed(body, url=url)
    elif kind == "wire":
        parsed = parse_wire(body, url=url, options=options or {})
    else:
        raise ParseError(f"unknown source kind {kind!r}")
    if tagger is None:
        return parsed
    # Tagged where the parsing runs (a worker process), not in the poller's busy main process.
    entries = tuple(
        dataclasses.replace(e, tagging=tagger.tag(e.title, e.summary)) for e in parsed.entries
    )
    return dataclasses.replace(parsed, entries=entries)


def parse_rss(body: bytes, *, url: str, content_type: str = "", fast: bool = True) -> ParsedFeed:
    """Parse RSS/Atom/RDF bytes: plain UTF-8 feeds by :mod:`feeds.fastfeed`, the rest by feedparser.

    Both give the same fields (tests/test_fastfeed.py); ``fast=False`` always uses feedparser.
    """
    read = fast_parse(body, content_type, feedparser_rules()) if fast else None
    raw_entries: Sequence[dict[str, Any]]
    if read is not None:
        feed, raw_entries = read
        warnings: list[str] = []
    else:
        feed, raw_entries, warnings = _feedparser_read(body, url=url, content_type=content_type)
    base = canonical_url(feed.get("link"), base=url) or url
    entries = tuple(_rss_entry(entry, url, base) for entry in raw_entries if _has_substance(entry))
    ttl: int | None = None
    raw_ttl = str(feed.get("ttl", "")).strip()
    if raw_ttl.isdigit():
        ttl = int(raw_ttl) * 60
    return ParsedFeed(
        entries=entries, title=plain_text(feed.get("title")), ttl=ttl, warnings=tuple(warnings)
    )


def _feedparser_read(
    body: bytes, *, url: str, content_type: str
) -> tuple[dict[str, Any], Sequence[dict[str, Any]], list[str]]:
    """feedparser's feed and entries (which does no network I/O here), and its warnings."""
    # No content-location: feedparser would then urljoin every link-like element of the
    # document (a third of its time on news feeds); we make the few links we keep absolute
    # ourselves. xml:base inside the document is still honoured by feedparser.
    headers = {"content-type": content_type} if content_type else {}
    feedparser = import_feedparser()
    result = feedparser.parse(io.BytesIO(body), response_headers=headers, **_FEEDPARSER_ARGS)
    warnings: list[str] = []
    if result.get("bozo"):
        exc = result.get("bozo_exception")
        message = f"{type(exc).__name__}: {exc}".strip()
        if not result.entries:
            # Bozo that says the server mislabelled the feed, not that the feed is broken.
            harmless = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
            if result.get("version") and isinstance(exc, harmless):
                return result.feed, [], [message]
            if result.get("version"):
                raise ParseError(f"broken feed with no readable entries ({message})")
            raise ParseError(f"not a feed{_html_hint(body, content_type)} ({message})")
        warnings.append(message)
    elif not result.entries and not result.get("version"):
        raise ParseError(f"not a feed{_html_hint(body, content_type)}")
    return result.feed, result.entries, warnings


@functools.cache
def import_feedparser() -> Any:
    """feedparser, imported on first use and set to our buffered expat driver (feeds._expat).

    Imported here, not at the top: the poller's own process only parses when it has no
    worker processes.
    """
    import feedparser
    import feedparser.api

    feedparser.api.PREFERRED_XML_PARSERS = ["feeds._expat"]
    return feedparser


@functools.cache
def feedparser_rules() -> FeedparserRules:
    """feedparser's element handlers, namespace table and date parser, for :mod:`feeds.fastfeed`."""
    feedparser = import_feedparser()
    from feedparser.datetimes import _parse_date

    parser = feedparser.api.StrictFeedParser
    handled = frozenset(
        name.removeprefix("_start_").removeprefix("_end_")
        for name in dir(parser)
        if name.startswith(("_start_", "_end_"))
    )
    namespaces = {uri.lower(): prefix for uri, prefix in parser.namespaces.items()}
    return FeedparserRules(handled, namespaces, _parse_date)


def _has_substance(entry: dict[str, Any]) -> bool:
    """False for the empty shells feedparser makes of illegally nested items."""
    return any(entry.get(key) for key in ("title", "summary", "link", "id", "content"))


def _rss_entry(entry: dict[str, Any], url: str, base: str) -> Entry:
    # dict.get, not entry.get: FeedParserDict's own lookups map aliases on every call, which
    # costs more than the rest of this function on a 10,000-entry round.
    get = dict.get
    link = canonical_link(str(get(entry, "link") or ""), url)
    title = plain_text(get(entry, "title"))[:MAX_TITLE_CHARS]
    summary_html = get(entry, "summary")
    if not summary_html:
        content = get(entry, "content")
        if content:
            summary_html = content[0].get("value")
    summary = plain_text(summary_html)[:MAX_SUMMARY_CHARS]
    when: datetime | None = None
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = get(entry, key)
        if parsed:
            when = to_utc(parsed)
            if when is not None:
                break
    raw_id = str(get(entry, "id") or "").strip()
    return _entry(raw_id, title, summary, canonical_url(link), link, when)


def canonical_link(link: str, base: str) -> str:
    """A published link made absolute (not stripped of anything else)."""
    link = link.strip()
    if not link:
        return ""
    if link.startswith(("https://", "http://")):
        return link  # already absolute: the common case, without urljoin's cost
    try:
        return urljoin(base, link)
    except ValueError:
        return link


def _entry(
    raw_id: str, title: str, summary: str, url: str, link: str, when: datetime | None
) -> Entry:
    """Build an entry, with a stable identity when the feed gives none."""
    if raw_id.startswith(("http://", "https://")):
        guid = identity_url(raw_id)
    elif raw_id:
        guid = raw_id
    elif link or url:
        guid = identity_url(link or url)
    else:
        # No id and no link: the title and time are all that stays the same between polls.
        stamp = when.isoformat() if when else ""
        guid = "sha1:" + hashlib.sha1(f"{title}\n{stamp}".encode()).hexdigest()
    if not title:
        words = summary.split()
        title = " ".join(words[:14]) + (" …" if len(words) > 14 else "") if words else "(no title)"
    return Entry(
        guid=guid[:2000],
        title=title,
        summary=summary,
        url=url,
        link=link or url,
        published=when,
        title_key=title_key(title),
    )


def identity_url(link: str) -> str:
    """A link as an item identity: canonical (no tracking), but keeping its ``#fragment``.

    Some feeds tell items apart only by fragment (``entries.php#111``, ``#110``...), so the
    fragment that :func:`canonical_url` drops for story grouping must stay for identity.
    """
    canon = canonical_url(link) or link
    try:
        fragment = urlsplit(link.strip()).fragment
    except ValueError:
        return canon
    return f"{canon}#{fragment}" if fragment else canon


def _html_hint(body: bytes, content_type: str) -> str:
    head = body[:512].lstrip().lower()
    if "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html")):
        return " (the server sent an HTML page; a login wall or bot check?)"
    return ""


def parse_jsonfeed(body: bytes, *, url: str) -> ParsedFeed:
    """Parse JSON Feed 1.0/1.1."""
    data = _load_json(body)
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(
        ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")
    ):
        raise ParseError("not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise ParseError("JSON Feed without an items list")
    base = str(data.get("home_page_url") or url)
    entries = []
    for raw in items:
        if not isinstance(raw, dict):
            continue
        link = str(raw.get("url") or raw.get("external_url") or "")
        summary = raw.get("summary") or raw.get("content_text") or raw.get("content_html")
        entries.append(
            _entry(
                _text_id(raw.get("id")),
                plain_text(_str(raw.get("title")))[:MAX_TITLE_CHARS],
                plain_text(_str(summary))[:MAX_SUMMARY_CHARS],
                canonical_url(link, base=base),
                canonical_link(link, base),
                parse_iso_time(_str(raw.get("date_published") or raw.get("date_modified"))),
            )
        )
    return ParsedFeed(entries=tuple(entries), title=plain_text(_str(data.get("title"))))


def parse_wire(body: bytes, *, url: str, options: Mapping[str, Any]) -> ParsedFeed:
    """Parse a newswire JSON API through the source's field mapping.

    The mapping names dotted paths: ``items`` (the list; empty means the document is the list),
    and, within each item, ``id``, ``title``, ``url``, ``time`` and ``summary``.
    """
    data = _load_json(body)
    items_path = options.get("items")
    if items_path is None:
        items = data if isinstance(data, list) else _first(data, WIRE_DEFAULTS["items"])
    else:
        items = _dig(data, str(items_path)) if items_path else data
    if not isinstance(items, list):
        where = f"at {items_path!r}" if items_path else "(set the source's items mapping)"
        raise ParseError(f"wire response has no item list {where}")
    entries = []
    for raw in items:
        if not isinstance(raw, dict):
            continue

        def field(name: str, raw: dict[str, Any] = raw) -> Any:
            path = options.get(name)
            return _dig(raw, str(path)) if path else _first(raw, WIRE_DEFAULTS[name])

        link = _str(field("url"))
        when_raw = field("time")
        entries.append(
            _entry(
                _text_id(field("id")),
                plain_text(_str(field("title")))[:MAX_TITLE_CHARS],
                plain_text(_str(field("summary")))[:MAX_SUMMARY_CHARS],
                canonical_url(link, base=url),
                canonical_link(link, url),
                parse_iso_time(_str(when_raw)),
            )
        )
    return ParsedFeed(entries=tuple(entries))


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"not valid JSON: {exc}") from exc


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _first(data: Any, keys: Sequence[str]) -> Any:
    if not isinstance(data, dict):
        return None
    for key in keys:
        if data.get(key) not in (None, ""):
            return data[key]
    return None


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _text_id(value: Any) -> str:
    return _str(value).strip()
