"""The store on its own: schema versions, foreign files, transactions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from feeds.errors import StoreError
from feeds.models import Entry
from feeds.store import SCHEMA_VERSION, Store
from tests.conftest import NOW


def test_store_new_database_gets_current_schema(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as store:
        version = store.conn.execute("PRAGMA user_version").fetchone()[0]
        mode = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert version == SCHEMA_VERSION
    assert mode == "wal"


def test_store_refuses_database_from_newer_talkwatch(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this talkwatch"):
        Store(path)


def test_store_reopening_keeps_items(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with Store(path) as store:
        source = store.add_source("http://127.0.0.1/x", name="x", now=NOW)
        store.add_entries(source.id, [Entry(guid="1", title="One")], NOW)
    with Store(path) as store:
        assert [i.title for i in store.get_items(limit=None)] == ["One"]


def test_store_failed_job_rolls_back_alone(store: Store) -> None:
    source = store.add_source("http://127.0.0.1/x", name="x", now=NOW)
    with store.transaction():
        store.add_entries(source.id, [Entry(guid="1", title="kept")], NOW)
        with pytest.raises(RuntimeError), store.transaction():
            store.add_entries(source.id, [Entry(guid="2", title="rolled back")], NOW)
            raise RuntimeError("a bug in one job")
    assert [i.title for i in store.get_items(limit=None)] == ["kept"]


def test_store_search_index_follows_revisions(store: Store) -> None:
    source = store.add_source("http://127.0.0.1/x", name="x", now=NOW)
    store.add_entries(source.id, [Entry(guid="1", title="Talks stall over magnets")], NOW)
    store.add_entries(source.id, [Entry(guid="1", title="Talks agree framework")], NOW)
    assert [i.title for i in store.get_items(keyword="framework")] == ["Talks agree framework"]
    assert store.get_items(keyword="magnets") == []


def test_store_removing_source_removes_its_search_entries(store: Store) -> None:
    source = store.add_source("http://127.0.0.1/x", name="x", now=NOW)
    store.add_entries(source.id, [Entry(guid="1", title="Lancaster House talks")], NOW)
    store.remove_source("x")
    assert store.get_items(keyword="Lancaster") == []
    count = store.conn.execute("SELECT count(*) FROM items_fts").fetchone()[0]
    assert count == 0
