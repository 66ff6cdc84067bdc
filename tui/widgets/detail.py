"""The detail panel: everything stored about the selected item, and why it was tagged."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from feeds.models import StoredItem
from feeds.profile import Profile
from tui.format import talk_zone

Revision = tuple[str, str, datetime]


class DetailPanel(VerticalScroll):
    """The selected headline in full: summary, source, times, link, tags and revisions."""

    DEFAULT_CSS = """
    DetailPanel {
        scrollbar-size-vertical: 1;
    }
    DetailPanel > Static {
        width: 1fr;
    }
    """

    def __init__(self, profile: Profile, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.profile = profile
        self.zone = talk_zone(profile)
        self.item: StoredItem | None = None
        self.hint = Text("No headline selected.", style="dim")
        self.names = {f"person:{p.id}": p.name for p in profile.people}
        self.names |= {g.tag: g.name for g in profile.groups if g.tag}
        self.names |= {f"alert:{a.id}": a.name for a in profile.alerts}

    def compose(self) -> ComposeResult:
        yield Static(Text("No headline selected.", style="dim"), id="detail-body")

    def show(self, item: StoredItem | None, revisions: Sequence[Revision] = ()) -> None:
        """Show ``item`` (``None``: nothing selected) with its earlier versions."""
        self.item = item
        body = self.query_one("#detail-body", Static)
        body.update(self.describe(item, revisions) if item is not None else self.hint)
        self.scroll_home(animate=False)

    def show_hint(self, hint: Text) -> None:
        """What to say while no headline is selected (why the pane is empty)."""
        self.hint = hint
        if self.item is None:
            self.query_one("#detail-body", Static).update(hint)

    def describe(self, item: StoredItem | None, revisions: Sequence[Revision] = ()) -> Text:
        """The panel's text. Feed strings are appended as plain text, never parsed as markup."""
        if item is None:
            return Text("No headline selected.", style="dim")
        text = Text()
        alert = any(tag.startswith("alert:") for tag in item.tags)
        text.append(item.title, style="bold red" if alert else "bold")
        text.append("\n")
        text.append(item.source, style="cyan")
        text.append(" · published ")
        text.append(self._when(item.published))
        if item.published_orig is not None and item.published_orig != item.published:
            text.append(" (the feed said ", style="dim")
            text.append(self._when(item.published_orig), style="dim")
            text.append(")", style="dim")
        text.append(" · first seen ")
        text.append(f"{item.first_seen.astimezone(self.zone):%H:%M:%S %Z}")
        if item.story_sources > 1:
            text.append(f" · reported by {item.story_sources} sources", style="bold")
        text.append("\n")
        link = item.link or item.url
        if link:
            text.append(link, style="underline blue")
            text.append("\n")
        if item.summary:
            text.append("\n")
            text.append(item.summary)
            text.append("\n")
        text.append("\n")
        verdict = "related to the talks" if item.related else "not related to the talks"
        text.append(f"{verdict} (score {item.score:g})", style="bold" if item.related else "dim")
        text.append("\n")
        for tag in item.tags:
            kind = tag.partition(":")[0]
            text.append(f"  {tag}", style="bold red" if kind == "alert" else "bold")
            name = self.names.get(tag)
            if name:
                text.append(f" {name}", style="dim")
            terms = item.matches.get(tag, ())
            if terms:
                text.append("  ← ")
                text.append(", ".join(dict.fromkeys(terms)), style="italic")
            text.append("\n")
        if revisions:
            text.append("\nearlier versions (oldest first):\n", style="bold")
            for title, summary, replaced_at in revisions:
                text.append(f"  until {self._when(replaced_at)}  ", style="dim")
                text.append(title)
                text.append("\n")
                if summary:
                    text.append("    ")
                    text.append(summary, style="dim")
                    text.append("\n")
        text.rstrip()
        return text

    def _when(self, value: datetime) -> str:
        local = value.astimezone(self.zone)
        utc = value.astimezone(UTC)
        return f"{local:%a %d %b %H:%M %Z} ({utc:%H:%M} UTC)"
