"""What a vtembed collection looks like in Milvus: its fields, its name, the model it holds, and
filter expressions over it.

Milvus measures VARCHAR limits in bytes and refuses a longer value for the whole batch, so rows
are checked here first and a value that does not fit is an error naming the record and the field.
The limits are generous (Milvus does not reserve space for them): URIs and texts get Milvus'
maximum, 65535 bytes.

Servers older than Milvus 2.5 have no nullable fields (and before 2.4 no INVERTED index), so a
collection made on one stores a missing value as a placeholder ("" for text, NaN for a number,
false for a flag) that reading turns back into None; which way a collection stores them is read
from its schema, so a collection keeps working when its server is upgraded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from vtembed.errors import UsageError
from vtembed.plugins.sinks.flat_record import PROVENANCE
from vtembed.plugins.sinks.milvus_connect import Where, calling

VARCHAR: dict[str, int] = {
    "id": 64,
    "media_id": 4096,
    "media_uri": 65535,
    "media_title": 4096,
    "media_source": 256,
    "media_published": 64,
    "media_guid": 4096,
    "media_language": 64,
    "modality": 16,
    "text": 65535,
    "embedded_from": 64,
    "transcript_source": 64,
    "model_name": 256,
}
DOUBLE = ("media_duration_sec", "start_sec", "end_sec")
INT64 = ("tokens", "dim")
BOOL = ("times_interpolated",)
NULLABLE = frozenset(
    {"media_uri", "media_title", "media_source", "media_duration_sec", "media_published"}
    | {"media_guid", "embedded_from", *PROVENANCE}
)
OUTPUT_FIELDS = [*VARCHAR, *DOUBLE, *INT64, *BOOL]
"""Every stored field but the vector: what a search hit is built from (a collection made before
`PROVENANCE` existed has all but those: `Held.fields` says which it has)."""
REQUIRED = frozenset({"id", "media_id", "model_name", "vector"})
"""Fields that mark a collection as one vtembed made."""
MODEL_PROPERTY = "vtembed.model_name"
DIM_PROPERTY = "vtembed.dim"
FILTER_FIELDS = {"modality": "modality", "media_id": "media_id", "media_uri": "media_uri"}
TEXT_SPARSE = "text_sparse"
"""The BM25 sparse vector Milvus makes from `text` (a function's output: never written)."""


class Held(NamedTuple):
    collection: str
    model_name: str
    dim: int
    rows: int
    nullable: bool
    """Whether the collection stores missing values as nulls (else as placeholders)."""
    full_text: bool = False
    """Whether Milvus keeps a BM25 sparse vector of `text` (`TEXT_SPARSE`) for full-text search."""
    fields: frozenset[str] = frozenset(OUTPUT_FIELDS)
    """The fields it stores besides the vector: an older collection lacks `PROVENANCE`."""


class Features(NamedTuple):
    """What the server can make: nullable fields, and the index for `media_id`."""

    nullable: bool
    scalar_index: str


def features(server_version: str) -> Features:
    """From `get_server_version()`: milvus-lite 3 ("milvus_lite-3.2.2") and Milvus 2.5 or later
    have both; Milvus 2.4 has INVERTED but no nulls; Milvus 2.3 ("v2.3.5") only a Trie index.
    A version it cannot read is taken for a new server."""
    found = re.match(r"v?(\d+)\.(\d+)", server_version)
    if server_version.startswith("milvus_lite") or found is None:
        return Features(True, "INVERTED")
    version = (int(found[1]), int(found[2]))
    return Features(version >= (2, 5), "INVERTED" if version >= (2, 4) else "Trie")


def has_bm25(server_version: str) -> bool:
    """Whether the server can make BM25 sparse vectors from text: milvus-lite 3 and Milvus 2.5
    or later (2.5 brought the BM25 function); a version it cannot read is taken for a new one."""
    found = re.match(r"v?(\d+)\.(\d+)", server_version)
    if server_version.startswith("milvus_lite") or found is None:
        return True
    return (int(found[1]), int(found[2])) >= (2, 5)


def collection_name(prefix: str, model_name: str) -> str:
    """`<prefix>_<model>` with anything but letters, digits and `_` turned into `_` (the only
    characters Milvus allows in a collection name)."""
    model = re.sub(r"[^A-Za-z0-9_]+", "_", model_name).strip("_") or "model"
    return f"{prefix}_{model}"


class Made(NamedTuple):
    nullable: bool
    full_text: bool


def create(
    client: Any, where: Where, name: str, model_name: str, dim: int, index: dict[str, Any]
) -> Made:
    """Create the collection with its COSINE vector index, an index on `media_id` (counts and
    deletes filter on it) and the model in its properties; it is loaded, ready to read."""
    with calling(where, "asking the server version"):
        version = str(client.get_server_version())
    can, bm25 = features(version), has_bm25(version)
    params = client.prepare_index_params()
    params.add_index(field_name="vector", metric_type="COSINE", **index)
    params.add_index(field_name="media_id", index_type=can.scalar_index)
    if bm25:
        params.add_index(
            field_name=TEXT_SPARSE, index_type="SPARSE_INVERTED_INDEX", metric_type="BM25"
        )
    with calling(where, f"creating collection {name}"):
        client.create_collection(
            name,
            schema=_schema(dim, can.nullable, bm25),
            index_params=params,
            properties={MODEL_PROPERTY: model_name, DIM_PROPERTY: str(dim)},
        )
    return Made(can.nullable, bm25)


def held(client: Any, where: Where, prefix: str) -> list[Held]:
    """The vtembed collections whose names start with `<prefix>_`, and what each holds."""
    found = []
    with calling(where, "listing collections"):
        for name in client.list_collections():
            if not name.startswith(f"{prefix}_"):
                continue
            description = client.describe_collection(name)
            shape = _held_by(description)
            if shape is None:
                continue
            model, dim = shape
            # Statistics need no loaded collection (a server may count deleted rows until it
            # compacts them: enough to tell whether the collection holds records).
            rows = int(client.get_collection_stats(name).get("row_count", 0))
            if model is None:  # made without properties: a row tells the model
                if not rows:
                    continue
                client.load_collection(name)
                first = client.query(name, filter="", output_fields=["model_name"], limit=1)
                model = str(first[0]["model_name"])
            names = frozenset(f["name"] for f in description.get("fields", []))
            found.append(
                Held(
                    name, model, dim, rows, _stores_nulls(description), TEXT_SPARSE in names,
                    names & frozenset(OUTPUT_FIELDS),
                )
            )  # fmt: skip
    return found


def count(
    client: Any,
    where: Where,
    name: str,
    expr: str = "",
    *,
    consistency: str,
    timeout: float | None = None,
) -> int:
    """Exact count of the rows matching expr (all rows for "")."""
    with calling(where, "count"):
        rows = client.query(
            name,
            filter=expr,
            output_fields=["count(*)"],
            consistency_level=consistency,
            timeout=timeout,
        )
    return int(rows[0]["count(*)"]) if rows else 0


MAX_QUERY_ROWS = 16384
"""Milvus refuses a query that would return more rows."""


def ids(
    client: Any,
    where: Where,
    name: str,
    expr: str,
    *,
    limit: int,
    consistency: str,
    timeout: float | None = None,
) -> set[str]:
    """The ids of the rows matching expr, at most `limit` of them."""
    with calling(where, "reading ids"):
        rows = client.query(
            name,
            filter=expr,
            output_fields=["id"],
            limit=limit,
            consistency_level=consistency,
            timeout=timeout,
        )
    return {row["id"] for row in rows}


def with_placeholders(row: dict[str, Any]) -> dict[str, Any]:
    """The row for a collection without nullable fields: None as "", NaN or false."""
    for name in NULLABLE:
        if row.get(name) is None:
            row[name] = math.nan if name in DOUBLE else False if name in BOOL else ""
    return row


def without_placeholders(row: dict[str, Any]) -> dict[str, Any]:
    """A row read from a collection without nullable fields, its placeholders None again."""
    for name in NULLABLE:
        value = row.get(name)
        if value == "" or (isinstance(value, float) and math.isnan(value)):
            row[name] = None
    return row


def _schema(dim: int, nullable: bool, bm25: bool = False) -> Any:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    for name, limit in VARCHAR.items():
        schema.add_field(
            name,
            DataType.VARCHAR,
            max_length=limit,
            is_primary=name == "id",
            nullable=nullable and name in NULLABLE,
            **({"enable_analyzer": True} if bm25 and name == "text" else {}),
        )
    for name in DOUBLE:
        schema.add_field(name, DataType.DOUBLE, nullable=nullable and name in NULLABLE)
    for name in INT64:
        schema.add_field(name, DataType.INT64)
    for name in BOOL:
        schema.add_field(name, DataType.BOOL, nullable=nullable and name in NULLABLE)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    if bm25:  # Milvus' standard analyzer: lower-cased words, split at anything else
        schema.add_field(TEXT_SPARSE, DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="text_bm25",
                function_type=FunctionType.BM25,
                input_field_names=["text"],
                output_field_names=[TEXT_SPARSE],
            )
        )
    return schema


