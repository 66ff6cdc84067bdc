"""Pure, fast normalisation of feed text, links, titles and times.

Runs on every entry during ingest, so it sticks to precompiled regexes and ``str`` methods
(no ``html.parser``) and imports only the standard library. Nothing here raises on odd input:
a feed we cannot make sense of yields ``""`` or ``None``, never an exception.

- ``plain_text``: HTML or feed text to one safe line (no tags, no controls, no escapes).
- ``canonical_url``: a link to its identity (unwrapped, tracking-free, lower-cased host).
- ``title_key``: a title to a key that groups the same story across sources.
- ``to_utc`` / ``parse_iso_time``: feed times to aware UTC datetimes.
"""

from __future__ import annotations

import calendar
import html
import re
import time
import unicodedata
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, unquote, unquote_plus, urljoin, urlsplit

__all__ = ["canonical_url", "parse_iso_time", "plain_text", "title_key", "to_utc"]

# --- plain_text --------------------------------------------------------------------------------

# A tag body after its name, quote-aware so `<img alt="a > b">` is one tag; a stray quote falls to
# the second branch, which ends at the first `>`. Neither branch crosses a `<` and the quantifiers
# are possessive, so a failed match costs no more than the distance to the next `<`: text full of
# unclosed `<x` stays linear rather than quadratic.
_TAG_BODY = r"""(?:(?:[^<>"']++|"[^"<]*+"|'[^'<]*+')*+>|[^<>]*+>)"""
# Whole constructs whose content is never text. Unterminated ones run to the end, as in browsers.
_DROPPED_RE = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style|head)(?=[\s/>])" + _TAG_BODY + r".*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_CDATA_RE = re.compile(r"<!\[CDATA\[(.*?)(?:\]\]>|\Z)", re.DOTALL)
# Inline tags vanish so "Hel<b>lo</b>" stays one word; every other tag (block or unknown) becomes a
# space so "<p>one</p><p>two</p>" doesn't run together.
_INLINE_TAG_RE = re.compile(
    # The lookahead on the first letter is a cheap filter: it halves the time spent per tag.
    r"</?(?=[abcdefikmqstuvw])(?:a|b|i|em|strong|span|abbr|bdi|bdo|big|cite|code|del|dfn|font|ins"
    r"|kbd|mark|q|s|samp|small|strike|sub|sup|time|tt|u|var|wbr)(?=[\s/>])" + _TAG_BODY,
    re.IGNORECASE,
)
_ANY_TAG_RE = re.compile(r"<(?:/?[a-zA-Z]|[!?])" + _TAG_BODY)

# Terminal escape sequences (ECMA-48), 7-bit and 8-bit forms, longest forms first:
# OSC/DCS/SOS/PM/APC strings up to BEL or ST (the payload may not contain another introducer, which
# keeps the scan linear); CSI with parameters; other ESC sequences (nF, Fp, Fe, Fs). Whatever is
# left of a broken sequence falls to the single-character classes at the end: every C0 control
# except tab/newline/CR, DEL, every C1 control, bidi embeddings/overrides/isolates, ZWSP and BOM.
_CONTROL_RE = re.compile(
    "(?:\x1b[\\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x90-\x9f]*+(?:\x07|\x1b\\\\|\x9c)"
    "|(?:\x1b\\[|\x9b)[\x30-\x3f]*+[\x20-\x2f]*+[\x40-\x7e]?"
    "|\x1b[\x20-\x2f]*+[\x30-\x7e]?"
    "|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069\ufeff]+"
)


# The same single characters, to test for cheaply: the full pattern above is slow to scan.
_CONTROL_CHAR_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069\ufeff]"
)


