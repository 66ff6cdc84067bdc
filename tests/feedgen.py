"""Small builders for feed documents used in tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class E:
    """An entry to put in a generated feed."""

    guid: str | None
    title: str
    summary: str = ""
    link: str | None = None
    date: str | None = "Tue, 10 Jun 2025 09:00:00 GMT"


def rss(entries: Sequence[E], *, title: str = "Test feed", ttl: int | None = None) -> bytes:
    items = []
    for e in entries:
        parts = [f"<title>{escape(e.title)}</title>"]
        if e.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(e.guid)}</guid>')
        if e.link is not None:
            parts.append(f"<link>{escape(e.link)}</link>")
        if e.summary:
            parts.append(f"<description>{escape(e.summary)}</description>")
        if e.date:
            parts.append(f"<pubDate>{e.date}</pubDate>")
        items.append("<item>" + "".join(parts) + "</item>")
    ttl_xml = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://example.org/</link>{ttl_xml}"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def jsonfeed(entries: Sequence[E]) -> bytes:
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "JSON test feed",
            "home_page_url": "https://example.org/",
            "items": [
                {
                    "id": e.guid,
                    "title": e.title,
                    "content_html": e.summary,
                    "url": e.link,
                    "date_published": "2025-06-10T09:00:00Z",
                }
                for e in entries
            ],
        }
    ).encode()
