"""OPML import and export of source lists (pure: files in, records out)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from feeds.errors import ConfigError
from feeds.models import Source
from feeds.seeds import SeedSource

_KIND_BY_TYPE = {
    "rss": "rss",
    "atom": "rss",
    "rdf": "rss",
    "jsonfeed": "jsonfeed",
    "json": "jsonfeed",
    "wire": "wire",
}


def read_opml(path: Path, skipped: list[str] | None = None) -> list[SeedSource]:
    """Every outline with an ``xmlUrl`` in an OPML file, categories flattened.

    Args:
        path: the OPML file.
        skipped: if given, receives the ``xmlUrl`` values that are not http(s) (``file:``,
            ``javascript:``...): listed in the file, never fetched.

    Raises:
        ConfigError: the file is missing or not OPML.
    """
    try:
        tree = ET.parse(path)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path}: is a directory, expected an OPML file") from exc
    except ET.ParseError as exc:
        raise ConfigError(f"{path}: not valid OPML/XML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    root = tree.getroot()
    if root.tag.lower() != "opml":
        raise ConfigError(f"{path}: not an OPML file (root element is <{root.tag}>)")
    found: list[SeedSource] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url.lower().startswith("feed://"):
            url = "http://" + url[len("feed://") :]
        if not url.lower().startswith(("http://", "https://")):
            if url and skipped is not None:
                skipped.append(url)
            continue  # file:, javascript: and friends are not sources we fetch
        name = (outline.get("title") or outline.get("text") or url).strip()
        kind = outline.get("talkwatchKind") or _KIND_BY_TYPE.get(
            (outline.get("type") or "rss").lower(), "rss"
        )
        interval = outline.get("talkwatchInterval")
        found.append(
            SeedSource(
                name=name,
                url=url,
                kind=kind if kind in ("rss", "jsonfeed", "wire") else "rss",
                tier=outline.get("talkwatchTier", ""),
                interval=float(interval)
                if interval and interval.replace(".", "", 1).isdigit()
                else None,
            )
        )
    return found


def write_opml(sources: Iterable[Source], *, title: str = "talkwatch sources") -> str:
    """An OPML 2.0 document listing the sources (round-trips through :func:`read_opml`)."""
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = datetime.now(UTC).strftime(
        "%a, %d %b %Y %H:%M:%S GMT"
    )
    body = ET.SubElement(opml, "body")
    for source in sources:
        attrs = {
            "text": source.name,
            "title": source.name,
            "type": "rss" if source.kind == "rss" else source.kind,
            "xmlUrl": source.url,
            "talkwatchKind": source.kind,
        }
        if source.tier:
            attrs["talkwatchTier"] = source.tier
        if source.interval:
            attrs["talkwatchInterval"] = f"{source.interval:g}"
        ET.SubElement(body, "outline", attrs)
    ET.indent(opml)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(opml, encoding="unicode") + "\n"