def plain_text(text: str | None) -> str:
    """Turn HTML or feed text into one line of safe plain text.

    Comments, CDATA markers and the content of ``script``/``style``/``head`` are dropped, other
    tags stripped, entities decoded exactly once (so ``&lt;b&gt;`` shows as the literal ``<b>``),
    terminal escape sequences and control characters removed, and whitespace collapsed. Square
    brackets (Rich/Textual markup) are left as literal text: escaping is the UI's job.

    Args:
        text: Feed text, possibly HTML; ``None`` is treated as empty.

    Returns:
        A single line with no control characters, no newlines and no leading/trailing space.
    """
    if not text:
        return ""
    if "<" in text:
        if "<!" in text or "<s" in text or "<S" in text or "<h" in text or "<H" in text:
            text = _DROPPED_RE.sub("", text)
            if "<![" in text:
                text = _CDATA_RE.sub(r"\1", text)
        text = _INLINE_TAG_RE.sub("", text)
        text = _ANY_TAG_RE.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    # After unescaping: entities such as &#x202E; must not smuggle controls through.
    if _CONTROL_CHAR_RE.search(text):
        text = _CONTROL_RE.sub("", text)
    # str.split() splits on Unicode whitespace: NBSP, U+2000-U+200A, U+2028/2029, U+3000, ...
    return " ".join(text.split())


# --- canonical_url -----------------------------------------------------------------------------

_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ocid",
        "cmpid",
        "ncid",
        "sr_share",
        "smid",
        "smtyp",
        "taid",
        "at_medium",
        "at_campaign",
        "ito",
        "cmp",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_GOOGLE_HOST_RE = re.compile(r"(?:[a-z0-9-]+\.)*google\.(?:com?\.)?[a-z]{2,3}")
_FACEBOOK_HOSTS = frozenset(
    {"facebook.com", "www.facebook.com", "l.facebook.com", "lm.facebook.com", "m.facebook.com"}
)
_MAX_UNWRAP = 3


def canonical_url(url: str | None, base: str | None = None) -> str:
    """Reduce a link to its identity, for de-duplication and grouping.

    Relative links are resolved against ``base``; search/redirect wrappers (Google, Bing, Yahoo,
    DuckDuckGo, Facebook) are unwrapped up to three deep; scheme and host are lower-cased; default
    ports, the fragment, an empty query and tracking parameters (``utm_*``, ``fbclid``, ...) are
    dropped. Other parameters keep their order and encoding. Links that are not http(s) after
    resolving (``mailto:``, ``urn:uuid:...``, relative with no base) come back stripped.

    Args:
        url: The link as published; ``None`` is treated as empty.
        base: The URL the link is relative to (the feed's or entry's), if any.

    Returns:
        The canonical http(s) URL, the stripped input if it is not http(s), or ``""`` if empty.
    """
    if url is None:
        return ""
    stripped = url.strip()
    if not stripped:
        return ""
    try:
        link = urljoin(base.strip(), stripped) if base else stripped
        parts = urlsplit(link)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.netloc:
            return stripped
        host, netloc = _normalize_netloc(parts.netloc, scheme)
        for _ in range(_MAX_UNWRAP):
            target = _redirect_target(host, parts.path, parts.query)
            if target is None:
                break
            target_parts = urlsplit(target)
            if not target_parts.netloc:
                break  # "https:///x" is no better than the wrapper it came in
            parts, scheme = target_parts, target_parts.scheme.lower()
            host, netloc = _normalize_netloc(parts.netloc, scheme)
        query = _strip_tracking(parts.query)
        path = parts.path or "/"
        canonical = f"{scheme}://{netloc}{path}?{query}" if query else f"{scheme}://{netloc}{path}"
        # Dropping "?" or "#..." can bare a stray space the published link had before them.
        return canonical.rstrip()
    except ValueError:
        # urllib rejects some netlocs (bad IPv6 brackets, NFKC tricks); such a link is its own id.
        return stripped


def _normalize_netloc(netloc: str, scheme: str) -> tuple[str, str]:
    """Lower-case the host and drop the scheme's default port; return (host, netloc)."""
    userinfo, at, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        end = hostport.find("]")
        host, port = (hostport[: end + 1], hostport[end + 1 :]) if end >= 0 else (hostport, "")
        port = port[1:] if port.startswith(":") else ""
    else:
        host, colon, port = hostport.rpartition(":")
        if not colon:
            host, port = hostport, ""
    host = host.lower()
    if port.isascii() and port.isdigit() and int(port) == _DEFAULT_PORTS[scheme]:
        port = ""
    hostport = f"{host}:{port}" if port else host
    return host, f"{userinfo}{at}{hostport}"


