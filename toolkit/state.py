"""The resume manifest: which media items are done, with which content and how many records.

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
_COLUMNS = "media_id, model_name, fingerprint, uri, status, records, error, updated_at, origin"


@dataclass(frozen=True)
class StateRow:
    """One item the manifest knows, as `prune` needs it."""

    media_id: str
    uri: str
    origin: str
    status: str
    records: int

    @property
    def label(self) -> str:
        return MediaItem(self.media_id, self.uri, "", "").label


class RunState:
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

    def rows(self) -> list[StateRow]:
        """Every item recorded for this model (done, failed, or being written), by URI."""
        found = self.db.execute(
            "SELECT media_id, uri, origin, status, records FROM items WHERE model_name=?"
            " ORDER BY uri, media_id",
            (self.model_name,),
        )
        return [StateRow(*row) for row in found]

    def forget(self, media_id: str) -> None:
        self.db.execute(
            "DELETE FROM items WHERE media_id=? AND model_name=?", (media_id, self.model_name)
        )

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

    def close(self) -> None:
        self.db.close()


def _read_write(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(_SCHEMA)
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
        db.execute(_SCHEMA)
        return db
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    columns = {row[1] for row in db.execute("PRAGMA table_info(items)")}
    if not columns:  # an empty file: a real run would make the table in it
        db.execute(_SCHEMA.replace("CREATE TABLE", "CREATE TEMP TABLE"))
    elif "origin" not in columns:
        db.execute("CREATE TEMP VIEW items AS SELECT *, '' AS origin FROM main.items")
    return db
