"""JSONL sink: one record per line, written so that a killed process never leaves a torn line.

Beside `PATH` it keeps `PATH.meta.json` (the model and dimension the file holds); the host keeps
`PATH.state.sqlite` (the resume manifest) and `PATH.lock` (one writer at a time) there too. Each
batch is appended with a single write and fsync; a line cut short by a kill is cut off at the
next open.
Search is an exact scan that takes no lock, so it runs beside a writer (it skips a half-written
last line); full-text search is BM25 over the same scan (`jsonl_text`). A PATH that cannot be such
a file (a folder, one of those three files of another store, a path under a file) is refused by
`check_target` before anything is made.

Lines are written and read with orjson, about fifteen times faster than `json` both ways; the
index built at open, every search and every delete read the whole file. A vector of float32
values (what embedders give) is written with float32's shortest digits, 9 at most where float64's
take 17, which read back to the same float32 values and make lines about 45% shorter; any other
vector keeps float64's digits, so nothing an embedder gave is rounded.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from vtembed import hookimpl
from vtembed.errors import MediaError, UsageError
from vtembed.models import EmbeddingRecord
from vtembed.paths import folder_problem
from vtembed.plugins.sinks.jsonl_text import text_search_file
from vtembed.settings import Settings
from vtembed.sink import Sink, local_store_path

log = logging.getLogger(__name__)

SIDECARS = {".meta.json": "model file", ".state.sqlite": "resume state", ".lock": "lock file"}
"""What the sink keeps beside PATH: `PATH.meta.json`, `PATH.state.sqlite`, `PATH.lock`."""

SEARCH_BLOCK = 4096  # rows scored per numpy block while scanning


class JsonlSink(Sink):
    scheme = "jsonl"
    capabilities = frozenset({"search", "text_search", "stored_model", "media_counts"})

    def __init__(
        self, target: str, *, model_name: str, dim: int, settings: Settings | None = None
    ) -> None:
        super().__init__(target, model_name=model_name, dim=dim, settings=settings)
        self.path = Path(target).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"sink jsonl:{target}: cannot write there ({exc.strerror})") from None
        self._check_model()
        self._repair_tail()
        self.ids: dict[str, set[str]] = defaultdict(set)
        self._load_index()

    @classmethod
    def local_path(cls, target: str, settings: Settings | None = None) -> Path:
        return Path(target).expanduser()

    @classmethod
    def check_target(cls, target: str, settings: Settings | None = None) -> None:
        path = local_store_path(cls.scheme, target, SIDECARS)
        if path.is_dir() or target.endswith("/"):
            named = "is a folder" if path.is_dir() else "names a folder"
            raise UsageError(
                f"sink jsonl:{target}: {path} {named}; "
                f"give a file path such as {path / 'embeddings.jsonl'}"
            )

    @classmethod
    def doctor(cls, target: str, settings: Settings | None = None) -> list[tuple[str, str | None]]:
        what = f"output jsonl:{target}"
        problem = folder_problem(Path(target).expanduser().parent)
        if problem:
            return [(what, f"{problem}; choose another --sink path")]
        return [(f"{what} writable", None)]

    @classmethod
    def stored_model(cls, target: str, settings: Settings | None = None) -> tuple[str, int] | None:
        path = Path(target).expanduser()
        if not path.is_file() or path.stat().st_size == 0:
            return None
        meta = path.with_name(path.name + ".meta.json")
        try:
            if meta.exists():
                held = json.loads(meta.read_text(encoding="utf-8"))
            else:
                with open(path, encoding="utf-8") as f:
                    held = json.loads(f.readline())
            return str(held["model_name"]), int(held["dim"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"sink jsonl:{target}: cannot tell which model it holds ({exc})"
            ) from None

    @classmethod
    def media_counts(cls, target: str, settings: Settings | None = None) -> dict[str, int]:
        """Read beside a writer, as search is: a half-written last line is not counted."""
        path = Path(target).expanduser()
        counts: dict[str, set[str]] = defaultdict(set)
        if path.is_file():
            with open(path, "rb") as f:
                for line in f:
                    if not line.endswith(b"\n"):
                        break
                    record = orjson.loads(line)
                    counts[record["media"]["id"]].add(record["id"])
        return {media_id: len(ids) for media_id, ids in counts.items()}

    @classmethod
    def open_for_search(
        cls, target: str, *, model_name: str, dim: int, settings: Settings | None = None
    ) -> Sink:
        return _JsonlSearchHandle(target, model_name=model_name, dim=dim, settings=settings)

    @property
    def meta_path(self) -> Path:
        return self.path.with_name(self.path.name + ".meta.json")

    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        new: dict[str, EmbeddingRecord] = {}
        for record in records:
            if record.id not in self.ids.get(record.media["id"], ()):
                new.setdefault(record.id, record)
        if not new:
            return 0
        self._append(b"".join(line_of(record) for record in new.values()))
        for record in new.values():  # only once the lines are on disk
            self.ids[record.media["id"]].add(record.id)
        return len(new)

    def delete_media(self, media_id: str, keep: Collection[str] = ()) -> int:
        held = self.ids.get(media_id, set())
        kept = held & set(keep)
        gone = len(held) - len(kept)
        if gone and self.path.exists():
            tmp = self.path.with_name(self.path.name + ".tmp")
            with open(self.path, "rb") as src, open(tmp, "wb") as dst:
                for line in src:
                    if _media_id(line) != media_id or _record_id(line) in kept:
                        dst.write(line)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(tmp, self.path)
        if kept:
            self.ids[media_id] = kept
        else:
            self.ids.pop(media_id, None)
        return gone

    def count(self, media_id: str) -> int:
        return len(self.ids.get(media_id, ()))

    def search(
        self, vector: Sequence[float], k: int, filters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        return search_file(self.path, vector, k, filters)

    def text_search(
        self, query: str, k: int, filters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        wanted = {key: value for key, value in (filters or {}).items() if value is not None}
        return text_search_file(self.path, query, k, lambda record: _matches(record, wanted))

    def close(self) -> None:
        pass

    def _append(self, data: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if not self.meta_path.exists():
            self.meta_path.write_text(json.dumps({"model_name": self.model_name, "dim": self.dim}))

    def _check_model(self) -> None:
        held = self.stored_model(self.target)
        if held is None:
            self.meta_path.unlink(missing_ok=True)  # an empty store holds no model yet
        elif held != (self.model_name, self.dim):
            raise UsageError(
                f"sink jsonl:{self.target} holds {held[0]} ({held[1]} dims), "
                f"not {self.model_name} ({self.dim} dims): choose another output path"
            )

    def _repair_tail(self) -> None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) == b"\n":
                return
            size = f.seek(0, os.SEEK_END)
            keep = max(0, size - 1)
            while keep > 0:
                step = min(65536, keep)
                f.seek(keep - step)
                block = f.read(step)
                newline = block.rfind(b"\n")
                if newline >= 0:
                    keep = keep - step + newline + 1
                    break
                keep -= step
            f.truncate(keep)
            log.warning("%s: dropped an incomplete last line (%d bytes)", self.path, size - keep)

    def _load_index(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            for line in f:
                record = orjson.loads(line)
                self.ids[record["media"]["id"]].add(record["id"])


class _JsonlSearchHandle(JsonlSink):
    """The file opened for search only: no lock (a writer may be appending), no index."""

    def __init__(
        self, target: str, *, model_name: str, dim: int, settings: Settings | None = None
    ) -> None:
        Sink.__init__(self, target, model_name=model_name, dim=dim, settings=settings)
        self.path = Path(target).expanduser()

    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        raise UsageError(f"sink jsonl:{self.target} is open for search only")

    def delete_media(self, media_id: str, keep: Collection[str] = ()) -> int:
        raise UsageError(f"sink jsonl:{self.target} is open for search only")

    def count(self, media_id: str) -> int:
        raise UsageError(f"sink jsonl:{self.target} is open for search only")

    def close(self) -> None:
        pass


def search_file(
    path: Path, vector: Sequence[float], k: int, filters: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Exact cosine search over a JSONL file, streamed in blocks; hits best first."""
    query = np.asarray(vector, dtype=np.float32)
    query_norm = float(np.linalg.norm(query))
    if k <= 0 or query_norm == 0.0 or not path.exists():
        return []
    query /= query_norm
    wanted = {key: value for key, value in (filters or {}).items() if value is not None}
    best_scores = np.empty(0, dtype=np.float32)
    best: list[dict[str, Any]] = []
    rows: list[list[float]] = []
    hits: list[dict[str, Any]] = []

    def merge() -> None:
        nonlocal best_scores, best
        matrix = np.asarray(rows, dtype=np.float32)
        rows.clear()
        if matrix.ndim != 2 or matrix.shape[1] != query.shape[0]:
            raise UsageError(f"{path}: records of another dimension than the query ({len(query)})")
        norms = np.linalg.norm(matrix, axis=1)
        scores = (matrix @ query) / np.where(norms == 0.0, 1.0, norms)
        best_scores = np.concatenate([best_scores, scores])
        best = best + hits
        hits.clear()
        if len(best) > k:
            keep = np.argpartition(-best_scores, k - 1)[:k]
            best_scores, best = best_scores[keep], [best[i] for i in keep]

    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                break  # a writer is appending this line right now
            record = orjson.loads(line)
            if not _matches(record, wanted):
                continue
            rows.append(record.pop("embedding"))
            hits.append(record)
            if len(rows) >= SEARCH_BLOCK:
                merge()
    if rows:
        merge()
    order = np.argsort(-best_scores, kind="stable")
    return [{**best[i], "score": float(best_scores[i])} for i in order]


def _matches(record: dict[str, Any], wanted: dict[str, Any]) -> bool:
    media = record.get("media", {})
    return (
        ("modality" not in wanted or record.get("modality") == wanted["modality"])
        and ("media_id" not in wanted or media.get("id") == wanted["media_id"])
        and ("media_uri" not in wanted or media.get("uri") == wanted["media_uri"])
    )


def line_of(record: EmbeddingRecord) -> bytes:
    """The record as one JSON line; a vector with NaN or infinity is refused (JSON has no
    such numbers, and no search could score it)."""
    data = record.to_json()
    vector = np.asarray(data["embedding"], dtype=np.float64)
    if not np.isfinite(vector).all():
        raise MediaError(f"record {record.id}: its embedding holds NaN or infinity")
    narrow = vector.astype(np.float32)
    if np.array_equal(narrow, vector):
        data["embedding"] = narrow
    return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n"


def _media_id(line: bytes) -> str:
    return orjson.loads(line)["media"]["id"]


def _record_id(line: bytes) -> str:
    return orjson.loads(line)["id"]


@hookimpl
def vtembed_register_sinks(register: Callable[[type[Sink]], None]) -> None:
    register(JsonlSink)
