"""The LanceDB sink's tables: Arrow schemas, the meta table and columnar batches.

This is the half of the sink that needs pyarrow and lancedb. The sink imports it when it opens a
store, so registering the sink (`vtembed plugins`, `vtembed --help`, any other sink's run) loads
neither library.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord
from vtembed.plugins.sinks.flat_record import MEDIA_KEYS, PROVENANCE

META_TABLE = "vtembed_meta"

_META_SCHEMA = pa.schema(
    [("model_name", pa.string()), ("dim", pa.int64()), ("table_name", pa.string())]
)


def record_schema(dim: int) -> pa.Schema:
    return pa.schema(
        [
            ("id", pa.string()),
            ("media_id", pa.string()),
            ("media_uri", pa.string()),
            ("media_title", pa.string()),
            ("media_source", pa.string()),
            ("media_duration_sec", pa.float64()),
            ("media_published", pa.string()),
            ("media_guid", pa.string()),
            ("media_language", pa.string()),
            ("modality", pa.string()),
            ("start_sec", pa.float64()),
            ("end_sec", pa.float64()),
            ("text", pa.string()),
            ("tokens", pa.int64()),
            ("embedded_from", pa.string()),
            ("transcript_source", pa.string()),
            ("times_interpolated", pa.bool_()),
            ("model_name", pa.string()),
            ("dim", pa.int64()),
            ("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def _lancedb() -> Any:
    # LanceDB's Rust core logs warnings to stderr on normal use (a refreshed index logs "partition
    # index is 3 but the number of partitions is 1, skip loading it" five times at 100,000
    # records; results are exact all the same); keep them out of vtembed's output unless the user
    # sets its logger (LANCEDB_LOG; LANCE_LOG is the lance library's own).
    os.environ.setdefault("LANCEDB_LOG", "error")
    os.environ.setdefault("LANCE_LOG", "error")
    import lancedb

    return lancedb


def connect(path: Path, target: str) -> Any:
    try:
        return _lancedb().connect(str(path))
    except (OSError, ValueError) as exc:
        raise UsageError(f"sink lancedb:{target}: cannot open the database ({exc})") from None


def open_table(db: Any, name: str) -> Any:
    if name not in _table_names(db):
        return None
    return db.open_table(name)


def add_missing_columns(table: Any, dim: int) -> list[str]:
    """Give a table made before the provenance columns existed those columns, null in its old
    rows (a schema change only: no row is rewritten), so batches of today's schema merge into
    it. Returns the columns added."""
    have = set(table.schema.names)
    wanted = record_schema(dim)
    missing = [wanted.field(name) for name in PROVENANCE if name not in have]
    if missing:
        table.add_columns(missing)
    return [field.name for field in missing]


def create(db: Any, name: str, rows: pa.Table, model_name: str, dim: int) -> Any:
    """The record table, made with its first rows, and the meta table that names it."""
    table = db.create_table(name, data=rows)
    meta = [{"model_name": model_name, "dim": dim, "table_name": name}]
    db.create_table(META_TABLE, data=pa.Table.from_pylist(meta, schema=_META_SCHEMA))
    return table


def _table_names(db: Any) -> list[str]:
    names: list[str] = []
    token = None
    while True:
        page = db.list_tables(page_token=token)
        names.extend(page.tables)
        token = page.page_token
        if not token:
            return names


def held(db: Any) -> tuple[str, int, str] | None:
    """(model, dim, table) the database holds: from the meta table, else from a record table."""
    names = _table_names(db)
    if META_TABLE in names:
        rows = db.open_table(META_TABLE).to_arrow().to_pylist()
        if rows:
            return str(rows[0]["model_name"]), int(rows[0]["dim"]), str(rows[0]["table_name"])
    for name in names:
        table = db.open_table(name)
        field = table.schema.field("vector") if "vector" in table.schema.names else None
        if field is None or not pa.types.is_fixed_size_list(field.type):
            continue
        first = table.search().select(["model_name"]).limit(1).to_arrow().to_pylist()
        if first:
            return str(first[0]["model_name"]), int(field.type.list_size), name
    return None


def columns(records: list[EmbeddingRecord], dim: int) -> pa.Table:
    """A batch as Arrow columns: the vectors go through one numpy array, not a list per row."""
    for record in records:
        if len(record.embedding) != dim:
            raise UsageError(f"record {record.id} has {len(record.embedding)} dims, not {dim}")
    vectors = np.asarray([record.embedding for record in records], dtype=np.float32)
    media = [record.media for record in records]
    data: dict[str, list[Any] | pa.Array] = {
        "id": [record.id for record in records],
        **{f"media_{key}": [m.get(key) for m in media] for key in MEDIA_KEYS},
        "modality": [record.modality for record in records],
        "start_sec": [record.start_sec for record in records],
        "end_sec": [record.end_sec for record in records],
        "text": [record.text for record in records],
        "tokens": [record.tokens for record in records],
        "embedded_from": [record.embedded_from for record in records],
        "transcript_source": [record.transcript_source for record in records],
        "times_interpolated": [bool(record.times_interpolated) for record in records],
        "model_name": [record.model_name for record in records],
        "dim": [record.dim for record in records],
        "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), dim),
    }
    return pa.Table.from_pydict(data, schema=record_schema(dim))
