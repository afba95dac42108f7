"""When the LanceDB sink builds, refreshes and retrains its ANN vector index, and how it searches.

LanceDB's flat (exact) search reads and decodes every stored vector for each query: on the 2-core
benchmark machine ~45 ms at 10 000 rows of 1024 dimensions and ~450 ms at 100 000. Once a write
leaves the table at `index_min_rows` or more, an IVF index (cosine) is trained on every row, along
with scalar indexes on the columns searches filter by and resume counts by.

LanceDB never adds later rows to an index by itself: a search scores them by that same flat scan
beside the index, so results stay complete while latency grows with the unindexed rows. Once
`index_refresh_rows` rows are unindexed, a write calls `optimize()`, which compacts the small files
each write leaves and adds those rows to the existing partitions as one more index segment, without
retraining. The partitions stay the ones trained on the older rows, so once the table has grown
`index_retrain_growth` times since the index was trained, it is trained again on all rows. The index
is named `vector_idx_<rows it was trained on>`, so a later run can tell without a side table; the
new index is built before the old one is dropped, so searches never go without one. Retraining at
a fixed growth factor costs a constant amount of work per stored row however large the table gets.

Every write adds a file (a fragment) and a search pays for each one it opens (with one file per
write, 100 writes of 40 rows take 19 ms to search, 6 ms once compacted), so `optimize()` also runs
once `SMALL_FRAGMENTS` small files have piled up, with or without an index.

A search probes `nprobes` partitions and re-scores k * `refine_factor` candidates with the stored
float32 vectors, so the scores it returns are exact cosine similarities.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

VECTOR = "vector"
NAME = "vector_idx_{rows}"
_TRAINED = re.compile(r"^vector_idx_(\d+)$")
SMALL_FRAGMENTS = 32
"""Compact once this many small files (one per write) have piled up: a search opens every one."""


class IndexSettings(BaseModel):
    """The `[lancedb]` keys about the vector index (the sink's settings extend these)."""

    index_min_rows: int = Field(
        10_000, ge=0, description="Build the vector index at this many rows (0: never)."
    )
    index_type: Literal["IVF_SQ", "IVF_FLAT", "IVF_PQ"] = Field(
        "IVF_SQ", description="LanceDB vector index type: IVF_SQ, IVF_FLAT or IVF_PQ."
    )
    index_partitions: int = Field(
        0, ge=0, description="IVF partitions of the index (0: LanceDB's choice for the row count)."
    )
    index_refresh_rows: int = Field(
        5_000, ge=1, description="Add new rows to the index once this many are not in it."
    )
    index_retrain_growth: float = Field(
        4.0, gt=1.0, description="Retrain the index once the table has grown this many times."
    )
    nprobes: int = Field(20, ge=1, description="IVF partitions a search probes.")
    refine_factor: int = Field(
        5, ge=1, description="A search re-scores k times this many candidates exactly."
    )


def vector_index(table: Any) -> Any | None:
    """The table's index on the vector column (LanceDB's IndexConfig), if there is one."""
    for index in table.list_indices():
        if VECTOR in index.columns:
            return index
    return None


def maintain(table: Any, config: IndexSettings, where: str) -> None:
    """After a write: build, refresh or retrain the index, or compact, as the module says."""
    index = vector_index(table) if config.index_min_rows else None
    if config.index_min_rows and index is None:
        rows = table.count_rows()
        if rows >= config.index_min_rows:
            _build(table, config, rows, where)
            _index_filters(table)
            return
    if index is not None and index.num_unindexed_rows >= config.index_refresh_rows:
        trained = _TRAINED.match(index.name)
        rows = index.num_indexed_rows + index.num_unindexed_rows
        if trained and rows >= config.index_retrain_growth * int(trained.group(1)):
            _build(table, config, rows, where)
            table.drop_index(index.name)
        else:
            log.info("%s: adding %d rows to the vector index", where, index.num_unindexed_rows)
            table.optimize()
    elif table.stats()["fragment_stats"]["num_small_fragments"] >= SMALL_FRAGMENTS:
        table.optimize()


def tune(query: Any, table: Any, config: IndexSettings) -> Any:
    """The vector query set up to use the index well, when the table has one."""
    if vector_index(table) is None:
        return query
    return query.nprobes(config.nprobes).refine_factor(config.refine_factor)


def _build(table: Any, config: IndexSettings, rows: int, where: str) -> None:
    from lancedb.index import IvfFlat, IvfPq, IvfSq

    kinds = {"IVF_SQ": IvfSq, "IVF_FLAT": IvfFlat, "IVF_PQ": IvfPq}
    partitions = config.index_partitions or None  # None: LanceDB's choice for the row count
    index = kinds[config.index_type](distance_type="cosine", num_partitions=partitions)
    log.info("%s: training the %s vector index on %d rows", where, config.index_type, rows)
    table.create_index(VECTOR, config=index, name=NAME.format(rows=rows), replace=True)


def _index_filters(table: Any) -> None:
    """Scalar indexes on the columns searches filter by and `count`/`delete_media` look up, so a
    prefilter reads an index instead of the column; `optimize()` keeps them up to date too."""
    from lancedb.index import Bitmap, BTree

    table.create_index("modality", config=Bitmap(), replace=True)
    table.create_index("media_id", config=BTree(), replace=True)