def _redirect_target(host: str, path: str, query: str) -> str | None:
    """Return the absolute http(s) URL a known redirector link points at, or None."""
    bare = host[4:] if host.startswith("www.") else host
    names: tuple[str, ...]
    if _GOOGLE_HOST_RE.fullmatch(bare):
        names = ("url", "q") if path == "/url" else ("url",)
    elif bare == "bing.com" or bare.endswith(".bing.com"):
        names = ("url", "u")
    elif bare == "duckduckgo.com" and path.startswith("/l/"):
        names = ("uddg",)
    elif host in _FACEBOOK_HOSTS and path == "/l.php":
        names = ("u",)
    elif host == "r.search.yahoo.com":
        # The target hides in a path segment: /_ylt=.../RV=2/RU=https%3a%2f%2f.../RK=2/RS=...
        for segment in path.split("/"):
            if segment.startswith("RU="):
                return _absolute_http(unquote(segment[3:]))
        return None
    else:
        return None
    if not query:
        return None
    params = parse_qsl(query, keep_blank_values=True)
    for name in names:
        values = {value for key, value in params if key == name}
        # Two different targets under one name is ambiguous: leave the link alone.
        if len(values) == 1:
            target = _absolute_http(values.pop())
            if target is not None:
                return target
    return None


def _absolute_http(candidate: str) -> str | None:
    """Return ``candidate`` stripped if it starts with an http(s) scheme, else None."""
    candidate = candidate.strip()
    prefix = candidate[:8].lower()
    return candidate if prefix.startswith(("http://", "https://")) else None


def _strip_tracking(query: str) -> str:
    """Drop tracking parameters (and empty pieces) from a raw query, keeping the rest verbatim."""
    if not query:
        return ""
    kept: list[str] = []
    for piece in query.split("&"):
        if not piece:
            continue
        raw_name, _, raw_value = piece.partition("=")
        name = unquote_plus(raw_name).lower()
        if name.startswith("utm_") or name in _TRACKING_PARAMS:
            continue
        # `rss=1` / bare `rss` only marks the feed as the referrer; other values may matter.
        if name == "rss" and raw_value in ("", "1"):
            continue
        kept.append(piece)
    return "&".join(kept)


# --- title_key ---------------------------------------------------------------------------------

_WIRE_NUMBERED = ("update", "wrapup")  # "UPDATE 2-", "WRAPUP 1-"
_WIRE_PLAIN = (
    "exclusive",
    "breaking news",
    "breaking",
    "corrected",
    "correction",
    "refile",
    "rpt",
    "analysis",
    "factbox",
    "explainer",
    "insight",
    "focus",
    "column",
    "live",
    "urgent",
)


def _wire_words(words: tuple[str, ...], numbered: tuple[str, ...]) -> str:
    """Build the alternation of wire slugs, with optional update numbers."""
    plain = "|".join(word.replace(" ", r"\s+") for word in words)
    return rf"(?:{'|'.join(numbered)})(?:\s*[0-9]+)?|{plain}"


# Upper-case wire slugs take any separator ("UPDATE 2-", "EXCLUSIVE:"); in other cases only a colon
# counts, so "Live-streamed talks" or "Analysis-driven" keep their first word.
_WIRE_PREFIX_RE = re.compile(
    r"^\s*(?:(?:(?:"
    + _wire_words(tuple(w.upper() for w in _WIRE_PLAIN), tuple(w.upper() for w in _WIRE_NUMBERED))
    + r")\s*[-\u2010-\u2015:]|(?i:"
    + _wire_words(_WIRE_PLAIN, _WIRE_NUMBERED)
    + r")\s*:)\s*)+"
)
# " - Reuters", " | Reuters", " – South China Morning Post": at most five words after the last
# spaced separator.
_PUBLISHER_SUFFIX_RE = re.compile(r"^(.*\S)\s+[-|\u2013\u2014]\s+\S+(?:\s+\S+){0,4}\s*$", re.DOTALL)
# Apostrophes and dots inside a word join it ("China's" -> "chinas", "U.S." -> "us"), so curly and
# straight quotes or dotted and plain abbreviations give one key. Digits are left out on purpose:
# "1.5" must not become "15".
_JOINING_RE = re.compile(r"(?<=[^\W\d_])['.\u2018\u2019\u02bc](?=[^\W\d_])")
# Runs of anything that is not a letter or digit (`\w` minus `_`). Combining marks are not `\w`,
# so matches are checked below to keep them (Devanagari vowel signs, Thai tone marks, ...).
_NON_WORD_RE = re.compile(r"(?:[^\w\s]|_)+")


