"""A fast reader for the plain, well-formed RSS 2.0, RSS 1.0 and Atom 1.0 feeds most polls fetch.

feedparser reads anything, but it pays for that in Python: each element goes through its SAX
dispatch, context dictionaries and content bookkeeping, about 0.2 ms an entry even with its
sanitizer off. This module drives pyexpat directly and builds the few fields
:mod:`feeds.parse` takes from feedparser (per entry: ``title``, ``link``, ``summary``,
``content``, ``id`` and the parsed dates; per feed: ``title``, ``link`` and ``ttl``) with
feedparser's own rules: which element fills which field, first or last wins, guids as links,
description versus content, whitespace stripping, the latin-1 mojibake and cp1252 repairs, and
feedparser's date parser.

It answers only for documents whose every step it models, and returns ``None`` for anything
else, which feedparser then parses as before: an encoding other than UTF-8 (declared or sent),
a DOCTYPE, anything expat rejects, ``xml:base``, markup inside a text element,
base64 or XHTML content, and any element that feedparser has a handler for but this module
does not model (``media:title``, ``itunes:summary``, ``image`` inside an item, ...). Elements
feedparser has no handler for (``feedburner:origLink``, a publisher's own namespace) only
become fields nobody reads, so they are skipped.

tests/test_fastfeed.py holds it to that: on every feed of the real-feed corpus, the benchmark
corpus and generated documents, either it declines or its entries equal feedparser's.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

__all__ = ["fast_parse"]

Record = dict[str, Any]  # the feedparser-shaped fields of a feed or an entry


class _Decline(Exception):
    """The document needs feedparser."""


ATOM_NS = "http://www.w3.org/2005/Atom"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS1_NS = ("http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/")

# feedparser element names this module models, by the field they feed.
_TITLES = frozenset({"title", "dc_title"})
_DATES = {
    "pubdate": "published_parsed",
    "published": "published_parsed",
    "issued": "published_parsed",
    "dcterms_issued": "published_parsed",
    "updated": "updated_parsed",
    "modified": "updated_parsed",
    "lastbuilddate": "updated_parsed",
    "dc_date": "updated_parsed",
    "dcterms_modified": "updated_parsed",
    "created": "created_parsed",
    "dcterms_created": "created_parsed",
}
_SUMMARIES = frozenset({"description", "summary"})
_CONTENTS = frozenset({"content", "content_encoded"})
_ENTRY_FIELDS = _TITLES | frozenset(_DATES) | {"link", "guid", "id"} | _SUMMARIES | _CONTENTS
_FEED_FIELDS = _TITLES | {"link", "guid", "id", "ttl"}

# Elements feedparser has handlers for that leave every field read here alone (checked against
# its source): they only fill authors, tags, enclosures, media and the like.
_HARMLESS_IN_ENTRY = frozenset(
    {
        "author",
        "category",
        "comments",
        "contributor",
        "dc_creator",
        "dc_language",
        "dc_publisher",
        "dc_rights",
        "dc_subject",
        "email",
        "enclosure",
        "expirationdate",
        "media_category",
        "media_content",
        "media_credit",
        "media_group",
        "media_keywords",
        "media_license",
        "media_player",
        "media_rating",
        "media_restriction",
        "media_thumbnail",
        "name",
        "rights",
        "source",
        "uri",
        "url",
    }
)
_HARMLESS_IN_FEED = _HARMLESS_IN_ENTRY - {"source"} | {
    "cloud",
    "copyright",
    "description",
    "docs",
    "generator",
    "icon",
    "language",
    "logo",
    "managingeditor",
    "subtitle",
    "tagline",
    "webmaster",
    # dates of the feed itself, which feeds.parse does not read
    *_DATES,
}
_IMAGE_CHILDREN = frozenset({"title", "link", "url", "width", "height", "description"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_COPIED_TO_SUMMARY = _HTML_TYPES | {"text/plain"}

_URI_FIXER = re.compile("^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")
_ENTITY_LIKE = re.compile("&([A-Za-z0-9_]+);")
_ENCODING_DECL = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_C1 = re.compile("[\x80-\x9f]")
_CP1252 = {
    code: bytes([code]).decode("cp1252")
    for code in range(0x80, 0xA0)
    if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}


def fast_parse(
    body: bytes, content_type: str, rules: FeedparserRules
) -> tuple[Record, list[Record]] | None:
    """Read a plain UTF-8 RSS/Atom/RDF document the way feedparser would, or decline.

    Args:
        body: the document as fetched.
        content_type: the response's Content-Type header, if any.
        rules: feedparser's element handlers, namespaces and date parser.

    Returns:
        The feed's fields and its entries' fields, keyed as feedparser keys them; ``None``
        when the document needs feedparser.
    """
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]  # feedparser drops it too, without a warning
    if not _plain_utf8(body, content_type):
        return None
    try:
        return _Reader(rules).read(body)
    except (_Decline, expat.ExpatError):
        return None


def _plain_utf8(body: bytes, content_type: str) -> bool:
    """True when feedparser would decode the body as UTF-8 without any warning."""
    if not body.startswith(b"<"):
        return False  # leading space or not XML at all: feedparser's rules get involved
    mime, _, params = content_type.partition(";")
    mime = mime.strip().lower()
    charset = ""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower()
    xml_type = (
        mime == "application/xml" or mime.startswith("application/") and mime.endswith("+xml")
    )
    if mime and not xml_type and not (mime == "text/xml" and charset):
        return False  # not an XML type (feedparser warns), or text/xml, which means us-ascii
    if charset not in ("", "utf-8"):
        return False
    declared = _ENCODING_DECL.match(body[:200])
    return declared is None or declared.group(1).lower() == b"utf-8"


@dataclass(frozen=True, slots=True)
class FeedparserRules:
    """What this module takes from feedparser itself, so that the two cannot drift apart.

    :mod:`feeds.parse`, the only module that imports feedparser, builds it once.
    """

    handled: frozenset[str]  # element names feedparser has a start or end handler for
    namespaces: Mapping[str, str]  # lower-cased namespace URI -> feedparser's prefix for it
    parse_date: Callable[[str], Any]  # feedparser's date parser


def _clean(text: str) -> str:
    """feedparser's last steps for every text: latin-1 mojibake undone, cp1252 mapped."""
    if text.isascii():
        return text
    try:
        text = text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return text.translate(_CP1252) if _C1.search(text) else text


