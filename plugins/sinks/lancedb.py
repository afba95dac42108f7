"""LanceDB sink: records in an embedded LanceDB database (a folder), no server.

`lancedb:PATH` opens (or creates) the database folder PATH. Records go to one table per model,
`<table_prefix>_<model name>` (`[lancedb] table_prefix`), with the record's fields as columns
(`media.x` flattened to `media_x`) and `vector` a fixed-size list of float32 of the model's
dimension. A small table `vtembed_meta` records which model, dimension and table the database
holds; opening it for another model or dimension is a `UsageError`. Beside PATH it keeps
`PATH.state.sqlite` (the resume manifest) and `PATH.lock` (one writer at a time;
searches take no lock).

Writes are upserts by record id (`merge_insert`, whose result says how many rows were new), so
writing a record twice stores it once. A batch goes to LanceDB as Arrow columns built with numpy,
never row by row. Search is cosine similarity, filtered before scoring: an exact flat scan on small
tables, an IVF index once the table is large enough (`lancedb_index` says when it is built,
refreshed and retrained; its scores stay exact).
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field

from vtembed import hookimpl
from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord
from vtembed.plugins.sinks import lancedb_index
from vtembed.plugins.sinks.flat_record import MEDIA_KEYS, from_row
from vtembed.plugins.sinks.lancedb_index import IndexSettings
from vtembed.settings import PluginSection, Settings
from vtembed.sink import Sink

META_TABLE = "vtembed_meta"

_META_SCHEMA = pa.schema(
    [("model_name", pa.string()), ("dim", pa.int64()), ("table_name", pa.string())]
)


class LanceDbSettings(IndexSettings):
    table_prefix: str = Field(
        "embeddings",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Record tables are named <table_prefix>_<model name>.",
    )


SECTION = PluginSection("lancedb", LanceDbSettings)


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
            ("modality", pa.string()),
            ("start_sec", pa.float64()),
            ("end_sec", pa.float64()),
            ("text", pa.string()),
            ("tokens", pa.int64()),
            ("embedded_from", pa.string()),
            ("model_name", pa.string()),
            ("dim", pa.int64()),
            ("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def table_name(prefix: str, model_name: str) -> str:
    """`<prefix>_<model>` with anything but letters, digits and `_` turned into `_`."""
    model = re.sub(r"[^A-Za-z0-9_]+", "_", model_name).strip("_") or "model"
    return f"{prefix}_{model}"


class LanceDbSink(Sink):
    scheme = "lancedb"
    settings_section = SECTION

    def __init__(
        self,
        target: str,
        *,
        model_name: str,
        dim: int,
        settings: Settings | None = None,
        writer: bool = True,
    ) -> None:
        super().__init__(target, model_name=model_name, dim=dim, settings=settings)
        self.config: LanceDbSettings = self.options(settings)
        self.path = Path(target).expanduser()
        self._lock = None
        if writer:
            self._take_lock()
        self.db = _connect(self.path, target)
        held = _held(self.db)
        if held is not None and (held[0], held[1]) != (model_name, dim):
            self.close()
            raise UsageError(
                f"sink lancedb:{target} holds {held[0]} ({held[1]} dims), "
                f"not {model_name} ({dim} dims): choose another database path"
            )
        if held is not None:
            self.table_name = held[2]
        else:
            self.table_name = table_name(self.config.table_prefix, model_name)
        self.table = _open(self.db, self.table_name)

    @classmethod
    def stored_model(cls, target: str, settings: Settings | None = None) -> tuple[str, int] | None:
        path = Path(target).expanduser()
        if not path.is_dir():
            return None
        db = _connect(path, target)
        held = _held(db)
        if held is None:
            return None
        table = _open(db, held[2])
        if table is None or table.count_rows() == 0:
            return None
        return held[0], held[1]

    @classmethod
    def open_for_search(
        cls, target: str, *, model_name: str, dim: int, settings: Settings | None = None
    ) -> Sink:
        return cls(target, model_name=model_name, dim=dim, settings=settings, writer=False)

    @property
    def state_path(self) -> Path:
        return self.path.with_name(self.path.name + ".state.sqlite")

    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        if not records:
            return 0
        if self._lock is None:
            raise UsageError(f"sink lancedb:{self.target} is open for search only")
        by_id = {record.id: record for record in records}  # merge_insert wants unique keys
        rows = _columns(list(by_id.values()), self.dim)
        if self.table is None:
            self.table = self.db.create_table(self.table_name, data=rows)
            meta = [{"model_name": self.model_name, "dim": self.dim, "table_name": self.table_name}]
            self.db.create_table(META_TABLE, data=pa.Table.from_pylist(meta, schema=_META_SCHEMA))
            new = len(by_id)
        else:
            result = (
                self.table.merge_insert("id")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(rows)
            )
            new = int(result.num_inserted_rows)
        lancedb_index.maintain(self.table, self.config, self.describe())
        return new

    def delete_media(self, media_id: str) -> int:
        if self._lock is None:
            raise UsageError(f"sink lancedb:{self.target} is open for search only")
        gone = self.count(media_id)
        if gone:
            self.table.delete(f"media_id = {_quote(media_id)}")
        return gone

    def count(self, media_id: str) -> int:
        if self.table is None:
            return 0
        return self.table.count_rows(f"media_id = {_quote(media_id)}")

    def search(
        self, vector: Sequence[float], k: int, filters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        query = [float(x) for x in vector]
        if k <= 0 or self.table is None or not any(query):
            return []
        if len(query) != self.dim:
            raise UsageError(
                f"sink lancedb:{self.target} holds {self.dim}-dim vectors, "
                f"the query has {len(query)}"
            )
        hits = self.query(query, k, filters).to_arrow().to_pylist()
        out = [{**from_row(row), "score": 1.0 - float(row["_distance"])} for row in hits]
        out.sort(key=lambda hit: hit["score"], reverse=True)
        return out

    def query(self, vector: list[float], k: int, filters: dict[str, Any] | None = None) -> Any:
        """The LanceDB query a search runs; its `explain_plan()` shows whether the index is used."""
        builder = self.table.search(vector, vector_column_name="vector").distance_type("cosine")
        builder = lancedb_index.tune(builder, self.table, self.config)
        where = _where(filters or {})
        if where:
            builder = builder.where(where, prefilter=True)
        return builder.limit(k)

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _take_lock(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.path.with_name(self.path.name + ".lock"), "w")  # noqa: SIM115
        except OSError as exc:
            raise UsageError(
                f"sink lancedb:{self.target}: cannot write there ({exc.strerror})"
            ) from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.close()
            raise UsageError(
                f"sink lancedb:{self.target} is in use by another vtembed run"
            ) from None


def _lancedb() -> Any:
    # LanceDB's Rust core logs warnings to stderr on normal use (a refreshed index logs "partition
    # index is 3 but the number of partitions is 1, skip loading it" five times at 100,000
    # records; results are exact all the same); keep them out of vtembed's output unless the user
    # sets its logger (LANCEDB_LOG; LANCE_LOG is the lance library's own).
    os.environ.setdefault("LANCEDB_LOG", "error")
    os.environ.setdefault("LANCE_LOG", "error")
    import lancedb

    return lancedb


def _connect(path: Path, target: str) -> Any:
    if path.exists() and not path.is_dir():
        raise UsageError(f"sink lancedb:{target}: {path} is a file, not a database folder")
    try:
        return _lancedb().connect(str(path))
    except (OSError, ValueError) as exc:
        raise UsageError(f"sink lancedb:{target}: cannot open the database ({exc})") from None


def _open(db: Any, name: str) -> Any:
    if name not in _table_names(db):
        return None
    return db.open_table(name)


def _table_names(db: Any) -> list[str]:
    names: list[str] = []
    token = None
    while True:
        page = db.list_tables(page_token=token)
        names.extend(page.tables)
        token = page.page_token
        if not token:
            return names


def _held(db: Any) -> tuple[str, int, str] | None:
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


def _columns(records: list[EmbeddingRecord], dim: int) -> pa.Table:
    """A batch as Arrow columns: the vectors go through one numpy array, not a list per row."""
    for record in records:
        if len(record.embedding) != dim:
            raise UsageError(f"record {record.id} has {len(record.embedding)} dims, not {dim}")
    vectors = np.asarray([record.embedding for record in records], dtype=np.float32)
    media = [record.media for record in records]
    columns: dict[str, list[Any] | pa.Array] = {
        "id": [record.id for record in records],
        **{f"media_{key}": [m.get(key) for m in media] for key in MEDIA_KEYS},
        "modality": [record.modality for record in records],
        "start_sec": [record.start_sec for record in records],
        "end_sec": [record.end_sec for record in records],
        "text": [record.text for record in records],
        "tokens": [record.tokens for record in records],
        "embedded_from": [record.embedded_from for record in records],
        "model_name": [record.model_name for record in records],
        "dim": [record.dim for record in records],
        "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), dim),
    }
    return pa.Table.from_pydict(columns, schema=record_schema(dim))


def _where(filters: dict[str, Any]) -> str:
    columns = {"modality": "modality", "media_id": "media_id", "media_uri": "media_uri"}
    parts = [
        f"{columns[key]} = {_quote(str(value))}"
        for key, value in filters.items()
        if key in columns and value is not None
    ]
    return " AND ".join(parts)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@hookimpl
def vtembed_register_sinks(register: Callable[[type[Sink]], None]) -> None:
    register(LanceDbSink)
