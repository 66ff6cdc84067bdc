"""feeds.fastfeed either declines a document or reads it exactly as feedparser does.

The property that matters: for any document, ``parse_rss(fast=True)`` equals
``parse_rss(fast=False)`` (feedparser) whenever the fast reader accepts it. It is checked on the
real-feed corpus, on generated documents built from the elements and quirks that decide fields
(duplicates, guids as links, description versus content, Atom links, relative and odd URLs,
mojibake, cp1252 controls, entities, CDATA, whitespace), and on documents it must decline.
"""

from __future__ import annotations

import contextlib
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.errors import ParseError
from feeds.fastfeed import fast_parse
from feeds.models import ParsedFeed
from feeds.parse import feedparser_rules, parse_rss
from tests.conftest import REAL_FEEDS

URL = "http://127.0.0.1:8000/feeds/one.xml"
CONTENT_TYPES = ("", "application/rss+xml; charset=utf-8", "application/xml")
XML_FILES = sorted(
    p for p in REAL_FEEDS.iterdir() if p.is_file() and p.suffix not in (".md", ".json")
)


def accepts(body: bytes, content_type: str = "") -> bool:
    """True when the fast reader reads ``body`` itself."""
    return fast_parse(body, content_type, feedparser_rules()) is not None


def both(body: bytes, content_type: str = "") -> tuple[ParsedFeed, ParsedFeed]:
    fast = parse_rss(body, url=URL, content_type=content_type)
    slow = parse_rss(body, url=URL, content_type=content_type, fast=False)
    return fast, slow


def assert_same(body: bytes, content_type: str = "") -> None:
    fast, slow = both(body, content_type)
    assert fast.title == slow.title
    assert fast.ttl == slow.ttl
    assert len(fast.entries) == len(slow.entries)
    for mine, theirs in zip(fast.entries, slow.entries, strict=True):
        assert mine == theirs
    assert not slow.warnings, "feedparser found fault with a document the fast reader accepted"


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: p.name)
def test_corpus_feed_reads_as_feedparser_reads_it(path):
    body = path.read_bytes()
    for content_type in CONTENT_TYPES:
        if accepts(body, content_type):
            assert_same(body, content_type)


def test_most_plain_corpus_feeds_take_the_fast_path():
    accepted = [p.name for p in XML_FILES if accepts(p.read_bytes())]
    # 37 of the 71 XML files today; the rest are other encodings, podcasts, media titles, ...
    assert len(accepted) >= 35, accepted
    assert "guardian-us-2018.rss" in accepted
    assert "theverge-frontpages-2017.atom" in accepted
    assert "craigslist-sfbay-rss1.rdf" in accepted
    assert "orf-at-news-rss1-bom.rdf" in accepted  # a UTF-8 byte-order mark is fine


RSS_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">'


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel/></rss>', ""),
        (b"\n<rss><channel/></rss>", ""),
        (b'<!DOCTYPE rss SYSTEM "x.dtd"><rss><channel/></rss>', ""),
        (b"<rss><channel/></rss>", "text/html; charset=utf-8"),
        (b"<rss><channel/></rss>", "text/xml"),
        (b"<rss><channel/></rss>", "application/rss+xml; charset=iso-8859-1"),
        (b"<rss><channel><item><title>a<b>b</b></title></item></channel></rss>", ""),
        (b'<rss xml:base="http://x/"><channel/></rss>', ""),
        (b"<rss><channel><item><title>&nbsp;</title></item></channel></rss>", ""),
        (b"<html><body>not a feed</body></html>", ""),
        (b"<rss><channel><item><item/></item></channel></rss>", ""),
        (
            b'<rss xmlns:media="http://search.yahoo.com/mrss/"><channel><item>'
            b"<media:title>t</media:title></item></channel></rss>",
            "",
        ),
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><content type="xhtml">'
            b"<div>x</div></content></entry></feed>",
            "",
        ),
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><content mode="base64">eA=='
            b"</content></entry></feed>",
            "",
        ),
    ],
    ids=[
        "latin-1",
        "leading-newline",
        "doctype",
        "html-type",
        "text-xml-means-ascii",
        "latin-1-charset",
        "markup-in-title",
        "xml-base",
        "undefined-entity",
        "html-page",
        "nested-item",
        "media-title",
        "xhtml-content",
        "base64-content",
    ],
)
def test_declines_what_it_does_not_model(body, content_type):
    assert not accepts(body, content_type)
    with contextlib.suppress(ParseError):  # feedparser gets it instead, and may reject it
        parse_rss(body, url=URL, content_type=content_type)


# -- generated documents ---------------------------------------------------------------------

TEXTS = [
    "Talks resume",
    "  spaced  ",
    "",
    "AT&T <b>bold</b> &amp; more",
    "Caf\u00c3\u00a9 mojibake",
    "\u0080\u0093 cp1252 controls",
    "\u4e2d\u7f8e\u4f1a\u8c08",
    "a]]b",
    "x &#38; y",
]
URLS = [
    "https://example.com/a?utm_source=x&b=1",
    "http:////example.com/slashes",
    "/relative/path",
    "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
    "tag:example.com,2025:1",
    "",
    " https://example.com/space ",
    "https://example.com/q?a=1&amp;b=2",
]
DATES = [
    "Tue, 10 Jun 2025 09:00:00 GMT",
    "2025-06-10T09:00:00Z",
    "2025-06-10T09:00:00+08:00",
    "not a date",
    "",
    "Tue, 10 Jun 2025 09:00:00 +0100",
]


