"""The only module that speaks SQL: schema, migrations and every query.

One SQLite file in WAL mode holds sources (with their health), items, item revisions, a fetch log
and the pollers' heartbeats. The poller writes; the UI and the CLI read. Readers in other
processes learn of writes through ``PRAGMA data_version`` (see :meth:`Store.data_version`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feeds.errors import StoreError
from feeds.models import Entry, Source, StoredItem, StoreResult, Tagging
from feeds.normalize import title_key

if TYPE_CHECKING:
    import sqlite_utils

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000
# A feed time further in the future than this is not believed (clock skew allowance).
FUTURE_TOLERANCE = timedelta(minutes=10)
# Two items with the same normalised title only count as one story within this window.
STORY_WINDOW = timedelta(days=3)
# Titles shorter than this (after normalising) are too generic to group stories by.
MIN_TITLE_KEY = 16
# A poller whose last heartbeat is older than this is stale (it beats every 5 s).
POLLER_STALE = timedelta(seconds=15)


def format_time(value: datetime) -> str:
    """A UTC timestamp as stored: ISO 8601 with seconds and a ``Z``."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}Z"
    )


def parse_time(value: str | None) -> datetime | None:
    """The inverse of :func:`format_time`; ``None`` stays ``None``."""
    if not value:
        return None
    return datetime.fromisoformat(value)  # reads the trailing Z as UTC (Python 3.11+)


_SCHEMA_V1 = """
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL DEFAULT 'rss',
    interval REAL,
    tier TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}',
    added_at TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    min_interval REAL,
    last_poll_at TEXT,
    last_ok_at TEXT,
    last_status INTEGER,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_due TEXT,
    retired_at TEXT,
    retired_reason TEXT,
    last_new INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    guid TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    published TEXT NOT NULL,
    published_orig TEXT,
    first_seen TEXT NOT NULL,
    updated_at TEXT,
    revisions INTEGER NOT NULL DEFAULT 0,
    story_id TEXT NOT NULL,
    title_key TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    people TEXT NOT NULL DEFAULT '[]',
    matches TEXT NOT NULL DEFAULT '{}',
    related INTEGER NOT NULL DEFAULT 0,
    score REAL NOT NULL DEFAULT 0,
    UNIQUE (source_id, guid)
);
CREATE INDEX items_published ON items (published DESC, id DESC);
CREATE INDEX items_related_published ON items (published DESC, id DESC) WHERE related = 1;
CREATE INDEX items_story ON items (story_id);
CREATE INDEX items_url ON items (url) WHERE url != '';
CREATE INDEX items_title_key ON items (title_key);
CREATE TABLE item_revisions (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    replaced_at TEXT NOT NULL
);
CREATE INDEX item_revisions_item ON item_revisions (item_id);
CREATE TABLE fetch_log (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    elapsed REAL NOT NULL DEFAULT 0,
    new INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX fetch_log_source_at ON fetch_log (source_id, at);
CREATE TABLE pollers (
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    PRIMARY KEY (host, pid)
);
CREATE VIRTUAL TABLE items_fts USING fts5(
    title, summary, content='items', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
-- New rows are indexed in bulk by Store._insert (a per-row trigger costs 3x as much).
CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, summary)
    VALUES ('delete', old.id, old.title, old.summary);
END;
CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, summary)
    VALUES ('delete', old.id, old.title, old.summary);
    INSERT INTO items_fts (rowid, title, summary) VALUES (new.id, new.title, new.summary);
END;
"""

# Each migration takes the schema from version N-1 to N; index 0 builds version 1.
MIGRATIONS: tuple[str, ...] = (_SCHEMA_V1,)


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """The outcome of polling one source, as the store records it."""

    at: datetime
    status: int | None
    error: str | None
    elapsed: float
    next_due: datetime
    ok: bool
    new: int = 0
    updated: int = 0
    etag: str | None = None
    last_modified: str | None = None
    keep_validators: bool = True  # a failure keeps the old ETag/Last-Modified
    min_interval: float | None = None
    moved_to: str | None = None
    retire: str | None = None  # reason, e.g. "410 Gone"


@dataclass(frozen=True, slots=True)
class PollerInfo:
    """A poller process that wrote a heartbeat."""

    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime

    def is_fresh(self, now: datetime) -> bool:
        """Whether its last heartbeat is recent enough to call it running."""
        return now - self.heartbeat_at <= POLLER_STALE


