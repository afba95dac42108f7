"""An example third-party plugin: one file plus one entry point.

It adds a `csv:PATH` sink (a spreadsheet-friendly index of what was said when, without vectors)
and a `vtembed csv-count PATH` command.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import typer

from vtembed import hookimpl
from vtembed.models import EmbeddingRecord
from vtembed.sink import Sink

__version__ = "0.1.0"
FIELDS = ["id", "media_id", "uri", "modality", "start_sec", "end_sec", "text"]


class CsvSink(Sink):
    """Rows in a CSV file; a small SQLite index of ids makes a rewrite of a record a no-op.

    Storage only: the host takes the lock, keeps the resume manifest beside the file (it asks
    `local_path`), refuses to mix models, and never gives one id twice in a batch. It stores no
    vectors, so it cannot search or say which model it holds; it declares that it lists its
    media (`media_counts`, read from the file), and `vtembed prune` finds the model in the
    resume manifest.
    """

    scheme = "csv"
    capabilities = frozenset({"media_counts"})

    def __init__(self, target: str, *, model_name: str, dim: int, settings=None) -> None:
        super().__init__(target, model_name=model_name, dim=dim, settings=settings)
        self.path = Path(target)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.index = sqlite3.connect(self.path.with_suffix(".index.sqlite"), isolation_level=None)
        self.index.execute("CREATE TABLE IF NOT EXISTS ids (id TEXT PRIMARY KEY, media_id TEXT)")

    @classmethod
    def media_counts(cls, target: str, settings=None) -> dict[str, int]:
        path = Path(target)
        counts: dict[str, int] = {}
        if path.exists():
            for row in csv.reader(path.open(encoding="utf-8")):
                counts[row[1]] = counts.get(row[1], 0) + 1
        return counts

    @classmethod
    def local_path(cls, target: str, settings=None) -> Path:
        return Path(target)

    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        new = [r for r in records if not self._has(r.id)]
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            for r in new:
                writer.writerow(
                    [
                        r.id,
                        r.media["id"],
                        r.media["uri"],
                        r.modality,
                        r.start_sec,
                        r.end_sec,
                        r.text,
                    ]
                )
        self.index.executemany(
            "INSERT INTO ids VALUES (?, ?)", [(r.id, r.media["id"]) for r in new]
        )
        return len(new)

    def delete_media(self, media_id: str, keep: Collection[str] = ()) -> int:
        rows = list(csv.reader(self.path.open(encoding="utf-8"))) if self.path.exists() else []
        kept = [row for row in rows if row[1] != media_id or row[0] in keep]
        with open(self.path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(kept)
        gone = [row[0] for row in rows if row[1] == media_id and row[0] not in keep]
        self.index.executemany("DELETE FROM ids WHERE id = ?", [(i,) for i in gone])
        return len(gone)

    def count(self, media_id: str) -> int:
        query = "SELECT COUNT(*) FROM ids WHERE media_id = ?"
        return int(self.index.execute(query, (media_id,)).fetchone()[0])

    def _has(self, record_id: str) -> bool:
        return (
            self.index.execute("SELECT 1 FROM ids WHERE id = ?", (record_id,)).fetchone()
            is not None
        )


@hookimpl
def vtembed_register_sinks(register: Callable[[type[Sink]], None]) -> None:
    register(CsvSink)


@hookimpl
def vtembed_register_commands(app: typer.Typer) -> None:
    @app.command(name="csv-count")
    def csv_count(path: Path) -> None:
        """Count the rows of a CSV written by the csv sink."""
        rows = list(csv.reader(path.open(encoding="utf-8"))) if path.exists() else []
        typer.echo(f"{len(rows)} rows in {path}")