def _text(value: str, cdata: bool) -> str:
    if cdata and "]]>" not in value:
        return f"<![CDATA[{value}]]>"
    return escape(value)


@st.composite
def _element(draw: st.DrawFn, atom: bool) -> str:
    """One child element of an item/entry, drawn from those that decide fields."""
    cdata = draw(st.booleans())
    text = _text(draw(st.sampled_from(TEXTS)), cdata)
    url = escape(draw(st.sampled_from(URLS)))
    date = escape(draw(st.sampled_from(DATES)))
    kind = draw(st.sampled_from(["", ' type="html"', ' type="text"', ' type="text/plain"']))
    choices = [
        f"<title{kind}>{text}</title>",
        f"<dc:title>{text}</dc:title>",
        f"<link>{url}</link>",
        f"<link href={quoteattr(draw(st.sampled_from(URLS)))}/>",
        f'<link rel="alternate" type="text/html" href={quoteattr(url)}/>',
        f'<link rel="self" href={quoteattr(url)}/>',
        f'<link rel="enclosure" type="audio/mpeg" href={quoteattr(url)}/>',
        f"<atom:link href={quoteattr(url)}/>",
        f"<guid>{url}</guid>",
        f'<guid isPermaLink="false">{url}</guid>',
        f'<guid isPermaLink="true">{url}</guid>',
        f"<id>{url}</id>",
        f"<description{kind}>{text}</description>",
        f"<summary{kind}>{text}</summary>",
        f"<content{kind}>{text}</content>",
        f"<content:encoded>{text}</content:encoded>",
        f"<pubDate>{date}</pubDate>",
        f"<published>{date}</published>",
        f"<updated>{date}</updated>",
        f"<dc:date>{date}</dc:date>",
        f"<dcterms:modified>{date}</dcterms:modified>",
        f"<dcterms:created>{date}</dcterms:created>",
        f'<source url="http://example.org/">{text}</source>',
        "<category>trade</category>",
        '<enclosure url="http://example.com/a.mp3" length="1" type="audio/mpeg"/>',
        "<author>someone@example.com (Some One)</author>",
        f"<dc:creator>{text}</dc:creator>",
        f"<feedburner:origLink>{url}</feedburner:origLink>",
        f"<x:note>{text}</x:note>",
        f"<media:thumbnail url={quoteattr(url)}/>",
        f"<media:title>{text}</media:title>",
        f"<title>{text}<b>x</b></title>",
    ]
    if atom:
        choices.append(f"<author><name>{text}</name><uri>{url}</uri></author>")
    return draw(st.sampled_from(choices))


NAMESPACES = (
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmlns:dcterms="http://purl.org/dc/terms/"'
    ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    ' xmlns:media="http://search.yahoo.com/mrss/"'
    ' xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"'
    ' xmlns:x="urn:example:unknown"'
)


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    form = draw(st.sampled_from(["rss", "atom", "rdf"]))
    atom = form == "atom"
    entries = draw(
        st.lists(st.lists(_element(atom), min_size=0, max_size=7), min_size=0, max_size=4)
    )
    head_parts = draw(
        st.lists(
            st.sampled_from(
                [
                    f"<title>{escape(draw(st.sampled_from(TEXTS)))}</title>",
                    f"<link>{escape(draw(st.sampled_from(URLS)))}</link>",
                    f'<link rel="alternate" href={quoteattr(draw(st.sampled_from(URLS)))}/>',
                    f"<id>{escape(draw(st.sampled_from(URLS)))}</id>",
                    "<ttl>30</ttl>",
                    "<ttl> 15 </ttl>",
                    "<description>About</description>",
                    "<image><url>http://x/i.png</url><title>Logo</title>"
                    "<link>http://x/</link></image>",
                    "<language>en</language>",
                ]
            ),
            max_size=5,
        )
    )
    head = "".join(head_parts)
    if form == "rss":
        items = "".join(f"<item>{''.join(e)}</item>" for e in entries)
        body = (
            f'<rss version="2.0"{NAMESPACES} xmlns:atom="http://www.w3.org/2005/Atom">'
            f"<channel>{head}{items}</channel></rss>"
        )
    elif form == "atom":
        items = "".join(f"<entry>{''.join(e)}</entry>" for e in entries)
        body = f'<feed xmlns="http://www.w3.org/2005/Atom"{NAMESPACES}>{head}{items}</feed>'
    else:
        items = "".join(
            f'<item rdf:about="http://example.com/{i}">{"".join(e)}</item>'
            for i, e in enumerate(entries)
        )
        body = (
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
            f' xmlns="http://purl.org/rss/1.0/"{NAMESPACES}>'
            f'<channel rdf:about="http://example.com/">{head}</channel>{items}</rdf:RDF>'
        )
    declaration = draw(st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>\n']))
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    return bom + (declaration + body).encode("utf-8")


@given(documents(), st.sampled_from(CONTENT_TYPES))
@settings(
    max_examples=400,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_generated_feed_reads_as_feedparser_reads_it(body, content_type):
    if not accepts(body, content_type):
        return
    assert_same(body, content_type)