def _resolve(uri: str) -> str:
    """feedparser's URI resolution with no base: only slashes after ``scheme://`` collapse."""
    return _URI_FIXER.sub(r"\1\3", uri)


def _map_type(content_type: str) -> str:
    content_type = content_type.lower()
    if content_type in ("text", "plain"):
        return "text/plain"
    if content_type == "html":
        return "text/html"
    if content_type == "xhtml":
        return "application/xhtml+xml"
    return content_type


def _is_base64(attrs: dict[str, str], content_type: str) -> bool:
    if attrs.get("mode", "") == "base64":
        return True
    return not (content_type.startswith("text/") or content_type.endswith(("+xml", "/xml")))


class _Reader:
    """One document's walk, keeping the parts of feedparser's state that decide our fields."""

    def __init__(self, rules: FeedparserRules) -> None:
        self.facts = rules
        self.feed: Record = {}
        self.entries: list[Record] = []
        self.entry: Record | None = None
        self.depth = 0
        self.entry_depth = 0  # depth of the open <item>/<entry>
        self.feed_depth = 0  # depth of the open <channel>/<feed>, 0 outside it
        self.image_depth = 0  # depth of the open <image>
        self.title_depth = -1
        self.has_content = False
        self.guid_is_link = False
        self.prefix_map: dict[str | None, str] = {}  # feedparser's namespacemap
        self.in_use: dict[str, str] = {}  # feedparser's namespaces_in_use
        self.root = ""
        # The text element being read: (name, attributes, depth), and its text so far.
        self.field: tuple[str, dict[str, str], int] | None = None
        self.pieces: list[str] = []

    def read(self, body: bytes) -> tuple[Record, list[Record]]:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.buffer_size = 64 * 1024
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.text
        parser.StartNamespaceDeclHandler = self.namespace
        parser.StartDoctypeDeclHandler = self.decline
        parser.EntityDeclHandler = self.decline
        parser.Parse(body, True)
        if not self.root:
            raise _Decline
        return self.feed, self.entries

    @staticmethod
    def decline(*_args: Any) -> None:
        raise _Decline

    # -- names --------------------------------------------------------------------------------

    def namespace(self, prefix: str | None, uri: str) -> None:
        """feedparser's track_namespace."""
        if not uri:
            return
        lower = uri.lower()
        if "backend.userland.com/rss" in lower:
            uri = lower = "http://backend.userland.com/rss"
        known = self.facts.namespaces.get(lower)
        if known is not None:
            self.prefix_map[prefix or None] = known
            self.in_use[known] = uri
        else:
            self.in_use[prefix or ""] = uri

    def name_of(self, raw: str) -> tuple[str, str]:
        """feedparser's name for an element (``dc_date``, ``title``) and its namespace URI."""
        uri, _, local = raw.rpartition(" ")
        local = local.lower()
        if not uri:
            return local, ""
        lower = uri.lower()
        if "backend.userland.com/rss" in lower:
            uri = lower = "http://backend.userland.com/rss"
        prefix = self.facts.namespaces.get(lower)
        if not prefix:
            # The core formats' own namespaces ("") and unknown ones: feedparser takes the first
            # non-empty prefix it saw bound to the URI, else none.
            prefix = next((p for p, u in self.in_use.items() if p and u == uri), "")
        prefix = prefix.lower()
        prefix = self.prefix_map.get(prefix, prefix)
        return (f"{prefix}_{local}" if prefix else local), uri

    @staticmethod
    def attributes(attrs: dict[str, str]) -> dict[str, str]:
        """Attributes keyed by lower-cased local name, ``rel`` and ``type`` values lower-cased."""
        found: dict[str, str] = {}
        for key, value in attrs.items():
            uri, _, local = key.rpartition(" ")
            local = local.lower()
            if local == "base" or local in found:
                raise _Decline  # xml:base moves feedparser's base URI; a clash is ambiguous
            if local == "about" and uri == RDF_NS:
                found["rdf:about"] = value
            found[local] = value.lower() if local in ("rel", "type") else value
        return found

    # -- elements -----------------------------------------------------------------------------

    def start(self, raw: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.field is not None:
            raise _Decline  # markup inside a text element
        name, uri = self.name_of(raw)
        found = self.attributes(attrs) if attrs else {}
        if self.depth == 1:
            self.start_root(name, uri)
        elif name in ("item", "entry"):
            self.start_entry(found)
        elif self.entry is not None:
            self.start_in_entry(name, found)
        else:
            self.start_in_feed(name, found)

    def start_root(self, name: str, uri: str) -> None:
        if name == "rss" and not uri:
            self.root = "rss"
        elif name == "feed" and uri == ATOM_NS:
            self.root = "atom"
            self.feed_depth = 1
        elif name == "rdf_rdf" and any(u in RSS1_NS for u in self.in_use.values()):
            self.root = "rdf"
        else:
            raise _Decline

    def start_entry(self, attrs: dict[str, str]) -> None:
        if self.entry is not None or self.image_depth or "lastmod" in attrs or "href" in attrs:
            raise _Decline  # an item in an item or an image; CDF attributes
        self.entry = {}
        self.entries.append(self.entry)
        self.entry_depth = self.depth
        self.guid_is_link = False
        self.title_depth = -1
        about = attrs.get("rdf:about")
        if about:
            self.entry["id"] = about

    def start_in_entry(self, name: str, attrs: dict[str, str]) -> None:
        if name in _ENTRY_FIELDS:
            if self.depth != self.entry_depth + 1:
                raise _Decline  # a field inside some other element of the entry
            self.start_field(name, attrs)
        elif name == "source":
            self.title_depth = -1
        elif name in self.facts.handled:
            if name not in _HARMLESS_IN_ENTRY:
                raise _Decline
        elif name.endswith("_parsed"):
            raise _Decline  # an unknown element feedparser would file under a key read here

    def start_in_feed(self, name: str, attrs: dict[str, str]) -> None:
        child = self.feed_depth and self.depth == self.feed_depth + 1
        if self.image_depth:
            if name not in _IMAGE_CHILDREN or self.depth != self.image_depth + 1:
                raise _Decline  # feedparser would leave the image early
            self.start_field(name, attrs)
        elif name == "channel" and self.root != "atom":
            if self.feed_depth or "lastmod" in attrs or "href" in attrs:
                raise _Decline
            self.feed_depth = self.depth
        elif name == "image":
            self.image_depth = self.depth
            self.title_depth = -1
        elif name in _FEED_FIELDS:
            if not child:
                raise _Decline
            self.start_field(name, attrs)
        elif name in self.facts.handled and name not in _HARMLESS_IN_FEED:
            raise _Decline  # summary/content (they change how the first item is read), ...

    def start_field(self, name: str, attrs: dict[str, str]) -> None:
        if name == "link":
            href = attrs.get("url", attrs.get("uri", attrs.get("href")))
            if not href and "href" in attrs:
                href = attrs["href"]
            if href is not None:
                self.link_href(href, attrs)
                return  # feedparser reads no text for it
        elif name in ("guid", "id"):
            self.guid_is_link = attrs.get("ispermalink", "true") == "true"
        elif name == "ttl":
            if attrs:
                raise _Decline
        elif name in _TITLES or name in _SUMMARIES or name in _CONTENTS:
            default = "text/html" if name in ("description", "content_encoded") else "text/plain"
            kind = _map_type(attrs.get("type", default))
            if kind == "application/xhtml+xml" or _is_base64(attrs, kind) or "src" in attrs:
                raise _Decline  # escaped, decoded or elsewhere: feedparser rewrites the text
        self.field = (name, attrs, self.depth)
        self.pieces = []

    def link_href(self, href: str, attrs: dict[str, str]) -> None:
        """An Atom-style ``<link href=...>``: the page's link only as an HTML alternate."""
        rel = attrs.get("rel", "alternate")
        kind = attrs.get("type", "application/atom+xml" if rel == "self" else "text/html")
        if rel == "alternate" and _map_type(kind) in _HTML_TYPES:
            context = self.context()
            if context is not None:
                context["link"] = _resolve(href)

    def context(self) -> Record | None:
        """Where feedparser stores a field now; None for an image's or nowhere."""
        if self.entry is not None:
            return self.entry
        if self.image_depth or not self.feed_depth:
            return None
        return self.feed

    def text(self, data: str) -> None:
        if self.field is not None:
            self.pieces.append(data)

    def end(self, _raw: str) -> None:
        field = self.field
        if field is not None and field[2] == self.depth:
            self.field = None
            self.end_field(field[0], field[1], "".join(self.pieces).strip())
        if self.entry is not None:
            if self.depth == self.entry_depth:
                self.entry = None
                self.has_content = False
        elif self.depth == self.image_depth:
            self.image_depth = 0
        elif self.depth == self.feed_depth:
            self.feed_depth = 0
        self.depth -= 1

    def end_field(self, name: str, attrs: dict[str, str], text: str) -> None:
        if text and (name == "link" or name in ("guid", "id") and self.guid_is_link):
            text = _resolve(text)
        text = _clean(text)
        context = self.context()
        if name in _TITLES:
            if context is not None and not -1 < self.title_depth <= self.depth:
                context["title"] = text
            if text:
                self.title_depth = self.depth
        elif context is None:
            return
        elif name == "link":
            if context is self.entry:
                text = text.replace("&amp;", "&")
            context["link"] = _ENTITY_LIKE.sub(r"&\g<1>", text)
        elif name in ("guid", "id"):
            context["id"] = text
            if self.guid_is_link:
                context.setdefault("link", text)
        elif name in _DATES:
            context[_DATES[name]] = self.facts.parse_date(text)
        elif name == "ttl":
            context["ttl"] = text
        elif context is self.entry:
            self.end_summary(context, name, attrs, text)

    def end_summary(self, entry: Record, name: str, attrs: dict[str, str], text: str) -> None:
        if name in _SUMMARIES and not ("summary" in entry and not self.has_content):
            entry["summary"] = text
            return
        # <content>, <content:encoded>, or a second summary, which feedparser files as content.
        self.has_content = True
        kind = _map_type(attrs.get("type", "text/html" if name == "content_encoded" else "text"))
        entry.setdefault("content", []).append({"value": text})
        if kind in _COPIED_TO_SUMMARY:
            entry.setdefault("summary", text)
