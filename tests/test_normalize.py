"""Tests for feeds.normalize: text, links, title keys and times."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.normalize import canonical_url, parse_iso_time, plain_text, title_key, to_utc

# No example database: running the tests must not write `.hypothesis/` into the checkout.
PROPERTY = settings(max_examples=300, database=None, deadline=None)

# Characters plain_text must never emit: C0 (tab/newline/CR included), DEL, C1, bidi
# embeddings/overrides/isolates, zero-width space, BOM.
FORBIDDEN = (
    {chr(c) for c in range(0x20)}
    | {chr(c) for c in range(0x7F, 0xA0)}
    | {chr(c) for c in range(0x202A, 0x202F)}
    | {chr(c) for c in range(0x2066, 0x206A)}
    | {"\u200b", "\ufeff"}
)

# Pieces that make hypothesis build feed-like hostile text rather than random noise.
HOSTILE_PIECES = [
    "<p>", "</p>", "<b>", "<br/>", "<a href='x'>", "<img alt=\"a > b\">", "<script>", "</script>",
    "<style>", "<!--", "-->", "<![CDATA[", "]]>", "<head>", "&amp;", "&lt;", "&#27;", "&#x202E;",
    "&nbsp;", "&", "<", ">", "\"", "'", "\x1b", "\x1b[31m", "\x1b]8;;http://x\x1b\\",
    "\x1b]0;t\x07", "\x9b", "\x9d", "\x90", "\x9c", "\x07", "\x00", "\n", "\r", "\t", "\x7f",
    "\u202e", "\u2066", "\u200b", "\ufeff", "\u00a0", "\u3000", "\u2028", "[bold]", "[/]",
    "مرحبا", "你好", " ", "word",
]  # fmt: skip
hostile_text = st.lists(st.sampled_from(HOSTILE_PIECES) | st.text(max_size=5), max_size=40).map(
    "".join
)

URL_PIECES = [
    "http://", "https://", "HTTP://", "//", "Example.COM", "a.com", ":80", ":443", ":8080", "/",
    "?", "&", "#", "=", "utm_source", "fbclid", "q", "url", "u", "rss", "1", "[::1]", "[", "]",
    "www.google.com/url?q=", "news.google.com/x?url=", "r.search.yahoo.com/RU=", "%3A%2F%2F",
    "duckduckgo.com/l/?uddg=", "l.facebook.com/l.php?u=", "bing.com/news/apiclick.aspx?url=",
    "%", "%2", "@", " ", "\t", "\n", "mailto:", "urn:uuid:", "ñ", "\uff03", "\u2100",
]  # fmt: skip
url_text = st.lists(st.sampled_from(URL_PIECES) | st.text(max_size=4), max_size=30).map("".join)


# --- plain_text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, ""),
        ("", ""),
        ("Plain headline", "Plain headline"),
        ("<p>one</p><p>two</p>", "one two"),
        ("line<br>break<br/>again", "line break again"),
        ("<div>a</div><div>b</div><ul><li>c</li><li>d</li></ul>", "a b c d"),
        ("<h1>Title</h1><h6>Sub</h6>text", "Title Sub text"),
        ("<table><tr><td>1</td></tr><tr><td>2</td></tr></table>", "1 2"),
        ("Hel<b>lo</b> <a href='https://x.test/'>wor<em>ld</em></a>", "Hello world"),
        ('<img src="p.gif" alt="a > b">after', "after"),
        ("<p class=it's>stray quote</p> tail", "stray quote tail"),
        ("<SPAN STYLE='x'>caps</SPAN> <P>Para</P>", "caps Para"),
        ("<?xml version='1.0'?><!DOCTYPE html>doc", "doc"),
    ],
)
def test_plain_text_strips_tags(text: str | None, expected: str) -> None:
    assert plain_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a<script>alert('x')</script>b", "ab"),
        ("a<SCRIPT type='text/javascript'>x</script >b", "ab"),
        ("<style>p { color: red }</style>text", "text"),
        ("<html><head><title>T</title><meta x=y></head><body>Body</body></html>", "Body"),
        ("<header>Kept</header>", "Kept"),
        ("before<!-- a comment <b>x</b> -->after", "beforeafter"),
        ("visible <!-- unterminated comment", "visible"),
        ("visible <script>unterminated(", "visible"),
        ("<![CDATA[<p>Inside CDATA</p>]]>", "Inside CDATA"),
        ("<![CDATA[Tariffs & trade]]>", "Tariffs & trade"),
    ],
)
def test_plain_text_drops_non_text_content(text: str, expected: str) -> None:
    assert plain_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tariffs &amp; trade", "Tariffs & trade"),
        ("&quot;going well&quot; &#8212; &#x2014; &eacute;", '"going well" \u2014 \u2014 \u00e9'),
        # Escaped markup is text: unescaped after tags are stripped, so it shows literally.
        ("&lt;b&gt;bold?&lt;/b&gt;", "<b>bold?</b>"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
        # Double-escaped entities are decoded once only.
        ("&amp;lt;b&amp;gt;", "&lt;b&gt;"),
        ("AT&amp;amp;T", "AT&amp;T"),
        ("R&D and a < b > c", "R&D and a < b > c"),
    ],
)
def test_plain_text_decodes_entities_once(text: str, expected: str) -> None:
    assert plain_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\x1b[31mred\x1b[0m text", "red text"),
        ("\x1b[1;38;5;196mbold\x1b[m", "bold"),
        ("\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor"),
        ("\x1b]8;;https://evil.test/\x1b\\click\x1b]8;;\x1b\\ me", "click me"),
        ("\x1b]0;window title\x07after", "after"),
        ("\x1bP1$r0m\x1b\\dcs", "dcs"),
        ("\x1b_apc payload\x1b\\apc", "apc"),
        ("\x1b^pm payload\x1b\\pm", "pm"),
        ("\x1bXsos payload\x1b\\sos", "sos"),
        ("\x1bcreset \x1b7save \x1b(Bcharset", "reset save charset"),
        ("\x9b31mC1 csi\x9b0m", "C1 csi"),
        ("\x9d0;title\x9cC1 osc", "C1 osc"),
        ("\x90dcs\x9cC1 dcs", "C1 dcs"),
        ("broken \x1b[", "broken"),
        ("unterminated \x1b]0;title", "unterminated 0;title"),
        # html.unescape drops &#27; itself, so the rest is harmless text.
        ("&#27;[31m entity", "[31m entity"),
    ],
)
def test_plain_text_removes_escape_sequences(text: str, expected: str) -> None:
    assert plain_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x00b\x07c\x08d", "abcd"),
        ("tab\there\nnew\r\nline", "tab here new line"),
        ("form\x0cfeed\x0bvtab\x1cfs", "formfeedvtabfs"),
        ("del\x7fete", "delete"),
        ("c1\x80\x85\x9fgone", "c1gone"),
        ("bidi\u202eevil\u202c \u2066iso\u2069 \u202aemb\u202b", "bidievil iso emb"),
        ("zero\u200bwidth\ufeff bom", "zerowidth bom"),
        ("&#x202E;reversed &#8203;zw", "reversed zw"),
    ],
)
def test_plain_text_removes_control_characters(text: str, expected: str) -> None:
    assert plain_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  lots   of\t\tspace  ", "lots of space"),
        ("nbsp\u00a0here&nbsp;&nbsp;too", "nbsp here too"),
        ("em\u2003space\u3000ideographic\u2028line\u2029para", "em space ideographic line para"),
        ("<p>\n  Indented\n  HTML\n</p>\n", "Indented HTML"),
    ],
)
def test_plain_text_collapses_whitespace(text: str, expected: str) -> None:
    assert plain_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "[bold]not bold[/bold]",
        "[@click=app.quit]x[/]",
        "[red on white]alert[/] [link=https://x.test]y[/link]",
        "Talks [LIVE] - day [2]",
        "\\[escaped]",
    ],
)
def test_plain_text_leaves_markup_literal(text: str) -> None:
    assert plain_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "وزير التجارة: المحادثات مستمرة",  # Arabic
        "تجارتی مذاکرات لندن میں جاری ہیں",  # Urdu
        "שיחות סחר בלונדון",  # Hebrew
        "中美经贸磋商机制首次会议在伦敦举行",  # Chinese
        "日米貿易交渉、ロンドンで再開",  # Japanese
        "미중 무역협상 런던서 재개",  # Korean
        "व्यापार वार्ता लंदन में",  # Devanagari, combining marks
        "Emoji 👨\u200d👩\u200d👧 stays with ZWJ, and l\u200em\u200f marks stay",
    ],
)
def test_plain_text_keeps_rtl_and_cjk(text: str) -> None:
    assert plain_text(f"<p>{text}</p>") == text


@PROPERTY
@given(st.text())
def test_plain_text_never_raises_on_any_text(text: str) -> None:
    out = plain_text(text)
    assert not FORBIDDEN.intersection(out)
    assert out == out.strip()
    assert "  " not in out
    assert all(not char.isspace() or char == " " for char in out)


@PROPERTY
@given(hostile_text)
def test_plain_text_output_is_one_safe_line(text: str) -> None:
    out = plain_text(text)
    assert not FORBIDDEN.intersection(out)
    assert "\x1b" not in out and "\n" not in out
    assert out == " ".join(out.split())


# --- canonical_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, ""),
        ("", ""),
        ("   ", ""),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("mailto:desk@example.com", "mailto:desk@example.com"),
        (" urn:uuid:1225c695-cfb8-4ebb ", "urn:uuid:1225c695-cfb8-4ebb"),
        ("tag:example.com,2025:item-1", "tag:example.com,2025:item-1"),
        ("/relative/without/base", "/relative/without/base"),
        ("ftp://example.com/file", "ftp://example.com/file"),
        ("http://[::1", "http://[::1"),
    ],
)
def test_canonical_url_passes_non_http_through(url: str | None, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (
            "/world/story-1",
            "https://www.example.com/feeds/rss.xml",
            "https://www.example.com/world/story-1",
        ),
        (
            "story-2?id=3",
            "https://example.com/news/feed.xml",
            "https://example.com/news/story-2?id=3",
        ),
        ("../b/c#frag", "https://Example.com/a/z/index.html", "https://example.com/a/b/c"),
        ("//cdn.example.com/x", "https://example.com/", "https://cdn.example.com/x"),
        ("https://other.test/abs", "https://example.com/", "https://other.test/abs"),
        ("", "https://example.com/", ""),
        ("mailto:a@b.test", "https://example.com/", "mailto:a@b.test"),
    ],
)
def test_canonical_url_resolves_relative_link(url: str, base: str, expected: str) -> None:
    assert canonical_url(url, base) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Example.COM/Path/Case", "https://www.example.com/Path/Case"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("http://User:Pw@Example.com:80/a", "http://User:Pw@example.com/a"),
        ("http://[2001:DB8::1]:80/a", "http://[2001:db8::1]/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?#", "https://example.com/a"),
        ("https://example.com/a?", "https://example.com/a"),
        ("https://example.com/a?b=%2F&c=d+e#x", "https://example.com/a?b=%2F&c=d+e"),
        ("https://example.com/a #x", "https://example.com/a"),
    ],
)
def test_canonical_url_normalizes_scheme_host_port_fragment(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.test/a?utm_source=rss&utm_medium=feed&utm_campaign=c", "https://x.test/a"),
        ("https://x.test/a?id=7&utm_source=rss&page=2", "https://x.test/a?id=7&page=2"),
        ("https://x.test/a?UTM_Source=x&Utm_Term=y&keep=1", "https://x.test/a?keep=1"),
        ("https://x.test/a?fbclid=1&gclid=2&dclid=3&msclkid=4&z=1", "https://x.test/a?z=1"),
        ("https://x.test/a?mc_cid=1&mc_eid=2&igshid=3&yclid=4&z=1", "https://x.test/a?z=1"),
        ("https://x.test/a?_hsenc=1&_hsmi=2&mkt_tok=3&z=1", "https://x.test/a?z=1"),
        ("https://x.test/a?ocid=1&cmpid=2&ncid=3&sr_share=4&z=1", "https://x.test/a?z=1"),
        ("https://x.test/a?smid=1&smtyp=2&taid=3&z=1", "https://x.test/a?z=1"),
        ("https://x.test/a?at_medium=1&at_campaign=2&ito=3&CMP=4&z=1", "https://x.test/a?z=1"),
        ("https://x.test/a?FBCLID=1&Ocid=2&z=1", "https://x.test/a?z=1"),
        ("https://x.test/a?utm%5Fsource=1&z=1", "https://x.test/a?z=1"),
        ("https://x.test/a?rss=1&z=1&rss", "https://x.test/a?z=1"),
        ("https://x.test/a?rss=world", "https://x.test/a?rss=world"),
        ("https://x.test/a?z=%C3%A9&b=a+b&&c", "https://x.test/a?z=%C3%A9&b=a+b&c"),
        ("https://x.test/a?q=1&utm_source=x#top", "https://x.test/a?q=1"),
        ("https://x.test/a?utm_content=1#top", "https://x.test/a"),
        ("https://x.test/a?campaign=1&source=rss", "https://x.test/a?campaign=1&source=rss"),
    ],
)
def test_canonical_url_removes_tracking_params(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://www.ft.com/content/6ee2"
            "&ct=ga&cd=CAIy&usg=AFQj",
            "https://www.ft.com/content/6ee2",
        ),
        (
            "https://www.google.com/url?q=https://www.reuters.com/x%3Fa%3D1%26utm_medium%3Drss&sa=U",
            "https://www.reuters.com/x?a=1",
        ),
        ("https://google.co.uk/url?q=https%3A%2F%2Fbbc.co.uk%2Fn", "https://bbc.co.uk/n"),
        (
            "https://news.google.com/news/url?sa=t&url=https%3A%2F%2Fexample.com%2Fa&ct=ga",
            "https://example.com/a",
        ),
        (
            "https://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=1"
            "&url=https%3a%2f%2fwww.ft.com%2fcontent%2fabc&c=1",
            "https://www.ft.com/content/abc",
        ),
        (
            "https://r.search.yahoo.com/_ylt=Awr/RV=2/RE=1/RO=10"
            "/RU=https%3a%2f%2fwww.bbc.co.uk%2fnews%2f1/RK=2/RS=x-",
            "https://www.bbc.co.uk/news/1",
        ),
        (
            "https://duckduckgo.com/l/?uddg=https%3A%2F%2Fexample.org%2Fp&rut=abc",
            "https://example.org/p",
        ),
        (
            "https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.org%2Fq%3Ffbclid%3D1&h=AT",
            "https://example.org/q",
        ),
        # Nested wrappers unwrap, up to three deep.
        (
            "https://www.google.com/url?q=https%3A%2F%2Fl.facebook.com%2Fl.php%3Fu%3D"
            "https%253A%252F%252Fexample.org%252Fdeep",
            "https://example.org/deep",
        ),
    ],
)
def test_canonical_url_unwraps_redirects(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        # Google News article ids are opaque: never decoded.
        "https://news.google.com/rss/articles/CBMiWmh0dHBzOi8vd3d3LnJldXRlcnMuY29t?oc=5",
        # A search page is not a redirect.
        "https://www.google.com/search?q=https://example.com/",
        # The parameter is not an absolute http(s) URL.
        "https://www.google.com/url?q=/relative/path",
        "https://www.bing.com/ck/a?u=a1aHR0cHM6Ly9leGFtcGxlLmNvbS8",
        "https://duckduckgo.com/l/?uddg=javascript%3Aalert(1)",
        # Not a known redirector.
        "https://example.com/out?url=https://other.test/",
        "https://notgoogle.com/url?q=https://other.test/",
        # Two different targets under one name is ambiguous.
        "https://www.google.com/url?url=https://a.test/&url=https://b.test/",
    ],
)
def test_canonical_url_leaves_non_redirects_wrapped(url: str) -> None:
    assert canonical_url(url) == url


def test_canonical_url_unwraps_at_most_three_times() -> None:
    target = "https://example.org/end"
    wrapped = [target]
    for _ in range(4):
        wrapped.append("https://www.google.com/url?q=" + quote(wrapped[-1], safe=""))
    assert canonical_url(wrapped[3]) == target
    # Four wrappers: three come off and the innermost wrapper is the identity.
    assert canonical_url(wrapped[4]) == wrapped[1]


def test_canonical_url_is_stable_when_applied_twice() -> None:
    urls = [
        "HTTP://Example.COM:80/a?utm_source=x&b=1&fbclid=2&C=3#frag",
        "https://www.google.com/url?q=https://www.reuters.com/x%3Fa%3D1&sa=U",
        "https://example.com",
    ]
    for url in urls:
        once = canonical_url(url)
        assert canonical_url(once) == once


@PROPERTY
@given(st.text(), st.none() | st.text())
def test_canonical_url_never_raises_on_any_text(url: str, base: str | None) -> None:
    assert isinstance(canonical_url(url, base), str)


@PROPERTY
@given(url_text, st.none() | url_text)
def test_canonical_url_never_raises_on_url_like_text(url: str, base: str | None) -> None:
    out = canonical_url(url, base)
    assert isinstance(out, str)
    assert out == out.strip()


# --- title_key ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("UPDATE 1-US, China resume talks", "us china resume talks"),
        ("UPDATE 2 - US, China resume talks", "us china resume talks"),
        ("EXCLUSIVE-US, China resume talks", "us china resume talks"),
        ("EXCLUSIVE: US, China resume talks", "us china resume talks"),
        ("Exclusive: US, China resume talks", "us china resume talks"),
        ("BREAKING: US, China resume talks", "us china resume talks"),
        ("BREAKING NEWS: US, China resume talks", "us china resume talks"),
        ("Breaking news: US, China resume talks", "us china resume talks"),
        ("CORRECTED-US, China resume talks", "us china resume talks"),
        ("REFILE-US, China resume talks", "us china resume talks"),
        ("WRAPUP 1-US, China resume talks", "us china resume talks"),
        ("ANALYSIS-US, China resume talks", "us china resume talks"),
        ("FACTBOX-US, China resume talks", "us china resume talks"),
        ("LIVE: US, China resume talks", "us china resume talks"),
        ("UPDATE 2-EXCLUSIVE-US, China resume talks", "us china resume talks"),
        ("REFILE-UPDATE 3-ANALYSIS-US, China resume talks", "us china resume talks"),
        ("UPDATE 1\u2013US, China resume talks", "us china resume talks"),
    ],
)
def test_title_key_strips_wire_prefixes(title: str, expected: str) -> None:
    assert title_key(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        # Only upper-case wire slugs take a hyphen: ordinary words stay.
        ("Live-streamed talks end", "live streamed talks end"),
        ("Update on the talks", "update on the talks"),
        ("Analysis of tariffs", "analysis of tariffs"),
        # A title that is nothing but a prefix keeps it.
        ("BREAKING:", "breaking"),
    ],
)
def test_title_key_keeps_words_that_are_not_prefixes(title: str, expected: str) -> None:
    assert title_key(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("US, China resume talks - Reuters", "us china resume talks"),
        ("US, China resume talks | Reuters", "us china resume talks"),
        ("US, China resume talks \u2013 South China Morning Post", "us china resume talks"),
        ("US, China resume talks \u2014 The Wall Street Journal", "us china resume talks"),
        ("UPDATE 1-US, China resume talks - Reuters", "us china resume talks"),
        ("Talks - day two - Reuters", "talks day two"),
        # More than five words after the separator is part of the headline.
        (
            "Talks resume - officials say a deal could come this week",
            "talks resume officials say a deal could come this week",
        ),
        # A hyphen inside a word is not a separator.
        ("US-China talks", "us china talks"),
        ("- Reuters", "reuters"),
    ],
)
def test_title_key_strips_publisher_suffix(title: str, expected: str) -> None:
    assert title_key(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("U.S.-China talks: what's next?", "us china talks whats next"),
        ("China\u2019s \u201cbig\u201d offer", "chinas big offer"),
        ("Tariffs of 1.5% (or more)", "tariffs of 1 5 or more"),
        ("\uff35\uff33 talks", "us talks"),  # full-width letters, NFKC
        ("STRASSE Stra\u00dfe", "strasse strasse"),  # casefold
        ("snake_case & symbols \u00a9 \u20ac 100", "snake case symbols 100"),
        ("中美经贸磋商机制首次会议在伦敦举行", "中美经贸磋商机制首次会议在伦敦举行"),
        ("中美伦敦经贸会谈：取得进展【快讯】", "中美伦敦经贸会谈 取得进展 快讯"),
        ("中美伦敦经贸会谈 - 新华网", "中美伦敦经贸会谈"),
        ("وزير التجارة: المحادثات مستمرة", "وزير التجارة المحادثات مستمرة"),
        ("व्यापार वार्ता, लंदन", "व्यापार वार्ता लंदन"),
        ("", ""),
        ("!!! ???", ""),
    ],
)
def test_title_key_removes_punctuation_keeps_scripts(title: str, expected: str) -> None:
    assert title_key(title) == expected


def test_title_key_groups_same_story_across_sources() -> None:
    titles = [
        "UPDATE 2-U.S., China agree on framework at London trade talks - Reuters",
        "US, China agree on framework at London trade talks | Reuters",
        "U.S., China Agree On Framework At London Trade Talks \u2013 South China Morning Post",
        "EXCLUSIVE: US, China agree on framework at London trade talks",
    ]
    assert len({title_key(title) for title in titles}) == 1


@PROPERTY
@given(st.text())
def test_title_key_never_raises_and_is_stable(title: str) -> None:
    key = title_key(title)
    assert key == " ".join(key.split())
    assert title_key(key) == key


@PROPERTY
@given(st.text(alphabet=st.characters(categories=["Lo"]), min_size=1))
def test_title_key_keeps_other_letters_non_empty(title: str) -> None:
    assert title_key(title) != ""


# --- to_utc ------------------------------------------------------------------------------------

PLUS_8 = timezone(timedelta(hours=8))
MINUS_5 = timezone(timedelta(hours=-5))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (
            time.struct_time((2025, 6, 10, 12, 30, 5, 1, 161, 0)),
            datetime(2025, 6, 10, 12, 30, 5, tzinfo=UTC),
        ),
        (time.gmtime(0), datetime(1970, 1, 1, tzinfo=UTC)),
        (time.gmtime(1749558605), datetime(2025, 6, 10, 12, 30, 5, tzinfo=UTC)),
        # feedparser sets tm_isdst=0 but even -1/1 must not shift a UTC struct_time.
        (time.struct_time((2025, 1, 1, 0, 0, 0, 2, 1, 1)), datetime(2025, 1, 1, tzinfo=UTC)),
        (datetime(2025, 6, 10, 12, 0), datetime(2025, 6, 10, 12, 0, tzinfo=UTC)),
        (datetime(2025, 6, 10, 20, 0, tzinfo=PLUS_8), datetime(2025, 6, 10, 12, 0, tzinfo=UTC)),
        (datetime(2025, 6, 10, 7, 0, tzinfo=MINUS_5), datetime(2025, 6, 10, 12, 0, tzinfo=UTC)),
        (datetime(2100, 12, 31, 23, 59, tzinfo=UTC), datetime(2100, 12, 31, 23, 59, tzinfo=UTC)),
    ],
)
def test_to_utc_converts(
    value: time.struct_time | datetime | None, expected: datetime | None
) -> None:
    result = to_utc(value)
    assert result == expected
    assert result is None or result.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        time.struct_time((1969, 12, 31, 23, 59, 59, 2, 365, 0)),
        time.struct_time((2101, 1, 1, 0, 0, 0, 5, 1, 0)),
        time.struct_time((99999, 1, 1, 0, 0, 0, 0, 1, 0)),
        time.struct_time((2025, 13, 1, 0, 0, 0, 0, 1, 0)),
        time.struct_time((0, 1, 1, 0, 0, 0, 0, 1, 0)),
        time.struct_time((2025, 1, 1, 10**15, 0, 0, 0, 1, 0)),
        datetime(1900, 1, 1),
        datetime(2101, 1, 1, tzinfo=UTC),
        datetime.min.replace(tzinfo=timezone(timedelta(hours=5))),
        datetime.max.replace(tzinfo=MINUS_5),
    ],
)
def test_to_utc_rejects_out_of_range(value: time.struct_time | datetime) -> None:
    assert to_utc(value) is None


@PROPERTY
@given(
    st.datetimes(timezones=st.none() | st.timezones())
    | st.tuples(*[st.integers(-(10**12), 10**12)] * 9).map(time.struct_time)
)
def test_to_utc_never_raises(value: time.struct_time | datetime) -> None:
    result = to_utc(value)
    assert result is None or (result.tzinfo is UTC and 1970 <= result.year <= 2100)


# --- parse_iso_time ----------------------------------------------------------------------------

JUNE_10_NOON = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-10T12:00:00Z", JUNE_10_NOON),
        ("2025-06-10t12:00:00z", JUNE_10_NOON),
        ("  2025-06-10T12:00:00Z\n", JUNE_10_NOON),
        ("2025-06-10T12:00:00+00:00", JUNE_10_NOON),
        ("2025-06-10T20:00:00+08:00", JUNE_10_NOON),
        ("2025-06-10T07:00:00-0500", JUNE_10_NOON),
        ("2025-06-10T12:00:00.250Z", JUNE_10_NOON.replace(microsecond=250000)),
        ("2025-06-10T12:00:00.123456789Z", JUNE_10_NOON.replace(microsecond=123456)),
        ("2025-06-10 12:00:00", JUNE_10_NOON),
        ("2025-06-10T12:00", JUNE_10_NOON),
        ("2025-06-10", datetime(2025, 6, 10, tzinfo=UTC)),
        ("2025-06-10T23:59:60Z", datetime(2025, 6, 10, 23, 59, 59, tzinfo=UTC)),
        ("Tue, 10 Jun 2025 12:00:00 GMT", JUNE_10_NOON),
        ("Tue, 10 Jun 2025 12:00:00 +0000", JUNE_10_NOON),
        ("Tue, 10 Jun 2025 13:00:00 +0100", JUNE_10_NOON),
        ("10 Jun 2025 07:00:00 EST", JUNE_10_NOON),
        ("Tue, 10 Jun 2025 12:00:00 -0000", JUNE_10_NOON),
        ("1749556800", JUNE_10_NOON),
        ("1749556800.5", JUNE_10_NOON.replace(microsecond=500000)),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_iso_time_parses(text: str, expected: datetime) -> None:
    result = parse_iso_time(text)
    assert result == expected
    assert result is not None and result.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "garbage",
        "yesterday",
        "2025-13-45",
        "2025-06-10T25:00:00Z",
        "Tue, 10 Jun 2025",
        "1969-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
        "-1",
        "1e300",
        "99999999999999999999999",
        "nan",
        "inf",
        "\u0661\u0667\u0664\u0669",  # Arabic-Indic digits are not an epoch
    ],
)
def test_parse_iso_time_rejects(text: str | None) -> None:
    assert parse_iso_time(text) is None


@PROPERTY
@given(st.text())
def test_parse_iso_time_never_raises_on_any_text(text: str) -> None:
    result = parse_iso_time(text)
    assert result is None or (result.tzinfo is UTC and 1970 <= result.year <= 2100)


@PROPERTY
@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 12, 30)))
def test_parse_iso_time_round_trips_isoformat(value: datetime) -> None:
    aware = value.replace(tzinfo=UTC)
    assert parse_iso_time(aware.isoformat()) == aware
    assert parse_iso_time(value.isoformat()) == aware