def _held_by(description: dict[str, Any]) -> tuple[str | None, int] | None:
    """(model or None if only a row can tell, dim) of a collection vtembed made, from its
    description; None for a collection of something else."""
    fields = {f["name"]: f for f in description.get("fields", [])}
    if not fields.keys() >= REQUIRED:
        return None
    dim = fields["vector"].get("params", {}).get("dim")
    if dim is None:
        return None
    model = (description.get("properties") or {}).get(MODEL_PROPERTY)
    return (str(model) if model else None), int(dim)


def _stores_nulls(description: dict[str, Any]) -> bool:
    return any(f.get("nullable") for f in description.get("fields", []) if f["name"] in NULLABLE)


def check_row(row: dict[str, Any]) -> None:
    for name, limit in VARCHAR.items():
        value = row.get(name)
        if value is not None and len(value.encode("utf-8")) > limit:
            raise UsageError(
                f"record {row['id']}: {name} is {len(value.encode('utf-8'))} bytes, more than "
                f"the {limit} this Milvus collection takes"
            )


def filter_expr(filters: dict[str, Any]) -> str:
    """A Milvus boolean expression for the search filters that are set ("" for none)."""
    return " and ".join(
        f"{FILTER_FIELDS[key]} == {quote(str(value))}"
        for key, value in filters.items()
        if key in FILTER_FIELDS and value is not None
    )


def of_media(media_id: str) -> str:
    return f"media_id == {quote(media_id)}"


def in_list(field: str, values: Iterable[str]) -> str:
    return f"{field} in [{', '.join(quote(v) for v in values)}]"


def quote(value: str) -> str:
    """A Milvus string literal: backslashes and double quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
