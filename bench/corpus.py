"""Deterministic corpus of news feeds for the ingest benchmark.

`build_corpus(feeds, items, seed)` returns the same bytes for the same arguments: a third each of
RSS 2.0, Atom 1.0 and RSS 1.0 (RDF) feeds of trade, markets and politics news, every entry with a
unique guid/id and link, a headline, a date spread over the four days before `REFERENCE_TIME`,
and a 40-120-word HTML summary (paragraphs, links, <b>/<em>, entities, now and then an <img>).

Nothing in a document depends on the server's address, so one corpus serves every run. The links
inside point at reserved `example.*` domains that nobody fetches.

Write the corpus to a folder to look at it:

    .venv/bin/python bench/corpus.py --out /tmp/corpus
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

FeedFormat = Literal["rss2", "atom", "rss1"]
FORMATS: tuple[FeedFormat, ...] = ("rss2", "atom", "rss1")
CONTENT_TYPES: dict[FeedFormat, str] = {
    "rss2": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "rss1": "application/rdf+xml; charset=utf-8",
}
REFERENCE_TIME = datetime(2025, 6, 10, 18, 0, tzinfo=UTC)
SPREAD = timedelta(days=4)

PUBLISHERS: tuple[tuple[str, str], ...] = (
    ("Harbourline Wire", "harbourline.example.com"),
    ("The Tariff Ledger", "tariffledger.example.org"),
    ("Meridian Markets", "meridian-markets.example.net"),
    ("Continental Dispatch", "dispatch.example.com"),
    ("Portside Economic Review", "portside.example.org"),
    ("The Customs House", "customshouse.example.net"),
    ("Atlas Business Daily", "atlasdaily.example.com"),
    ("Strait Times Digital", "strait.example.org"),
    ("Northgate Policy Post", "northgate.example.net"),
    ("Freight & Forex", "freightforex.example.com"),
    ("The Quayside Journal", "quayside.example.org"),
    ("Global Briefing Room", "briefingroom.example.net"),
)
SECTIONS: tuple[str, ...] = (
    "Trade",
    "Markets",
    "Politics",
    "Economy",
    "World",
    "Business",
    "Commodities",
    "Asia",
    "Europe",
    "Americas",
    "Analysis",
    "Live",
)
EDITIONS: tuple[str, ...] = ("", " (Europe edition)", " (Asia edition)", " (US edition)")

COUNTRIES = (
    "the United States",
    "China",
    "the European Union",
    "Japan",
    "India",
    "Canada",
    "Mexico",
    "Brazil",
    "the United Kingdom",
    "South Korea",
    "Australia",
    "Indonesia",
    "Vietnam",
    "Switzerland",
    "Norway",
    "Chile",
    "South Africa",
    "Turkey",
)
SHORT = {
    "the United States": "US",
    "the European Union": "EU",
    "the United Kingdom": "UK",
    "South Korea": "Seoul",
    "China": "Beijing",
    "Japan": "Tokyo",
    "India": "New Delhi",
    "Canada": "Ottawa",
}
OFFICIALS = (
    "the US Trade Representative",
    "China\u2019s commerce minister",
    "the EU trade commissioner",
    "Britain\u2019s business secretary",
    "Japan\u2019s economy minister",
    "India\u2019s commerce secretary",
    "Canada\u2019s trade minister",
    "Mexico\u2019s economy secretary",
    "a senior White House adviser",
    "the WTO director-general",
)
TOPICS = (
    "steel and aluminium tariffs",
    "rare-earth export controls",
    "semiconductor supply chains",
    "agricultural quotas",
    "digital services taxes",
    "electric-vehicle subsidies",
    "pharmaceutical duties",
    "fisheries access",
    "rules of origin",
    "critical minerals",
    "carbon border levies",
    "port and shipping fees",
    "intellectual property",
    "services market access",
    "soybean purchases",
    "auto parts",
)
MARKETS = (
    "the S&P 500",
    "the Nikkei 225",
    "the FTSE 100",
    "the Stoxx 600",
    "the Hang Seng",
    "the Shanghai Composite",
    "the Dax",
    "Brent crude",
    "copper futures",
    "the yuan",
    "the euro",
    "the dollar index",
    "soybean futures",
    "ten-year Treasury yields",
)
UP = ("rises", "climbs", "rallies", "edges higher", "jumps", "firms")
DOWN = ("falls", "slips", "slides", "edges lower", "tumbles", "weakens")
PLACES = ("London", "Geneva", "Brussels", "Washington", "Beijing", "Tokyo", "Stockholm", "Ottawa")
ADJECTIVES = ("tougher", "softer", "cautious", "conciliatory", "hardline", "pragmatic")
SOURCES = ("people familiar with the matter", "two officials", "diplomats", "negotiators")
ANALYSTS = ("Priya Natarajan", "Tomás Ferreira", "Hannah Okafor", "Li Wei", "Claire Dubois")
FIRMS = ("Barclays", "ING", "Nomura", "Capital Economics", "Oxford Economics", "Rabobank")

HEADLINES = (
    "{C1} and {C2} agree to resume talks on {topic}",
    "{Market} {up} as {S1} envoy signals {adj} stance on {topic}",
    "{Official} says deal with {C2} is \u2018within reach\u2019",
    "{Market} {down} {pct}% after {S1} threatens new {topic} curbs",
    "Talks in {place} stall over {topic} as deadline looms",
    "{S1}\u2013{S2} trade talks: what we know so far",
    "Exclusive: {S1} weighs exemptions for {topic}, {source} say",
    "Steel & aluminium: {S1} and {S2} trade barbs in {place}",
    "{Official} heads to {place} for second round of {topic} talks",
    "Analysis: why {topic} could sink the {S1}\u2013{S2} deal",
    "{Market} {up} on hopes of {S1}\u2013{S2} truce",
    "Live: {S1} & {S2} negotiators meet in {place}",
    "{S1} exporters brace for {topic} decision",
    "Farmers & carmakers lobby {S1} ahead of {place} talks",
    "{S2} retaliates with duties on {S1} {topic}",
)
SENTENCES = (
    "Negotiators from {C1} and {C2} met for a {ordinal} day in {place} on {weekday}, "
    "with {topic} still the main sticking point.",
    "{Official} told reporters that \u201cboth sides are closer than they have been in "
    "months\u201d but cautioned that {topic} remained unresolved.",
    "{Market} {up} {pct}% in early trading as investors bet on a truce.",
    "{Market} {down} {pct}% by the close, reversing gains made earlier in the week.",
    "According to {source}, the draft text would phase out {topic} over {years} years.",
    "{analyst}, an economist at {firm}, said the market had \u201clargely priced in\u201d "
    "a {adj} outcome.",
    "Exporters in {C2} have warned that a failure to agree on {topic} could cost "
    "{bn} billion dollars a year.",
    "The talks follow months of tit-for-tat measures on {topic} & {topic2}.",
    "Officials declined to comment on whether {topic2} would be part of the package.",
    "A joint statement is expected before the {weekday} deadline, {source} said.",
    "Shares in shipping & logistics groups were mixed as traders awaited details.",
    "Lawmakers in {C1} have pressed for {adj} terms on {topic2} before any vote.",
    "The last round of talks, held in {place2}, ended without a communiqu\u00e9.",
    "Business groups urged both governments to avoid a \u201ccliff-edge\u201d on {topic}.",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
ORDINALS = ("second", "third", "fourth", "fifth")


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """One generated feed: its bytes and the HTTP facts the server needs."""

    index: int
    path: str  # /feeds/NNN.xml
    format: FeedFormat
    title: str
    body: bytes
    content_type: str
    last_modified: datetime
    items: int


@dataclass(frozen=True, slots=True)
class _Entry:
    title: str
    link: str
    guid: str
    published: datetime
    summary_html: str


def feed_path(index: int) -> str:
    """Return the URL path a feed is served at."""
    return f"/feeds/{index:03d}.xml"


def build_corpus(feeds: int = 200, items: int = 50, seed: int = 20250610) -> list[FeedDocument]:
    """Build `feeds` feeds of `items` entries each, the same for the same arguments."""
    rng = random.Random(seed)
    return [_build_feed(rng, index, items) for index in range(feeds)]


def _fill(rng: random.Random, template: str) -> str:
    c1, c2 = rng.sample(COUNTRIES, 2)
    topic, topic2 = rng.sample(TOPICS, 2)
    place, place2 = rng.sample(PLACES, 2)
    market = rng.choice(MARKETS)
    values = {
        "C1": c1,
        "C2": c2,
        "S1": SHORT.get(c1, c1.removeprefix("the ")),
        "S2": SHORT.get(c2, c2.removeprefix("the ")),
        "topic": topic,
        "topic2": topic2,
        "place": place,
        "place2": place2,
        "Market": market[0].upper() + market[1:],
        "up": rng.choice(UP),
        "down": rng.choice(DOWN),
        "pct": f"{rng.uniform(0.1, 3.5):.1f}",
        "adj": rng.choice(ADJECTIVES),
        "Official": rng.choice(OFFICIALS).capitalize(),
        "source": rng.choice(SOURCES),
        "analyst": rng.choice(ANALYSTS),
        "firm": rng.choice(FIRMS),
        "weekday": rng.choice(WEEKDAYS),
        "ordinal": rng.choice(ORDINALS),
        "years": str(rng.randint(2, 10)),
        "bn": str(rng.randint(2, 90)),
    }
    text = template.format(**values)
    return text[0].upper() + text[1:]


def _html_text(text: str) -> str:
    """Escape text for HTML, spelling some characters as named entities like publishers do."""
    text = escape(text)
    return (
        text.replace("\u201c", "&ldquo;")
        .replace("\u201d", "&rdquo;")
        .replace("\u2019", "&rsquo;")
        .replace("\u2013", "&ndash;")
    )


_WORD = re.compile(r"\S+")


def _summary(rng: random.Random, link: str, site: str) -> str:
    read_more = rng.random() < 0.3  # adds two words
    most = 118 if read_more else 120
    target = rng.randint(40, most)
    words = 0
    sentences: list[str] = []
    for template in rng.sample(SENTENCES, len(SENTENCES)):  # no sentence twice in one summary
        sentence = _fill(rng, template)
        count = len(_WORD.findall(sentence))
        if words + count > most and words >= 40:
            break
        sentences.append(sentence)
        words += count
        if words >= target:
            break
    marked: list[str] = []
    link_at = rng.randrange(len(sentences))
    for i, sentence in enumerate(sentences):
        html = _html_text(sentence)
        parts = html.split(" ")
        if i == link_at and len(parts) > 4:
            start = rng.randrange(len(parts) - 3)
            anchor = " ".join(parts[start : start + 3])
            href = escape(f"https://{site}/related/{rng.getrandbits(32):08x}?ref=feed&src=rss")
            parts[start : start + 3] = [f'<a href="{href}">{anchor}</a>']
        elif rng.random() < 0.25 and len(parts) > 3:
            k = rng.randrange(len(parts) - 2)
            tag = rng.choice(("b", "em", "strong", "i"))
            parts[k : k + 2] = [f"<{tag}>{' '.join(parts[k : k + 2])}</{tag}>"]
        marked.append(" ".join(parts))
    paragraphs: list[str] = []
    per = max(1, len(marked) // rng.randint(1, 3))
    for start in range(0, len(marked), per):
        paragraphs.append("<p>" + " ".join(marked[start : start + per]) + "</p>")
    if rng.random() < 0.12:
        img = (
            f'<img src="https://cdn.{site}/img/{rng.getrandbits(40):010x}.jpg" '
            f'alt="Delegates arrive for talks" width="640" height="360">'
        )
        paragraphs.insert(0, f"<p>{img}</p>")
    if read_more:
        paragraphs.append(f'<p><a href="{escape(link)}">Read more&nbsp;&raquo;</a></p>')
    return "\n".join(paragraphs)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]


def _build_entries(rng: random.Random, index: int, items: int, site: str) -> list[_Entry]:
    seconds = int(SPREAD.total_seconds())
    offsets = sorted(rng.sample(range(seconds), items))
    entries: list[_Entry] = []
    for n, offset in enumerate(offsets):  # newest first, as feeds list them
        published = REFERENCE_TIME - timedelta(seconds=offset)
        title = _fill(rng, rng.choice(HEADLINES))
        day = published.strftime("%Y/%m/%d")
        link = f"https://{site}/news/{day}/{_slug(title)}-{index:03d}{n:03d}"
        guid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        entries.append(_Entry(title, link, guid, published, _summary(rng, link, site)))
    return entries


def _xml_text(text: str, ascii_refs: bool) -> str:
    escaped = escape(text)
    if ascii_refs:  # some publishers spell everything non-ASCII as &#NNNN;
        return escaped.encode("ascii", "xmlcharrefreplace").decode("ascii")
    return escaped


def _build_feed(rng: random.Random, index: int, items: int) -> FeedDocument:
    publisher, site = PUBLISHERS[index % len(PUBLISHERS)]
    section = SECTIONS[(index // len(PUBLISHERS)) % len(SECTIONS)]
    edition = EDITIONS[(index // (len(PUBLISHERS) * len(SECTIONS))) % len(EDITIONS)]
    title = f"{publisher} \u2013 {section}{edition}"
    fmt = FORMATS[index % 3]
    entries = _build_entries(rng, index, items, site)
    home = f"https://{site}/{section.lower()}/"
    ascii_refs = rng.random() < 0.3
    cdata = rng.random() < 0.4
    ttl = rng.choice((15, 30, 60)) if rng.random() < 0.25 else None
    if fmt == "rss2":
        text = _render_rss2(title, home, entries, ascii_refs, cdata, ttl)
    elif fmt == "atom":
        text = _render_atom(title, home, index, entries, ascii_refs)
    else:
        text = _render_rss1(title, home, index, entries, ascii_refs)
    last_modified = max(e.published for e in entries) if entries else REFERENCE_TIME
    return FeedDocument(
        index=index,
        path=feed_path(index),
        format=fmt,
        title=title,
        body=text.encode("utf-8"),
        content_type=CONTENT_TYPES[fmt],
        last_modified=last_modified,
        items=items,
    )


def _html_field(html: str, ascii_refs: bool, cdata: bool) -> str:
    if cdata:
        return f"<![CDATA[{html}]]>"
    return _xml_text(html, ascii_refs)


def _render_rss2(
    title: str,
    home: str,
    entries: Sequence[_Entry],
    ascii_refs: bool,
    cdata: bool,
    ttl: int | None,
) -> str:
    def t(s: str) -> str:
        return _xml_text(s, ascii_refs)

    newest = entries[0].published if entries else REFERENCE_TIME
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">',
        "<channel>",
        f"<title>{t(title)}</title>",
        f"<link>{escape(home)}</link>",
        f"<description>{t('Latest ' + title + ' headlines')}</description>",
        "<language>en-gb</language>",
        f"<lastBuildDate>{format_datetime(newest, usegmt=True)}</lastBuildDate>",
        "<generator>talkwatch-bench corpus</generator>",
    ]
    if ttl is not None:
        out.append(f"<ttl>{ttl}</ttl>")
    for e in entries:
        out += [
            "<item>",
            f"<title>{t(e.title)}</title>",
            f"<link>{escape(e.link)}</link>",
            f'<guid isPermaLink="false">{e.guid}</guid>',
            f"<pubDate>{format_datetime(e.published, usegmt=True)}</pubDate>",
            f"<dc:creator>{t('Staff reporter')}</dc:creator>",
            f"<description>{_html_field(e.summary_html, ascii_refs, cdata)}</description>",
            "</item>",
        ]
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _render_atom(
    title: str, home: str, index: int, entries: Sequence[_Entry], ascii_refs: bool
) -> str:
    def t(s: str) -> str:
        return _xml_text(s, ascii_refs)

    newest = entries[0].published if entries else REFERENCE_TIME
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
        f"<title>{t(title)}</title>",
        f"<id>{escape(home)}#feed-{index:03d}</id>",
        f'<link rel="alternate" type="text/html" href={quoteattr(home)}/>',
        f'<link rel="self" type="application/atom+xml" href="{feed_path(index)}"/>',
        f"<updated>{_iso(newest)}</updated>",
        "<author><name>Newsdesk</name></author>",
    ]
    for e in entries:
        out += [
            "<entry>",
            f"<title>{t(e.title)}</title>",
            f'<link rel="alternate" type="text/html" href={quoteattr(e.link)}/>',
            f"<id>urn:uuid:{e.guid}</id>",
            f"<published>{_iso(e.published)}</published>",
            f"<updated>{_iso(e.published)}</updated>",
            f'<summary type="html">{_xml_text(e.summary_html, ascii_refs)}</summary>',
            "</entry>",
        ]
    out += ["</feed>", ""]
    return "\n".join(out)


def _render_rss1(
    title: str, home: str, index: int, entries: Sequence[_Entry], ascii_refs: bool
) -> str:
    def t(s: str) -> str:
        return _xml_text(s, ascii_refs)

    newest = entries[0].published if entries else REFERENCE_TIME
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">',
        f"<channel rdf:about={quoteattr(home + f'rss-{index:03d}.rdf')}>",
        f"<title>{t(title)}</title>",
        f"<link>{escape(home)}</link>",
        f"<description>{t('Latest ' + title + ' headlines')}</description>",
        f"<dc:date>{_iso(newest)}</dc:date>",
        "<items>",
        "<rdf:Seq>",
    ]
    out += [f"<rdf:li rdf:resource={quoteattr(e.link)}/>" for e in entries]
    out += ["</rdf:Seq>", "</items>", "</channel>"]
    for e in entries:
        out += [
            f"<item rdf:about={quoteattr(e.link)}>",
            f"<title>{t(e.title)}</title>",
            f"<link>{escape(e.link)}</link>",
            f"<description>{_xml_text(e.summary_html, ascii_refs)}</description>",
            f"<dc:date>{_iso(e.published)}</dc:date>",
            f"<dc:identifier>urn:uuid:{e.guid}</dc:identifier>",
            "</item>",
        ]
    out += ["</rdf:RDF>", ""]
    return "\n".join(out)


def corpus_digest(documents: Sequence[FeedDocument]) -> str:
    """Return a short hash of every document, to tell corpora apart in results."""
    digest = hashlib.sha256()
    for doc in documents:
        digest.update(doc.path.encode())
        digest.update(doc.body)
    return digest.hexdigest()[:16]


def main(argv: Sequence[str] | None = None) -> int:
    """Write the corpus to a folder (for looking at it; the benchmark keeps it in memory)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True, help="folder to write feeds into")
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20250610)
    args = parser.parse_args(argv)
    documents = build_corpus(args.feeds, args.items, args.seed)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for doc in documents:
        (out / Path(doc.path).name).write_bytes(doc.body)
    total = sum(len(doc.body) for doc in documents)
    print(f"wrote {len(documents)} feeds, {total / 1e6:.1f} MB, digest {corpus_digest(documents)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
