"""Milvus sink: records in Milvus Lite (a local `.db` folder) or a Milvus server, same code.

`milvus:PATH.db` opens (or creates) a Milvus Lite database; `milvus:http://host:19530` (or
https, with the token from `MILVUS_TOKEN`) a server, where a Milvus cluster is the same URI
change. Records go to one collection per model, `<collection_prefix>_<model name>`, with the
record's fields as scalar fields (`media.x` flattened to `media_x`), `vector` a FLOAT_VECTOR of
the model's dimension under a COSINE index, and the model in the collection's properties.
The collections under one prefix hold one model: opening them for another one is a `UsageError`.

Writes are upserts by record id, so writing a record twice stores it once. Reads (counts, the
id look-up before an upsert, searches) use Session consistency by default: they see every write
of this process at once, so resume trusts counts, and other processes' writes as soon as the
server has applied them; Strong would make a server wait out its time tick (~200 ms) on every
read. Resume state: beside a Lite database (`PATH.db.state.sqlite`), or for a server under
`<cache_dir>/milvus/`, keyed by URI and collection; a `.lock` beside it keeps one writer.
Full-text search (BM25 of `text`, for hybrid search) is Milvus' own: `milvus_text`.

A collection made before the provenance fields (`media_language`, `transcript_source`,
`times_interpolated`) keeps working as it is: writes leave those values out (a warning says so
once per handle: a new collection would keep them) and hits come back without them. Adding a
field to a collection takes Milvus 2.6 (Lite 3.2 and older servers answer "not implemented"),
so the sink does not try.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from vtembed import hookimpl
from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord
from vtembed.paths import folder_problem
from vtembed.plugins.sinks import milvus_connect
from vtembed.plugins.sinks import milvus_schema as schema
from vtembed.plugins.sinks.flat_record import PROVENANCE, from_row, to_row
from vtembed.plugins.sinks.milvus_columns import ColumnWriter
from vtembed.plugins.sinks.milvus_connect import Where
from vtembed.plugins.sinks.milvus_settings import SECTION, MilvusSettings
from vtembed.plugins.sinks.milvus_text import MilvusFullText
from vtembed.settings import Settings
from vtembed.sink import Sink, local_store_path

log = logging.getLogger(__name__)

BATCH = 1000  # rows per upsert and ids per `id in [...]` look-up
MAX_TOP_K = 16384  # Milvus refuses a larger limit
SIDECARS = {".state.sqlite": "resume state", ".lock": "lock file"}
"""What the sink keeps beside a Lite database PATH.db: `PATH.db.state.sqlite`, `PATH.db.lock`."""
LITE_IVF_LISTS = 128
"""Lists in a Lite IVF_FLAT index (its default; Lite drops build parameters sent by pymilvus 3).
The default Lite index is IVF_FLAT searched with every list probed: an exact scan, by FAISS,
where Lite's FLAT scans in numpy and re-normalises every stored vector for every query."""


