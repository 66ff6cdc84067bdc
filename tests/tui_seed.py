"""A seeded dashboard database: the London talks as the feeds told them, at 15:00 on day 2.

Items are tagged by the real tagger with the real London profile, sources get recorded polls
(one failing), so the dashboard shows every kind of row. Also a script, to try the dashboard by
hand: ``python -m tests.tui_seed /tmp/tw-ui.db``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feeds.models import Entry
from feeds.profile import Profile
from feeds.seeds import load_talk_profile
from feeds.store import FetchRecord, Store
from feeds.tagging import Tagger

# 15:00 in London (BST) on the second day of the talks.
NOW = datetime(2025, 6, 10, 14, 0, tzinfo=UTC)

SOURCES = {
    "Reuters World": "https://feeds.example/reuters/world.rss",
    "Xinhua English": "https://feeds.example/xinhua/english.rss",
    "BBC Business": "https://feeds.example/bbc/business.rss",
    "AP Top News": "https://feeds.example/ap/top.rss",
    "SCMP China": "https://feeds.example/scmp/china.rss",
    "Gov wire (broken)": "https://feeds.example/wire/broken.json",
}

# (source, guid, minutes before NOW, title, summary, url)
ITEMS: list[tuple[str, str, int, str, str, str]] = [
    (
        "Reuters World",
        "r-1",
        1,
        "US and China agree framework to implement Geneva consensus, Lutnick says",
        "Commerce Secretary Howard Lutnick said negotiators in London agreed a framework on "
        "rare earths and export controls, subject to approval by Trump and Xi.",
        "https://news.example/framework",
    ),
    (
        "AP Top News",
        "ap-1",
        4,
        "US and China agree framework on rare earths after London talks",
        "Negotiators at Lancaster House reached a framework late on Tuesday.",
        "https://news.example/framework",
    ),
    (
        "Xinhua English",
        "x-1",
        20,
        "He Lifeng: China and US hold candid, in-depth talks in London",
        "Vice Premier He Lifeng said the two sides held candid and in-depth exchanges on "
        "economic and trade issues of mutual concern.",
        "https://news.example/he-lifeng",
    ),
    (
        "SCMP China",
        "s-1",
        35,
        "稀土出口管制成为中美伦敦会谈焦点",
        "中美双方在伦敦兰卡斯特宫举行第二天会谈，何立峰与贝森特讨论稀土出口。",
        "https://news.example/zh-1",
    ),
    (
        "Reuters World",
        "r-2",
        50,
        "Bessent says US-China talks in London going well, will continue into evening",
        "Treasury Secretary Scott Bessent told reporters the talks at Lancaster House were "
        "productive and that chip export curbs were on the table.",
        "https://news.example/bessent-evening",
    ),
    (
        "BBC Business",
        "b-1",
        70,
        "FTSE 100 edges higher as investors watch US-China trade talks",
        "London shares rose slightly as traders awaited news from the talks between the "
        "United States and China on tariffs and rare earths.",
        "https://news.example/ftse",
    ),
    (
        "BBC Business",
        "b-2",
        95,
        "Weather: a sunny week ahead for London and the south-east",
        "Temperatures will climb to 27C by the weekend.",
        "https://news.example/weather",
    ),
    (
        "AP Top News",
        "ap-2",
        130,
        "Greer joins talks as US weighs easing chip design software curbs",
        "Trade Representative Jamieson Greer joined the US delegation in London as Washington "
        "considered lifting export controls on chip design software for China.",
        "https://news.example/greer-eda",
    ),
    (
        "Xinhua English",
        "x-2",
        200,
        "Wang Wentao meets Lutnick on export control concerns",
        "Commerce Minister Wang Wentao raised China's concerns over US export controls in a "
        "meeting with US Commerce Secretary Howard Lutnick in London.",
        "https://news.example/wang-lutnick",
    ),
    (
        "SCMP China",
        "s-2",
        320,
        "Li Chenggang says China-US trade talks in London are 'professional, rational'",
        "China's international trade representative Li Chenggang described the talks with "
        "the United States as professional, rational, in-depth and candid.",
        "https://news.example/li-chenggang",
    ),
    (
        "BBC Business",
        "b-3",
        400,
        "Football: England squad named for summer friendlies",
        "",
        "https://news.example/football",
    ),
    (
        "Reuters World",
        "r-3",
        1200,
        "US, China begin second round of trade talks at London's Lancaster House",
        "Bessent, Lutnick and Greer met Vice Premier He Lifeng for talks on rare earths and "
        "export controls after a call between Trump and Xi.",
        "https://news.example/day1-begin",
    ),
    (
        "AP Top News",
        "ap-3",
        1500,
        "Trump says he is getting good reports from the London talks with China",
        "President Donald Trump said on Monday that US officials were getting good reports "
        "from the talks with China in London on tariffs and rare earths.",
        "https://news.example/trump-reports",
    ),
]
# An earlier title of r-2, stored before the one above (so the item shows "upd").
REVISED = ("Reuters World", "r-2", "Bessent says US-China talks in London going well")


def entry(
    tagger: Tagger,
    guid: str,
    minutes: int,
    title: str,
    summary: str = "",
    url: str = "",
    *,
    now: datetime = NOW,
) -> Entry:
    """An entry published ``minutes`` before ``now``, tagged by the real tagger."""
    return Entry(
        guid=guid,
        title=title,
        summary=summary,
        url=url,
        link=url,
        published=now - timedelta(minutes=minutes),
        tagging=tagger.tag(title, summary),
    )


def seed(path: Path, profile: Profile | None = None, *, now: datetime = NOW) -> Profile:
    """Fill a new database with :data:`ITEMS` and recorded polls; returns the profile."""
    profile = profile or load_talk_profile("london-2025")
    tagger = Tagger(profile)
    with Store(path) as store:
        ids = {
            name: store.add_source(url, name=name, now=now - timedelta(days=2)).id
            for name, url in SOURCES.items()
        }
        source, guid, title = REVISED
        first = next(i for i in ITEMS if i[1] == guid)
        # Stored when first seen, an hour ago; the current title replaced it later.
        store.add_entries(
            ids[source],
            [entry(tagger, guid, first[2], title, first[4], first[5], now=now)],
            now - timedelta(minutes=first[2]),
        )
        for name, guid, minutes, title, summary, url in reversed(ITEMS):
            seen = now - timedelta(minutes=max(minutes - 1, 0), seconds=30)
            item = entry(tagger, guid, minutes, title, summary, url, now=now)
            store.add_entries(ids[name], [item], seen)
        for name, source_id in ids.items():
            record = store.get_source(source_id)
            assert record is not None
            broken = "broken" in name
            store.record_fetch(
                record,
                FetchRecord(
                    at=now - timedelta(seconds=40),
                    status=503 if broken else 200,
                    error=(
                        "HTTP 503 Service Unavailable: the upstream newswire gateway is down "
                        "for maintenance until further notice"
                    )
                    if broken
                    else None,
                    elapsed=0.2,
                    next_due=now + timedelta(minutes=4),
                    ok=not broken,
                    new=0 if broken else 2,
                ),
            )
    return profile


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "tw-ui.db")
    if target.exists():
        sys.exit(f"{target} exists; pick a new path")
    seed(target, now=datetime.now(UTC) if "--now" in sys.argv else NOW)
    print(f"seeded {target}")