@dataclass(frozen=True, slots=True)
class ItemTotals:
    """How many items a period has: all, related to the talks, and related with an alert."""

    items: int = 0
    related: int = 0
    alerts: int = 0


class Store:
    """A connection to one talkwatch database.

    Not shared between threads: each thread (a UI worker, the poller loop) opens its own.
    """

    def __init__(self, path: Path | str, *, create: bool = True) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            if not create and not self.path.exists():
                raise StoreError(f"{self.path}: no database here (run a poll or `talkwatch init`)")
            if self.path.is_dir():
                raise StoreError(f"{self.path}: is a directory, expected a database file")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{self.path.parent}: cannot create directory: {exc}") from exc
        try:
            # check_same_thread=False: the poller hands the connection to its one store thread;
            # a Store is still never used by two threads at once.
            conn = sqlite3.connect(
                str(path),
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.row_factory = sqlite3.Row
            conn.create_function("tw_contains", 2, _contains, deterministic=True)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open database: {exc}") from exc
        self.conn = conn
        self._db: sqlite_utils.Database | None = None
        self._savepoints = 0
        self._migrate()

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        try:
            version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a talkwatch database: {exc}") from exc
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: database schema v{version} is newer than this talkwatch "
                f"(v{SCHEMA_VERSION}); upgrade talkwatch"
            )
        if version == 0 and self._has_foreign_tables():
            raise StoreError(f"{self.path}: not a talkwatch database (it has other tables)")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                # Someone else may have migrated while we waited for the lock.
                current = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
                if current >= target:
                    self.conn.execute("COMMIT")
                    continue
                for statement in _split_sql(MIGRATIONS[target - 1]):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {target}")
                self.conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise StoreError(f"{self.path}: cannot migrate to schema v{target}: {exc}") from exc

    @property
    def db(self) -> sqlite_utils.Database:
        """The connection as a sqlite-utils database, for introspection and maintenance.

        Made on first use: importing sqlite-utils costs about 45 ms, a tenth of a poll in which
        every feed answers 304, and the hot paths below need only plain statements.
        """
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def _has_foreign_tables(self) -> bool:
        return bool(self.db.table_names())

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction; nested inside another one it is a savepoint.

        The outer level takes the write lock up front (``BEGIN IMMEDIATE``): a deferred
        transaction that reads and then writes can fail at once with SQLITE_BUSY when another
        connection wrote in between, without waiting for the busy timeout.
        """
        if self.conn.in_transaction:
            self._savepoints += 1
            name = f"tw_{self._savepoints}"
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                if self.conn.in_transaction:  # an error may have ended the whole transaction
                    self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    self.conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            self.conn.execute(f"RELEASE SAVEPOINT {name}")
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def data_version(self) -> int:
        """A number that changes when another connection commits (cheap; poll it)."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    # -- sources ------------------------------------------------------------------------------

    def add_source(
        self,
        url: str,
        *,
        name: str,
        kind: str = "rss",
        interval: float | None = None,
        tier: str = "",
        options: Mapping[str, Any] | None = None,
        now: datetime,
    ) -> Source:
        """Add a source, due at once.

        Raises:
            StoreError: a source with this name or URL already exists.
        """
        clash = self.conn.execute(
            "SELECT name, url FROM sources WHERE name = ? OR url = ?", (name, url)
        ).fetchone()
        if clash:
            what = f"name {name!r}" if clash[0] == name else f"URL {url}"
            raise StoreError(f"a source with this {what} already exists ({clash[0]})")
        cursor = self.conn.execute(
            "INSERT INTO sources (name, url, kind, interval, tier, options, added_at, next_due)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                url,
                kind,
                interval,
                tier,
                json.dumps(dict(options or {})),
                format_time(now),
                format_time(now),
            ),
        )
        source = self.get_source(int(cursor.lastrowid or 0))
        assert source is not None
        return source

    def get_source(self, key: int | str) -> Source | None:
        """A source by id, name or URL."""
        if isinstance(key, int):
            row = self.conn.execute("SELECT * FROM sources WHERE id = ?", (key,)).fetchone()
        else:
            row = self.conn.execute(
                "SELECT * FROM sources WHERE name = ? OR url = ? ORDER BY name = ? DESC",
                (key, key, key),
            ).fetchone()
        return _source(row) if row else None

    def get_sources(self) -> list[Source]:
        """Every source, by name."""
        cursor = self.conn.execute("SELECT * FROM sources ORDER BY name COLLATE NOCASE")
        return [_source(row) for row in cursor.fetchall()]

    def get_due_sources(self, now: datetime) -> list[Source]:
        """Sources whose next poll is due (retired ones never are), most overdue first."""
        cursor = self.conn.execute(
            "SELECT * FROM sources WHERE retired_at IS NULL AND (next_due IS NULL OR next_due <= ?)"
            " ORDER BY next_due",
            (format_time(now),),
        )
        return [_source(row) for row in cursor.fetchall()]

    def next_due_time(self) -> datetime | None:
        """When the next active source falls due."""
        row = self.conn.execute(
            "SELECT min(next_due) FROM sources WHERE retired_at IS NULL"
        ).fetchone()
        return parse_time(row[0]) if row and row[0] else None

    def remove_source(self, key: str) -> tuple[Source, int]:
        """Remove a source with its items; returns it and how many items went with it."""
        source = self.get_source(key)
        if source is None:
            raise StoreError(f"no source named {key!r} (see `talkwatch sources list`)")
        with self.transaction():
            count = self.conn.execute(
                "SELECT count(*) FROM items WHERE source_id = ?", (source.id,)
            ).fetchone()[0]
            self.conn.execute("DELETE FROM sources WHERE id = ?", (source.id,))
        return source, int(count)

    def update_source(self, source_id: int, **fields: Any) -> None:
        """Change plain columns of a source (name, url, interval, kind, tier, retired...)."""
        allowed = {
            "name",
            "url",
            "kind",
            "interval",
            "tier",
            "next_due",
            "retired_at",
            "retired_reason",
            "failures",
        }
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"cannot update source columns {sorted(bad)}")
        values = {k: format_time(v) if isinstance(v, datetime) else v for k, v in fields.items()}
        assignments = ", ".join(f"{name} = ?" for name in values)
        try:
            self.conn.execute(
                f"UPDATE sources SET {assignments} WHERE id = ?", (*values.values(), source_id)
            )
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"cannot update source: {exc}") from exc

    def record_fetch(self, source: Source, record: FetchRecord) -> None:
        """Store a poll's outcome: health, validators, schedule and a fetch-log row."""
        etag, last_modified = record.etag, record.last_modified
        if record.keep_validators and not record.ok:
            etag, last_modified = source.etag, source.last_modified
        failures = 0 if record.ok else source.failures + 1
        with self.transaction():
            self.conn.execute(
                "UPDATE sources SET etag = ?, last_modified = ?, min_interval = ?,"
                " last_poll_at = ?, last_ok_at = coalesce(?, last_ok_at), last_status = ?,"
                " last_error = ?, failures = ?, next_due = ?, last_new = ?,"
                " retired_at = coalesce(?, retired_at),"
                " retired_reason = coalesce(?, retired_reason)"
                " WHERE id = ?",
                (
                    etag,
                    last_modified,
                    record.min_interval,
                    format_time(record.at),
                    format_time(record.at) if record.ok else None,
                    record.status,
                    record.error,
                    failures,
                    format_time(record.next_due),
                    record.new,
                    format_time(record.at) if record.retire else None,
                    record.retire,
                    source.id,
                ),
            )
            if record.moved_to and record.moved_to != source.url:
                taken = self.conn.execute(
                    "SELECT 1 FROM sources WHERE url = ? AND id != ?", (record.moved_to, source.id)
                ).fetchone()
                if not taken:
                    self.conn.execute(
                        "UPDATE sources SET url = ? WHERE id = ?", (record.moved_to, source.id)
                    )
            self.conn.execute(
                "INSERT INTO fetch_log (source_id, at, status, error, elapsed, new, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    source.id,
                    format_time(record.at),
                    record.status,
                    record.error,
                    round(record.elapsed, 4),
                    record.new,
                    record.updated,
                ),
            )

    def get_fetch_log(self, source_id: int, limit: int = 20) -> list[dict[str, Any]]:
        """The latest fetch-log rows of one source, newest first."""
        cursor = self.conn.execute(
            "SELECT at, status, error, elapsed, new, updated FROM fetch_log"
            " WHERE source_id = ? ORDER BY id DESC LIMIT ?",
            (source_id, limit),
        )
        return [dict(row) for row in cursor.fetchall()]

    # -- items --------------------------------------------------------------------------------

    def add_entries(self, source_id: int, entries: Sequence[Entry], now: datetime) -> StoreResult:
        """Write one source's entries in one short transaction.

        New entries are inserted; a known entry (same source and guid) whose title or summary
        changed keeps the old text as a revision and is marked updated. Entries repeated within
        one batch count once (the first wins, as feeds list newest first).
        """
        if not entries:
            return StoreResult()
        unique: dict[str, Entry] = {}
        for entry in entries:
            unique.setdefault(entry.guid, entry)
        stamp = format_time(now)
        new_entries: list[Entry] = []
        updated = unchanged = 0
        with self.transaction():
            existing = self._existing(source_id, list(unique))
            for guid, entry in unique.items():
                known = existing.get(guid)
                if known is None:
                    new_entries.append(entry)
                elif known[1] != entry.title or known[2] != entry.summary:
                    self._revise(known, entry, stamp)
                    updated += 1
                else:
                    unchanged += 1
            if new_entries:
                self._insert(source_id, new_entries, now, stamp)
        return StoreResult(new=len(new_entries), updated=updated, unchanged=unchanged)

    def _revise(self, known: tuple[int, str, str], entry: Entry, stamp: str) -> None:
        self.conn.execute(
            "INSERT INTO item_revisions (item_id, title, summary, replaced_at) VALUES (?, ?, ?, ?)",
            (known[0], known[1], known[2], stamp),
        )
        self.conn.execute(
            "UPDATE items SET title = ?, summary = ?, updated_at = ?,"
            " revisions = revisions + 1, link = ?, title_key = ?,"
            " tags = ?, people = ?, matches = ?, related = ?, score = ? WHERE id = ?",
            (
                entry.title,
                entry.summary,
                stamp,
                entry.link or entry.url,
                entry.title_key or title_key(entry.title),
                *tag_columns(entry.tagging),
                known[0],
            ),
        )

    def _insert(self, source_id: int, entries: Sequence[Entry], now: datetime, stamp: str) -> None:
        """Insert new entries with their story ids, then index them for search in bulk."""
        latest = now + FUTURE_TOLERANCE
        keys = [entry.title_key or title_key(entry.title) for entry in entries]
        when = [
            e.published if e.published is not None and e.published <= latest else now
            for e in entries
        ]
        by_url = self._stories_by_url({e.url for e in entries if e.url})
        by_title = self._stories_by_title({k for k in keys if len(k) >= MIN_TITLE_KEY})
        rows: list[tuple[Any, ...]] = []
        for entry, key, published in zip(entries, keys, when, strict=True):
            published_text = format_time(published)
            story = by_url.get(entry.url) if entry.url else None
            if story is None and key in by_title:
                story = _nearest_story(by_title[key], published)
            if story is None:
                basis = f"url:{entry.url}" if entry.url else f"title:{key or entry.guid}"
                story = hashlib.sha1(basis.encode("utf-8")).hexdigest()[:16]
            # Later entries of this batch group with earlier ones, as stored ones do.
            if entry.url:
                by_url.setdefault(entry.url, story)
            if len(key) >= MIN_TITLE_KEY:
                by_title.setdefault(key, []).append((published_text, story))
            rows.append(
                (
                    source_id,
                    entry.guid,
                    entry.title,
                    entry.summary,
                    entry.url,
                    entry.link or entry.url,
                    published_text,
                    format_time(entry.published) if entry.published is not None else None,
                    stamp,
                    story,
                    key,
                    *tag_columns(entry.tagging),
                )
            )
        before = self.conn.execute("SELECT coalesce(max(id), 0) FROM items").fetchone()[0]
        self.conn.executemany(
            "INSERT INTO items (source_id, guid, title, summary, url, link, published,"
            " published_orig, first_seen, story_id, title_key,"
            " tags, people, matches, related, score)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        # One bulk statement instead of a per-row trigger: about 3x faster for FTS5.
        self.conn.execute(
            "INSERT INTO items_fts (rowid, title, summary)"
            " SELECT id, title, summary FROM items WHERE id > ?",
            (before,),
        )

    def _stories_by_url(self, urls: set[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(urls)):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT url, story_id FROM items WHERE url != '' AND url IN ({marks})", chunk
            ):
                found.setdefault(row[0], row[1])
        return found

    def _stories_by_title(self, keys: set[str]) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {}
        for chunk in _chunks(sorted(keys)):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT title_key, published, story_id FROM items WHERE title_key IN ({marks})",
                chunk,
            ):
                found.setdefault(row[0], []).append((row[1], row[2]))
        return found

    def _existing(self, source_id: int, guids: list[str]) -> dict[str, tuple[int, str, str]]:
        found: dict[str, tuple[int, str, str]] = {}
        for chunk in _chunks(guids):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                "SELECT id, guid, title, summary FROM items"
                f" WHERE source_id = ? AND guid IN ({marks})",
                (source_id, *chunk),
            ):
                found[row[1]] = (row[0], row[2], row[3])
        return found

    def get_items(
        self,
        *,
        keyword: str | None = None,
        related_only: bool = False,
        limit: int | None = 100,
        since: datetime | None = None,
        until: datetime | None = None,
        source_id: int | None = None,
        tag: str | None = None,
    ) -> list[StoredItem]:
        """Items newest first, optionally narrowed by a plain keyword match.

        Every whitespace-separated word must occur in the title or summary (case-insensitive,
        prefix match for Latin words, substring match for other scripts). ``tag`` keeps the
        items carrying that tag (``person:greer``).
        """
        where: list[str] = []
        params: list[Any] = []
        if related_only:
            where.append("i.related = 1")
        if since is not None:
            where.append("i.published >= ?")
            params.append(format_time(since))
        if until is not None:
            where.append("i.published < ?")
            params.append(format_time(until))
        if source_id is not None:
            where.append("i.source_id = ?")
            params.append(source_id)
        if tag is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(i.tags) WHERE value = ?)")
            params.append(tag)
        fts_terms, like_terms = _keyword_terms(keyword or "")
        if fts_terms:
            where.append("i.id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)")
            params.append(" AND ".join(fts_terms))
        for term in like_terms:
            # Python's casefold, not LIKE, which folds ASCII letters only (Ölpreis, Китай).
            where.append("(tw_contains(i.title, ?) OR tw_contains(i.summary, ?))")
            params.extend([term.casefold(), term.casefold()])
        sql = (
            "SELECT i.*, s.name AS source_name,"
            " (SELECT count(DISTINCT source_id) FROM items j WHERE j.story_id = i.story_id)"
            " AS story_sources"
            " FROM items i JOIN sources s ON s.id = i.source_id"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY i.published DESC, i.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        cursor = self.conn.execute(sql, params)
        return [_item(row) for row in cursor.fetchall()]

    def iter_items(self, batch: int = 1000) -> Iterator[StoredItem]:
        """Every item in id order, read in batches (for retagging and export)."""
        last = 0
        while True:
            cursor = self.conn.execute(
                "SELECT i.*, s.name AS source_name, 1 AS story_sources FROM items i"
                " JOIN sources s ON s.id = i.source_id WHERE i.id > ? ORDER BY i.id LIMIT ?",
                (last, batch),
            )
            rows = cursor.fetchall()
            if not rows:
                return
            for row in rows:
                item = _item(row)
                last = item.id
                yield item

    def get_revisions(self, item_id: int) -> list[tuple[str, str, datetime]]:
        """Earlier (title, summary, replaced_at) of an item, oldest first."""
        rows = self.conn.execute(
            "SELECT title, summary, replaced_at FROM item_revisions WHERE item_id = ? ORDER BY id",
            (item_id,),
        ).fetchall()
        return [(r[0], r[1], parse_time(r[2]) or datetime.min.replace(tzinfo=UTC)) for r in rows]

    def count_items(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM items").fetchone()[0])

    def set_tags(self, rows: Iterable[tuple[int, Tagging | TagColumns]]) -> int:
        """Store tags computed elsewhere (``talkwatch retag``), in one transaction.

        Args:
            rows: (item id, tagging), the tagging as a record or already in its stored form
                (see :func:`tag_columns`; worker processes send that, it is cheaper to pass).

        Returns:
            How many items changed.
        """
        data = [(*(t if isinstance(t, tuple) else tag_columns(t)), item_id) for item_id, t in rows]
        with self.transaction():
            before = self.conn.total_changes
            self.conn.executemany(
                "UPDATE items SET tags = ?1, people = ?2, matches = ?3, related = ?4, score = ?5"
                " WHERE id = ?6 AND (tags, people, matches, related, score)"
                " IS NOT (?1, ?2, ?3, ?4, ?5)",
                data,
            )
            return self.conn.total_changes - before

    def iter_texts(self, batch: int = 5000) -> Iterator[list[tuple[int, str, str]]]:
        """Every item's (id, title, summary), in batches, for retagging."""
        last = 0
        while True:
            rows = self.conn.execute(
                "SELECT id, title, summary FROM items WHERE id > ? ORDER BY id LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [(r[0], r[1], r[2]) for r in rows]

    # -- pollers ------------------------------------------------------------------------------

    def beat(self, now: datetime, started_at: datetime, pid: int | None = None) -> None:
        """Write this poller's heartbeat."""
        self.conn.execute(
            "INSERT INTO pollers (host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (host, pid) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            (socket.gethostname(), pid or os.getpid(), format_time(started_at), format_time(now)),
        )

    def end_beat(self, pid: int | None = None) -> None:
        """Remove this poller's heartbeat (it stopped cleanly)."""
        self.conn.execute(
            "DELETE FROM pollers WHERE host = ? AND pid = ?",
            (socket.gethostname(), pid or os.getpid()),
        )

    def get_pollers(self) -> list[PollerInfo]:
        """Pollers that wrote a heartbeat, newest beat first."""
        rows = self.conn.execute(
            "SELECT host, pid, started_at, heartbeat_at FROM pollers ORDER BY heartbeat_at DESC"
        ).fetchall()
        return [
            PollerInfo(
                host=r[0],
                pid=r[1],
                started_at=parse_time(r[2]) or datetime.min.replace(tzinfo=UTC),
                heartbeat_at=parse_time(r[3]) or datetime.min.replace(tzinfo=UTC),
            )
            for r in rows
        ]

    # -- dashboard queries --------------------------------------------------------------------

    def max_item_id(self) -> int:
        """The newest item's id (0 when empty): the dashboard's mark for "arrived since"."""
        return int(self.conn.execute("SELECT coalesce(max(id), 0) FROM items").fetchone()[0])

    def get_mentions(
        self,
        since: datetime,
        *,
        until: datetime | None = None,
        prefix: str = "person:",
        related_only: bool = False,
        limit: int = 50_000,
    ) -> list[tuple[str, datetime]]:
        """(tag, published) for every tag starting with ``prefix`` on items in a period.

        One row per item and tag, oldest first: the roster counts mentions per day and per hour
        from these. Bounded by the period (``items_published``) and by ``limit``.
        """
        where = ["i.published >= ?"]
        params: list[Any] = [format_time(since)]
        if until is not None:
            where.append("i.published < ?")
            params.append(format_time(until))
        if related_only:
            where.append("i.related = 1")
        params += [prefix, prefix, limit]
        rows = self.conn.execute(
            "SELECT t.value, i.published FROM items i, json_each(i.tags) t"
            f" WHERE {' AND '.join(where)} AND substr(t.value, 1, length(?)) = ?"
            " ORDER BY i.published, i.id LIMIT ?",
            params,
        ).fetchall()
        epoch = datetime.min.replace(tzinfo=UTC)
        return [(r[0], parse_time(r[1]) or epoch) for r in rows]

    def count_items_since(self, since: datetime, until: datetime | None = None) -> ItemTotals:
        """How many items were published in a period: all, related, related with an alert."""
        sql = (
            "SELECT count(*), coalesce(sum(related), 0),"
            " coalesce(sum(related AND EXISTS (SELECT 1 FROM json_each(i.tags)"
            " WHERE substr(value, 1, 6) = 'alert:')), 0)"
            " FROM items i WHERE published >= ?"
        )
        params: list[Any] = [format_time(since)]
        if until is not None:
            sql += " AND published < ?"
            params.append(format_time(until))
        row = self.conn.execute(sql, params).fetchone()
        return ItemTotals(items=int(row[0]), related=int(row[1]), alerts=int(row[2]))

    def get_new_alerts(self, after_id: int, limit: int = 20) -> list[StoredItem]:
        """Related items with an alert tag stored after item ``after_id``, oldest first."""
        rows = self.conn.execute(
            "SELECT i.*, s.name AS source_name,"
            " (SELECT count(DISTINCT source_id) FROM items j WHERE j.story_id = i.story_id)"
            " AS story_sources"
            " FROM items i JOIN sources s ON s.id = i.source_id"
            " WHERE i.id > ? AND i.related = 1"
            " AND EXISTS (SELECT 1 FROM json_each(i.tags) WHERE substr(value, 1, 6) = 'alert:')"
            " ORDER BY i.id LIMIT ?",
            (after_id, limit),
        ).fetchall()
        return [_item(row) for row in rows]


TagColumns = tuple[str, str, str, int, float]
_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def tag_columns(tagging: Tagging | None) -> TagColumns:
    """The stored form of a tagging: JSON lists and map, a 0/1 flag and the score."""
    if tagging is None:
        return ("[]", "[]", "{}", 0, 0.0)
    return (
        _to_json(tagging.tags),
        _to_json(tagging.people),
        _to_json(tagging.matches),
        int(tagging.related),
        tagging.score,
    )


def _chunks(values: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    """Slices small enough for SQLite's bound-parameter limit."""
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _nearest_story(candidates: Sequence[tuple[str, str]], when: datetime) -> str | None:
    """The story of a same-titled item published within the window, if any.

    Stored times compare as text (fixed-width ISO 8601 in UTC sorts in time order).
    """
    low, high = format_time(when - STORY_WINDOW), format_time(when + STORY_WINDOW)
    for published, story in candidates:
        if low <= published <= high:
            return story
    return None


def _contains(text: str | None, needle: str | None) -> bool:
    """Case-insensitive substring test for any script (``needle`` arrives casefolded)."""
    if not text or not needle:
        return False
    return needle in text.casefold()


def _split_sql(script: str) -> list[str]:
    """Split a schema script into statements, keeping trigger bodies whole."""
    statements: list[str] = []
    buffer = ""
    for line in script.strip().splitlines():
        buffer += line + "\n"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def _keyword_terms(keyword: str) -> tuple[list[str], list[str]]:
    """Split a plain keyword query into FTS5 prefix terms and LIKE substrings."""
    fts: list[str] = []
    like: list[str] = []
    for word in keyword.split():
        if word.isascii() and any(ch.isalnum() for ch in word):
            tokens = ["".join(ch if ch.isalnum() else " " for ch in word).split()]
            for token in tokens[0]:
                fts.append(f'"{token}"*')
        elif word.strip():
            like.append(word)
    return fts, like


def _source(row: Mapping[str, Any]) -> Source:
    return Source(
        id=row["id"],
        name=row["name"],
        url=row["url"],
        kind=row["kind"],
        interval=row["interval"],
        tier=row["tier"],
        options=json.loads(row["options"] or "{}"),
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_poll_at=parse_time(row["last_poll_at"]),
        last_ok_at=parse_time(row["last_ok_at"]),
        last_status=row["last_status"],
        last_error=row["last_error"],
        failures=row["failures"],
        next_due=parse_time(row["next_due"]),
        retired_at=parse_time(row["retired_at"]),
        retired_reason=row["retired_reason"],
        last_new=row["last_new"],
        min_interval=row["min_interval"],
    )


def _item(row: Mapping[str, Any]) -> StoredItem:
    epoch = datetime.min.replace(tzinfo=UTC)
    return StoredItem(
        id=row["id"],
        source=row["source_name"],
        source_id=row["source_id"],
        guid=row["guid"],
        title=row["title"],
        summary=row["summary"],
        url=row["url"],
        link=row["link"],
        published=parse_time(row["published"]) or epoch,
        published_orig=parse_time(row["published_orig"]),
        first_seen=parse_time(row["first_seen"]) or epoch,
        updated_at=parse_time(row["updated_at"]),
        story_id=row["story_id"],
        story_sources=row["story_sources"],
        revisions=row["revisions"],
        tags=tuple(json.loads(row["tags"])),
        people=tuple(json.loads(row["people"])),
        related=bool(row["related"]),
        score=float(row["score"]),
        matches={k: tuple(v) for k, v in json.loads(row["matches"] or "{}").items()},
    )
