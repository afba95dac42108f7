"""An example third-party plugin: one file plus one entry point.

It adds a `csv:PATH` sink (a spreadsheet-friendly index of what was said when, without vectors)
and a `vtembed csv-count PATH` command.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import typer

from vtembed import hookimpl
from vtembed.models import EmbeddingRecord
from vtembed.sink import Sink

__version__ = "0.1.0"
FIELDS = ["id", "media_id", "uri", "modality", "start_sec", "end_sec", "text"]


class CsvSink(Sink):
    """Rows in a CSV file, and nothing else: the file is the only truth.

    The ids it holds are read from the file when it opens (an index in memory), so a run killed
    between writing rows and noting them cannot leave the two disagreeing, and rows a killed
    run left half-written (a torn last line) or twice are dropped at the next open.

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
        if _torn(self.path):  # a kill cut the last row short: it was never complete
            data = self.path.read_bytes()
            self.path.write_bytes(data[: data.rfind(b"\n") + 1])
        rows = _read(self.path)
        self.ids: dict[str, str] = {row[0]: row[1] for row in rows}  # record id -> media id
        if len(rows) != len(self.ids):
            _rewrite(self.path, list({row[0]: row for row in rows}.values()))

    @classmethod
    def media_counts(cls, target: str, settings=None) -> dict[str, int]:
        counts: dict[str, int] = {}
        for media_id in {row[0]: row[1] for row in _read(Path(target))}.values():
            counts[media_id] = counts.get(media_id, 0) + 1
        return counts

    @classmethod
    def local_path(cls, target: str, settings=None) -> Path:
        return Path(target)

    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        new = [r for r in records if r.id not in self.ids]
        rows = [
            [r.id, r.media["id"], r.media["uri"], r.modality, r.start_sec, r.end_sec, r.text]
            for r in new
        ]
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
            f.flush()
            os.fsync(f.fileno())
        self.ids.update((r.id, r.media["id"]) for r in new)
        return len(new)

    def delete_media(self, media_id: str, keep: Collection[str] = ()) -> int:
        rows = _read(self.path)
        kept = [row for row in rows if row[1] != media_id or row[0] in keep]
        _rewrite(self.path, kept)
        self.ids = {row[0]: row[1] for row in kept}
        return len(rows) - len(kept)

    def count(self, media_id: str) -> int:
        return sum(1 for owner in self.ids.values() if owner == media_id)


def _read(path: Path) -> list[list[str]]:
    """The file's complete rows (a row a kill cut short has fewer fields, and is left out)."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return [row for row in csv.reader(f) if len(row) == len(FIELDS)]


def _torn(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) != b"\n"


def _rewrite(path: Path, rows: list[list[str]]) -> None:
    """Replace the file at once (a kill leaves the old one or the new one, never half)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


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
