"""The resume manifest: which media items are done, with which content and how many records.

It lives beside the sink's data and is never trusted alone: an item counts as done only while the
sink still holds exactly the records the manifest says it wrote, so deleting the output file makes
the next run redo everything instead of claiming records that are gone.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

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
    PRIMARY KEY (media_id, model_name)
)
"""


class RunState:
    def __init__(self, path: Path, model_name: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.model_name = model_name
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(_SCHEMA)

    def is_done(self, item: MediaItem, sink: Sink) -> bool:
        row = self.db.execute(
            "SELECT fingerprint, status, records FROM items WHERE media_id=? AND model_name=?",
            (item.id, self.model_name),
        ).fetchone()
        if row is None or row[1] != "done" or row[0] != item.fingerprint:
            return False
        return sink.count(item.id) == row[2]

    def mark_done(self, item: MediaItem, records: int) -> None:
        self._put(item, "done", records, None)

    def mark_failed(self, item: MediaItem, error: str) -> None:
        self._put(item, "failed", 0, error)

    def _put(self, item: MediaItem, status: str, records: int, error: str | None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item.id,
                self.model_name,
                item.fingerprint,
                item.uri,
                status,
                records,
                error,
                time.time(),
            ),
        )

    def close(self) -> None:
        self.db.close()
