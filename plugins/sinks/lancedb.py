"""LanceDB sink: records in an embedded LanceDB database (a folder), no server.

`lancedb:PATH` opens (or creates) the database folder PATH. Records go to one table per model,
`<table_prefix>_<model name>` (`[lancedb] table_prefix`), with the record's fields as columns
(`media.x` flattened to `media_x`) and `vector` a fixed-size list of float32 of the model's
dimension. A table made before the provenance columns (`media_language`, `transcript_source`,
`times_interpolated`) gains them, null in its old rows, when it is opened for writing; opened
for search it is read as it is, its old rows' hits without those fields. A small table
`vtembed_meta` records which model, dimension and table the database holds; opening it for
another model or dimension is a `UsageError`. Beside PATH it keeps `PATH.state.sqlite` (the
resume manifest) and `PATH.lock` (one writer at a time; searches take no lock). `check_target`
refuses, before anything is made, a PATH that is a file, one of those two files of another
database, or under a file; other files in the folder are fine.

Writes are upserts by record id (`merge_insert`, whose result says how many rows were new), so
writing a record twice stores it once. A batch goes to LanceDB as Arrow columns built with numpy,
never row by row. Search is cosine similarity, filtered before scoring: an exact flat scan on small
tables, an IVF index once the table is large enough (`lancedb_index` says when it is built,
refreshed and retrained; its scores stay exact). Full-text search (BM25 on `text`, for hybrid
search) uses LanceDB's own full-text index (`lancedb_text`). Arrow and LanceDB are imported
(`lancedb_tables`) only when a store is opened.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from vtembed import hookimpl
from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord
from vtembed.plugins.sinks import lancedb_index, lancedb_text
from vtembed.plugins.sinks.flat_record import from_row
from vtembed.plugins.sinks.lancedb_index import IndexSettings
from vtembed.settings import PluginSection, Settings
from vtembed.sink import Sink, local_store_path

SIDECARS = {".state.sqlite": "resume state", ".lock": "lock file"}
"""What the sink keeps beside a database folder PATH: `PATH.state.sqlite`, `PATH.lock`."""


class LanceDbSettings(IndexSettings):
    table_prefix: str = Field(
        "embeddings",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Record tables are named <table_prefix>_<model name>.",
    )


SECTION = PluginSection("lancedb", LanceDbSettings)


def table_name(prefix: str, model_name: str) -> str:
    """`<prefix>_<model>` with anything but letters, digits and `_` turned into `_`."""
    model = re.sub(r"[^A-Za-z0-9_]+", "_", model_name).strip("_") or "model"
    return f"{prefix}_{model}"


class LanceDbSink(Sink):
    scheme = "lancedb"
    settings_section = SECTION
    capabilities = frozenset({"search", "text_search", "stored_model", "media_counts"})

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
        from vtembed.plugins.sinks import lancedb_tables as tables

        self.config: LanceDbSettings = self.options(settings)
        self.path = Path(target).expanduser()
        self.writer = writer
        if writer:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(
                    f"sink lancedb:{target}: cannot write there ({exc.strerror})"
                ) from None
        self.db = tables.connect(self.path, target)
        held = tables.held(self.db)
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
        self.table = tables.open_table(self.db, self.table_name)
        if writer and self.table is not None:
            tables.add_missing_columns(self.table, dim)

    @classmethod
    def local_path(cls, target: str, settings: Settings | None = None) -> Path:
        return Path(target).expanduser()

    @classmethod
    def check_target(cls, target: str, settings: Settings | None = None) -> None:
        path = local_store_path(cls.scheme, target, SIDECARS)
        if path.exists() and not path.is_dir():
            raise UsageError(f"sink lancedb:{target}: {path} is a file, not a database folder")

    @classmethod
    def stored_model(cls, target: str, settings: Settings | None = None) -> tuple[str, int] | None:
        path = Path(target).expanduser()
        if not path.is_dir():
            return None
        from vtembed.plugins.sinks import lancedb_tables as tables

        db = tables.connect(path, target)
        held = tables.held(db)
        if held is None:
            return None
        table = tables.open_table(db, held[2])
        if table is None or table.count_rows() == 0:
            return None
        return held[0], held[1]

    @classmethod
    def media_counts(cls, target: str, settings: Settings | None = None) -> dict[str, int]:
        path = Path(target).expanduser()
        if not path.is_dir():
            return {}
        from vtembed.plugins.sinks import lancedb_tables as tables

        db = tables.connect(path, target)
        held = tables.held(db)
        table = tables.open_table(db, held[2]) if held is not None else None
        if table is None:
            return {}
        counts: dict[str, int] = {}
        for media_id in table.to_arrow().column("media_id").to_pylist():
            counts[media_id] = counts.get(media_id, 0) + 1
        return counts

    @classmethod
    def open_for_search(
        cls, target: str, *, model_name: str, dim: int, settings: Settings | None = None
    ) -> Sink:
        return cls(target, model_name=model_name, dim=dim, settings=settings, writer=False)

    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        if not records:
            return 0
        if not self.writer:
            raise UsageError(f"sink lancedb:{self.target} is open for search only")
        from vtembed.plugins.sinks import lancedb_tables as tables

        by_id = {record.id: record for record in records}  # merge_insert wants unique keys
        rows = tables.columns(list(by_id.values()), self.dim)
        if self.table is None:
            self.table = tables.create(self.db, self.table_name, rows, self.model_name, self.dim)
            lancedb_text.ensure_index(self.table)
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

    def delete_media(self, media_id: str, keep: Collection[str] = ()) -> int:
        if not self.writer:
            raise UsageError(f"sink lancedb:{self.target} is open for search only")
        if self.table is None:
            return 0
        where = f"media_id = {_quote(media_id)}"
        if keep:
            where += f" AND id NOT IN ({', '.join(_quote(i) for i in sorted(keep))})"
        gone = self.table.count_rows(where)
        if gone:
            self.table.delete(where)
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

    def text_search(
        self, query: str, k: int, filters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        if k <= 0 or self.table is None:
            return []
        rows = lancedb_text.search(self.table, query, k, _where(filters or {}))
        return [{**from_row(row), "score": float(row["_score"])} for row in rows]

    def query(self, vector: list[float], k: int, filters: dict[str, Any] | None = None) -> Any:
        """The LanceDB query a search runs; its `explain_plan()` shows whether the index is used."""
        builder = self.table.search(vector, vector_column_name="vector").distance_type("cosine")
        builder = lancedb_index.tune(builder, self.table, self.config)
        where = _where(filters or {})
        if where:
            builder = builder.where(where, prefilter=True)
        return builder.limit(k)

    def close(self) -> None:
        """Nothing to release: each write is committed as it returns."""


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