class MilvusSink(MilvusFullText, Sink):
    scheme = "milvus"
    example_target = "archive.db"
    """What `vtembed plugins check` names a throwaway store: a Milvus Lite file."""
    settings_section = SECTION
    capabilities = frozenset({"search", "text_search", "stored_model"})  # listing media: a scan

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
        self.config: MilvusSettings = self.options(settings)
        self.where = milvus_connect.parse(target)
        self.collection = schema.collection_name(self.config.collection_prefix, model_name)
        self.timeout = self.config.timeout_sec
        self.client: Any = None
        self.exists = False
        self.nullable = True
        self.full_text = False  # whether the collection keeps BM25 vectors of `text`
        """Whether the collection stores nulls (servers before Milvus 2.5 store placeholders)."""
        self.writer = writer
        self._wrote = False
        self._media_written: set[str] = set()
        """Media ids this handle wrote or deleted: reading their ids must wait for those writes."""
        self._unflushed = False
        self._columns: ColumnWriter | None = None
        self.output_fields = list(schema.OUTPUT_FIELDS)
        """The fields a hit is read from: an older collection lacks `PROVENANCE`."""
        self._dropping_noted = False
        try:
            self.client = _connect(self.where, self.config, create=writer)
            if self.client is not None:
                self._check_held()
        except BaseException:
            self.close()
            raise

    @classmethod
    def check_target(cls, target: str, settings: Settings | None = None) -> None:
        """A server URI has nothing to check offline; a Lite path may not be another file."""
        if not milvus_connect.is_server_uri(target):
            local_store_path(cls.scheme, target, SIDECARS)
        where = milvus_connect.parse(target)
        if where.lite is not None and (problem := milvus_connect.lite_problem(where.lite)):
            raise UsageError(f"{where.label}: {problem}")

    @classmethod
    def stored_model(cls, target: str, settings: Settings | None = None) -> tuple[str, int] | None:
        config: MilvusSettings = cls.options(settings)
        where = milvus_connect.parse(target)
        client = _connect(where, config, create=False)
        if client is None:
            return None
        try:
            held = [h for h in schema.held(client, where, config.collection_prefix) if h.rows]
        finally:
            milvus_connect.release(where, client)
        if len(held) > 1:
            models = ", ".join(f"{h.model_name} ({h.dim} dims)" for h in held)
            raise UsageError(
                f"{where.label} holds several models under collection prefix "
                f"{config.collection_prefix!r} ({models}): keep one model per prefix"
            )
        return (held[0].model_name, held[0].dim) if held else None

    @classmethod
    def open_for_search(
        cls, target: str, *, model_name: str, dim: int, settings: Settings | None = None
    ) -> Sink:
        return cls(target, model_name=model_name, dim=dim, settings=settings, writer=False)

    @classmethod
    def doctor(cls, target: str, settings: Settings | None = None) -> list[tuple[str, str | None]]:
        found = milvus_connect.versions()
        missing = [dist for dist, version in found.items() if not version]
        if missing:
            return [("Milvus client", f"not installed: pip install {' '.join(missing)}")]
        checks: list[tuple[str, str | None]] = [
            (", ".join(f"{dist} {version}" for dist, version in found.items()), None)
        ]
        try:
            where = milvus_connect.parse(target)
            problem = folder_problem(where.lite.parent) if where.lite is not None else None
            if problem:
                return [*checks, (where.label, f"{problem}; choose another --sink path")]
            held = cls.stored_model(target, settings)
        except UsageError as exc:
            return [*checks, ("sink milvus", str(exc))]
        holds = f"holds {held[0]} ({held[1]} dims)" if held else "holds no records yet"
        return [*checks, (f"{where.label} {holds}", None)]

    @classmethod
    def local_path(cls, target: str, settings: Settings | None = None) -> Path | None:
        """A Lite database file is here; a server's collections are not."""
        return milvus_connect.parse(target).lite

    @classmethod
    def store_key(cls, target: str, settings: Settings | None = None) -> str:
        """A server and the collection prefix: the collections under it are one store."""
        config: MilvusSettings = cls.options(settings)
        return f"milvus:{milvus_connect.parse(target).shown}\x1f{config.collection_prefix}"

    def describe(self) -> str:
        return f"milvus:{self.where.shown}"

    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        if not records:
            return 0
        self._writable()
        by_id = {record.id: to_row(record) for record in records}  # one row per id
        for row in by_id.values():
            schema.check_row(row)
        if not self.exists:
            self._create()
        rows = list(by_id.values())
        if not self.nullable:
            rows = [schema.with_placeholders(row) for row in rows]
        self._note_dropped(rows)
        media = {record.media["id"] for record in records}
        known = self._existing_ids(list(by_id), media)
        with milvus_connect.calling(self.where, "upsert"):
            if self._columns is None:
                self._columns = ColumnWriter(self.client, self.collection)
            for start in range(0, len(rows), BATCH):
                self._columns.upsert(rows[start : start + BATCH], timeout=self.timeout)
        self._written(media)
        return len(by_id) - len(known)

    def delete_media(self, media_id: str, keep: Collection[str] = ()) -> int:
        self._writable()
        if keep:
            ids = sorted(self._ids_of(media_id) - set(keep))
            filters = [schema.in_list("id", ids[i : i + BATCH]) for i in range(0, len(ids), BATCH)]
            gone = len(ids)
        else:
            gone = self.count(media_id)
            filters = [schema.of_media(media_id)] if gone else []
        if gone:
            with milvus_connect.calling(self.where, "delete"):
                for where in filters:
                    self.client.delete(self.collection, filter=where, timeout=self.timeout)
            self._written({media_id})
            # A server answers a delete with a time that Session reads do not wait past (Milvus
            # 2.3 at least), so they would still count the rows: one Strong read waits until
            # the delete is applied, and every read after it sees that.
            self._settle()
            schema.count(
                self.client,
                self.where,
                self.collection,
                schema.of_media(media_id),
                consistency="Strong",
                timeout=self.timeout,
            )
        return gone

    def count(self, media_id: str) -> int:
        if not self.exists:
            return 0
        self._settle()
        return schema.count(
            self.client, self.where, self.collection, schema.of_media(media_id), **self._reading
        )

    def rows(self) -> int:
        """How many records the collection holds."""
        if not self.exists:
            return 0
        self._settle()
        return schema.count(self.client, self.where, self.collection, **self._reading)

    def search(
        self, vector: Sequence[float], k: int, filters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        query = [float(x) for x in vector]
        if k <= 0 or not self.exists or not any(query):
            return []
        if len(query) != self.dim:
            raise UsageError(
                f"{self.where.label} holds {self.dim}-dim vectors, the query has {len(query)}"
            )
        limit = min(k, MAX_TOP_K)
        self._settle()
        params: dict[str, Any] = dict(self.config.search_params)
        if self.where.lite is not None and not self.config.index_type:
            params = {"nprobe": LITE_IVF_LISTS, **params}
        if "ef" in params:  # HNSW refuses ef < k
            params["ef"] = max(int(params["ef"]), limit)
        with milvus_connect.calling(self.where, "search"):
            found = self.client.search(
                self.collection,
                data=[query],
                anns_field="vector",
                limit=limit,
                filter=schema.filter_expr(filters or {}),
                output_fields=self.output_fields,
                search_params={"metric_type": "COSINE", "params": params},
                consistency_level=self.config.consistency,
                timeout=self.timeout,
            )
        entities = [h["entity"] for h in found[0]]
        if not self.nullable:
            entities = [schema.without_placeholders(e) for e in entities]
        # float32 rounding can put an identical vector a hair above 1.
        hits = [
            {**from_row(e), "score": min(1.0, float(h["distance"]))}
            for e, h in zip(entities, found[0], strict=True)
        ]
        hits.sort(key=lambda hit: hit["score"], reverse=True)
        return hits

    def close(self) -> None:
        """Flush what this handle wrote (sealed segments, built indexes), then let go."""
        client, self.client = self.client, None
        try:
            if client is not None:
                try:
                    if self._wrote:
                        with milvus_connect.calling(self.where, "flush"):
                            client.flush(self.collection, timeout=self.timeout)
                finally:
                    milvus_connect.release(self.where, client)
        finally:
            self.writer = False

    def _create(self) -> None:
        lite = self.where.lite is not None
        index_type = self.config.index_type or ("IVF_FLAT" if lite else "AUTOINDEX")
        index = {"index_type": index_type, "params": self.config.index_params}
        made = schema.create(
            self.client, self.where, self.collection, self.model_name, self.dim, index
        )
        self.exists, self.nullable, self.full_text = True, made.nullable, made.full_text

    def _note_dropped(self, rows: list[dict[str, Any]]) -> None:
        """Warn once that the collection cannot keep the provenance values these rows carry."""
        missing = [name for name in PROVENANCE if name not in self.output_fields]
        if self._dropping_noted or not any(row.get(name) for row in rows for name in missing):
            return
        self._dropping_noted = True
        log.warning(
            "%s: collection %s was made without %s, so records are stored without them; "
            "ingesting into a new collection (another [milvus] collection_prefix, or this one "
            "dropped) would keep them",
            self.where.label, self.collection, ", ".join(missing),
        )  # fmt: skip

    def _written(self, media: set[str]) -> None:
        self._wrote = True
        self._media_written |= media
        self._unflushed = self.where.lite is not None

    def _settle(self) -> None:
        """Milvus Lite counts and searches by scanning a snapshot of its whole in-memory table
        (a count took 0.7 s at 30 000 unflushed records), so rows written since the last read are
        flushed into a segment first: once per run of writes, not once per write. Writes need no
        flush to be kept (Lite logs them first), and the id look-up before an upsert stays fast
        on unflushed rows. A server flushes on its own (and limits how often clients may)."""
        if self._unflushed:
            with milvus_connect.calling(self.where, "flush"):
                self.client.flush(self.collection, timeout=self.timeout)
            self._unflushed = False

    def _ids_of(self, media_id: str) -> set[str]:
        """The ids of an item's records (an item holds far fewer than a query may return)."""
        if not self.exists:
            return set()
        self._settle()
        return schema.ids(
            self.client, self.where, self.collection, schema.of_media(media_id),
            limit=schema.MAX_QUERY_ROWS, consistency=self.config.consistency, timeout=self.timeout,
        )  # fmt: skip

    def _writable(self) -> None:
        if not self.writer:
            raise UsageError(f"{self.where.label} is open for search only")

    def _check_held(self) -> None:
        """Refuse collections under the prefix that hold another model or dimension, and a
        collection of our name that vtembed did not make; load ours if it exists."""
        for held in schema.held(self.client, self.where, self.config.collection_prefix):
            mine = held.collection == self.collection
            if (held.model_name, held.dim) != (self.model_name, self.dim) and (held.rows or mine):
                raise UsageError(
                    f"{self.where.label} holds {held.model_name} ({held.dim} dims), not "
                    f"{self.model_name} ({self.dim} dims): choose another database or "
                    "[milvus] collection_prefix"
                )
            if mine:
                self.exists, self.nullable, self.full_text = True, held.nullable, held.full_text
                self.output_fields = [f for f in schema.OUTPUT_FIELDS if f in held.fields]
        with milvus_connect.calling(self.where, "open"):
            if not self.exists and self.client.has_collection(self.collection):
                raise UsageError(
                    f"{self.where.label}: collection {self.collection} was not made by vtembed: "
                    "choose another [milvus] collection_prefix"
                )
            if self.exists:
                self.client.load_collection(self.collection, timeout=self.timeout)

    def _existing_ids(self, ids: list[str], media: set[str]) -> set[str]:
        """Which of ids the collection holds. Record ids belong to their media item, so while
        this handle has not written the item, no write of its own can hide one of them: then the
        look-up need not wait for this handle's earlier writes to be applied (on a server, a
        Session read after a write waits out a time tick, about 200 ms, for every write)."""
        consistency = self.config.consistency
        if consistency == "Session" and not media & self._media_written:
            consistency = "Eventually"
        found: set[str] = set()
        with milvus_connect.calling(self.where, "reading ids"):
            for start in range(0, len(ids), BATCH):
                rows = self.client.query(
                    self.collection,
                    filter=schema.in_list("id", ids[start : start + BATCH]),
                    output_fields=["id"],
                    consistency_level=consistency,
                    timeout=self.timeout,
                )
                found.update(row["id"] for row in rows)
        return found

    @property
    def _reading(self) -> dict[str, Any]:
        return {"consistency": self.config.consistency, "timeout": self.timeout}


def _connect(where: Where, config: MilvusSettings, *, create: bool) -> Any | None:
    token = config.token.get_secret_value() if config.token is not None else ""
    return milvus_connect.connect(
        where, token=token, timeout=config.connect_timeout_sec, create=create
    )


@hookimpl
def vtembed_register_sinks(register: Callable[[type[Sink]], None]) -> None:
    register(MilvusSink)