def title_key(title: str) -> str:
    """Normalise a title so the same story from different sources gets the same key.

    NFKC and casefold; wire prefixes ("UPDATE 2-", "EXCLUSIVE:", "BREAKING NEWS:") and a short
    publisher suffix (" - Reuters") are stripped; punctuation is removed (apostrophes and dots
    inside a word join it, so "U.S." matches "US"; other marks become spaces) and spaces are
    collapsed. Letters and digits of every script are kept, so Chinese or Arabic titles give
    non-empty keys.

    Args:
        title: The entry's title, plain text.

    Returns:
        The grouping key; ``""`` only if the title has no letters or digits.
    """
    if not title:
        return ""
    text = unicodedata.normalize("NFKC", title)
    stripped = _WIRE_PREFIX_RE.sub("", text, count=1)
    if _has_word(stripped):
        text = stripped
    match = _PUBLISHER_SUFFIX_RE.match(text)
    if match and _has_word(match.group(1)):
        text = match.group(1)
    text = _JOINING_RE.sub("", text.casefold())
    text = _NON_WORD_RE.sub(_replace_punctuation, text)
    return " ".join(text.split())


def _has_word(text: str) -> bool:
    """Return True if ``text`` has at least one letter or digit."""
    return any(char.isalnum() for char in text)


def _replace_punctuation(match: re.Match[str]) -> str:
    """Keep combining marks, turn any other punctuation or symbol into a space."""
    return "".join(char if unicodedata.category(char)[0] == "M" else " " for char in match.group())


# --- times -------------------------------------------------------------------------------------

_MIN_YEAR = 1970
_MAX_YEAR = 2100
_EPOCH_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LEAP_SECOND_RE = re.compile(r"(T[0-9]{2}:?[0-9]{2}:?)60")


def to_utc(value: time.struct_time | datetime | None) -> datetime | None:
    """Convert a feedparser ``struct_time`` (UTC) or a datetime to an aware UTC datetime.

    A naive datetime is taken to be UTC; an aware one is converted.

    Args:
        value: A ``time.struct_time`` in UTC, as feedparser gives, or a datetime, or ``None``.

    Returns:
        An aware UTC datetime, or ``None`` for ``None``, impossible values, or a year outside
        1970-2100.
    """
    if value is None:
        return None
    try:
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                result = value.replace(tzinfo=UTC)
            else:
                result = value.astimezone(UTC)
        else:
            result = datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None
    if not _MIN_YEAR <= result.year <= _MAX_YEAR:
        return None
    return result


def parse_iso_time(text: str | None) -> datetime | None:
    """Parse a time from a JSON source into an aware UTC datetime.

    Accepts RFC 3339 / ISO 8601 (``Z`` or offsets, fractional seconds, date only; no offset means
    UTC), RFC 822 dates as in RSS, and epoch seconds written as a number.

    Args:
        text: The time as given by the source; ``None`` is treated as missing.

    Returns:
        An aware UTC datetime, or ``None`` if the text is missing, unparsable or out of range.
    """
    if not text:
        return None
    text = text.strip()
    if not text:
        return None
    if _EPOCH_RE.fullmatch(text):
        if len(text) == 8 and text.isdigit() and text[:2] in ("19", "20"):
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"  # YYYYMMDD, not 1970 + 20 million s
        else:
            try:
                seconds = float(text)
                if abs(seconds) >= 1e11:  # JavaScript-style milliseconds
                    seconds /= 1000
                return to_utc(datetime.fromtimestamp(seconds, tz=UTC))
            except (OverflowError, ValueError, OSError):
                return None
    if text[0].isdigit() and text.isascii():
        iso = text.upper()  # RFC 3339 allows "t" and "z"; fromisoformat wants them upper-case
        for candidate in (iso, _LEAP_SECOND_RE.sub(r"\g<1>59", iso)):
            try:
                return to_utc(datetime.fromisoformat(candidate))
            except ValueError:
                continue
    try:
        return to_utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
