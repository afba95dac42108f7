"""The resume manifest: which media items are done, with which content and how many records.

It also keeps the ids of each item's records (those of its last complete version, and those a
write in progress has stored so far), so the host can replace a changed item's records only once
its new ones are all stored, and take a failed write back out, with a sink that can only delete
by media id; and which model and dimension the store holds, for sinks that cannot say.

It lives beside the sink's data and is never trusted alone: an item counts as done only while the
sink still holds exactly the records the manifest says it wrote, so deleting the output file makes
the next run redo everything instead of claiming records that are gone. It is also the catalogue
`vtembed prune` reads, since a sink can count and delete an item's records but not list items: each
row keeps the item's URI and `origin`, the locator that found it (a feed's episodes have URIs that
say nothing of the feed). Files written before `origin` existed gain the column when opened.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vtembed.errors import UsageError
from vtembed.models import MediaItem
from vtembed.sink import Sink

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    media_id    TEXT NOT NULL,
    model_name  TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    uri         TEXT NOT NULL,
    status      TEXT NOT NULL,
    records     INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    updated_at  REAL NOT NULL,
    origin      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (media_id, model_name)
)
"""
_IDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS record_ids (
    model_name TEXT NOT NULL,
    media_id   TEXT NOT NULL,
    version    TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    PRIMARY KEY (model_name, media_id, version, record_id)
)
"""
"""`version` is "done" (the item's last complete records) or "new" (a write in progress)."""
_MODEL_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_model (
    model_name TEXT NOT NULL,
    dim        INTEGER NOT NULL
)
"""
_COLUMNS = "media_id, model_name, fingerprint, uri, status, records, error, updated_at, origin"


@dataclass(frozen=True)
class ManifestRow:
    """One item the manifest knows, as `prune` needs it."""

    media_id: str
    uri: str
    origin: str
    status: str
    records: int

    @property
    def label(self) -> str:
        return MediaItem(self.media_id, self.uri, "", "").label


class Manifest:
    def __init__(self, path: Path | None, model_name: str, *, writable: bool = True) -> None:
        """`writable=False` (a dry run) reads the manifest and records nothing, and a path of
        None or one that does not exist is an empty manifest: neither creates a file."""
        self.path = path
        self.model_name = model_name
        self.writable = writable
        if writable and path is None:
            raise ValueError("a writable run state needs a path")
        try:
            self.db = _read_write(path) if path is not None and writable else _read_only(path)
        except sqlite3.DatabaseError as exc:
            raise UsageError(
                f"resume state {path} cannot be read ({exc}): move it away and run again "
                "(every item is then redone, and its records replaced, not doubled)"
            ) from None

    def is_done(self, item: MediaItem, sink: Sink) -> bool:
        """Also remembers which locator found a known item now (rows from before `origin`
        existed, a feed that moved), since an item that is done is never written again."""
        row = self.db.execute(
            "SELECT fingerprint, status, records, origin FROM items"
            " WHERE media_id=? AND model_name=?",
            (item.id, self.model_name),
        ).fetchone()
        if row is None:
            return False
        if item.origin and row[3] != item.origin and self.writable:
            self.db.execute(
                "UPDATE items SET origin=? WHERE media_id=? AND model_name=?",
                (item.origin, item.id, self.model_name),
            )
        if row[1] != "done" or row[0] != item.fingerprint:
            return False
        return sink.count(item.id) == row[2]

    def rows(self) -> list[ManifestRow]:
        """Every item recorded for this model (done, failed, or being written), by URI."""
        found = self.db.execute(
            "SELECT media_id, uri, origin, status, records FROM items WHERE model_name=?"
            " ORDER BY uri, media_id",
            (self.model_name,),
        )
        return [ManifestRow(*row) for row in found]

    def forget(self, media_id: str) -> None:
        with _transaction(self.db):
            self.db.execute(
                "DELETE FROM items WHERE media_id=? AND model_name=?", (media_id, self.model_name)
            )
            self._delete_ids(media_id, None)

    def mark_writing(self, item: MediaItem) -> None:
        """Recorded before an item's records go to the sink: a run killed during the write
        leaves a row that is not done (so resume redoes the item) and by which prune finds
        those records, since a sink cannot list the items it holds."""
        self._put(item, "writing", 0, None)

    def mark_done(self, item: MediaItem, records: int) -> None:
        self._put(item, "done", records, None)

    def mark_failed(self, item: MediaItem, error: str) -> None:
        self._put(item, "failed", 0, error)

    def _put(self, item: MediaItem, status: str, records: int, error: str | None) -> None:
        if not self.writable:
            return
        self.db.execute(
            f"INSERT OR REPLACE INTO items ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item.id,
                self.model_name,
                item.fingerprint,
                item.uri,
                status,
                records,
                error,
                time.time(),
                item.origin,
            ),
        )

    def status(self, media_id: str) -> tuple[str, int] | None:
        """The item's row as (status, records), None when the manifest has no row for it."""
        row = self.db.execute(
            "SELECT status, records FROM items WHERE media_id=? AND model_name=?",
            (media_id, self.model_name),
        ).fetchone()
        return None if row is None else (str(row[0]), int(row[1]))

    def held_model(self) -> tuple[str, int] | None:
        """The model and dimension the store was last written with, if the manifest knows."""
        row = self.db.execute("SELECT model_name, dim FROM store_model").fetchone()
        return None if row is None else (str(row[0]), int(row[1]))

    def hold_model(self, model_name: str, dim: int) -> None:
        if not self.writable:
            return
        with _transaction(self.db):
            self.db.execute("DELETE FROM store_model")
            self.db.execute("INSERT INTO store_model VALUES (?, ?)", (model_name, dim))

    def other_models(self) -> list[str]:
        """Models other than this one that rows of the manifest name."""
        found = self.db.execute(
            "SELECT DISTINCT model_name FROM items WHERE model_name<>? ORDER BY model_name",
            (self.model_name,),
        )
        return [row[0] for row in found]

    def media_ids(self) -> list[str]:
        """Every item the manifest has a row for, of any model."""
        return [row[0] for row in self.db.execute("SELECT DISTINCT media_id FROM items")]

    def ids(self, media_id: str, version: str) -> list[str]:
        found = self.db.execute(
            "SELECT record_id FROM record_ids WHERE model_name=? AND media_id=? AND version=?",
            (self.model_name, media_id, version),
        )
        return [row[0] for row in found]

    def add_new_ids(self, media_id: str, record_ids: list[str]) -> None:
        """Recorded once the sink has stored them, before the next batch goes."""
        if not self.writable or not record_ids:
            return
        with _transaction(self.db):
            self.db.executemany(
                "INSERT OR IGNORE INTO record_ids VALUES (?, ?, 'new', ?)",
                [(self.model_name, media_id, record_id) for record_id in record_ids],
            )

    def drop_new_ids(self, media_id: str) -> None:
        if self.writable:
            self._delete_ids(media_id, "new")

    def promote_new_ids(self, media_id: str) -> None:
        """The write is complete: its ids become the item's complete version."""
        if not self.writable:
            return
        with _transaction(self.db):
            self._delete_ids(media_id, "done")
            self.db.execute(
                "UPDATE record_ids SET version='done'"
                " WHERE model_name=? AND media_id=? AND version='new'",
                (self.model_name, media_id),
            )

    def _delete_ids(self, media_id: str, version: str | None) -> None:
        if version is None:
            self.db.execute(
                "DELETE FROM record_ids WHERE model_name=? AND media_id=?",
                (self.model_name, media_id),
            )
        else:
            self.db.execute(
                "DELETE FROM record_ids WHERE model_name=? AND media_id=? AND version=?",
                (self.model_name, media_id, version),
            )

    def close(self) -> None:
        self.db.close()


def stored_items(path: Path) -> list[tuple[ManifestRow, str]]:
    """Every item of the model a store holds, with the fingerprint of the version it holds,
    read-only: the catalogue commands that read a store made earlier go by (`reembed`,
    `transcript`). Empty for a store that holds no records yet."""
    probe = Manifest(path, "", writable=False)
    try:
        held = probe.held_model()
        if held is None:
            return []
        found = probe.db.execute(
            "SELECT media_id, uri, origin, status, records, fingerprint FROM items"
            " WHERE model_name=? ORDER BY uri, media_id",
            (held[0],),
        ).fetchall()
    finally:
        probe.close()
    return [(ManifestRow(*row[:5]), str(row[5])) for row in found]


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One transaction (one fsync) for several statements: the connection autocommits each."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _read_write(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    for schema in (_SCHEMA, _IDS_SCHEMA, _MODEL_SCHEMA):
        db.execute(schema)
    _add_origin_column(db)
    return db


def _add_origin_column(db: sqlite3.Connection) -> None:
    columns = {row[1] for row in db.execute("PRAGMA table_info(items)")}
    if "origin" in columns:
        return
    try:
        db.execute("ALTER TABLE items ADD COLUMN origin TEXT NOT NULL DEFAULT ''")
    except sqlite3.OperationalError as exc:  # another process added it a moment ago
        if "duplicate column" not in str(exc):
            raise


def _read_only(path: Path | None) -> sqlite3.Connection:
    """The manifest as it is on disk, or an empty one in memory; files from before `origin`
    existed are read with an empty origin, since a read-only file cannot gain the column."""
    if path is None or not path.is_file():
        db = sqlite3.connect(":memory:", isolation_level=None)
        for schema in (_SCHEMA, _IDS_SCHEMA, _MODEL_SCHEMA):
            db.execute(schema)
        return db
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    columns = {row[1] for row in db.execute("PRAGMA table_info(items)")}
    if not columns:  # an empty file: a real run would make the table in it
        db.execute(_SCHEMA.replace("CREATE TABLE", "CREATE TEMP TABLE"))
    elif "origin" not in columns:
        db.execute("CREATE TEMP VIEW items AS SELECT *, '' AS origin FROM main.items")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    for name, schema in (("record_ids", _IDS_SCHEMA), ("store_model", _MODEL_SCHEMA)):
        if name not in tables:  # a file from before they existed
            db.execute(schema.replace("CREATE TABLE", "CREATE TEMP TABLE"))
    return db
