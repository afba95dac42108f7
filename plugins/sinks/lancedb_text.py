"""The LanceDB sink's full-text search: LanceDB's own (tantivy-free) BM25 index on `text`.

The index is made by the first write to a table (an empty table's index costs nothing) and by
the first full-text search of a table made before this existed. Rows written after it are not in
it until `optimize()` runs, which the vector index's upkeep calls (`lancedb_index.maintain`):
LanceDB searches those rows by a flat scan beside the index, so a search finds every row either
way. The index splits on anything not a letter or digit ("X-42" is `x` and `42`, both of which a
record saying "X-42" holds), lower-cases, stems English and drops stop words.

The query is handed over as the words `vtembed.ranking.words` finds in it, so quotes, `AND` or
`+` typed in a query are words, never syntax of LanceDB's query parser.
"""

from __future__ import annotations

import logging
from typing import Any

from vtembed.ranking import words

log = logging.getLogger(__name__)

COLUMN = "text"


def has_index(table: Any) -> bool:
    return any(i.index_type == "FTS" and COLUMN in i.columns for i in table.list_indices())


def ensure_index(table: Any) -> None:
    """Make the full-text index on `text` unless the table has one."""
    if has_index(table):
        return
    from lancedb.index import FTS

    log.info("building the full-text index on %s", COLUMN)
    table.create_index(COLUMN, config=FTS(), replace=True)


def search(table: Any, query: str, k: int, where: str) -> list[dict[str, Any]]:
    """The rows best matching the query's words, best first, each with `_score` (BM25)."""
    terms = " ".join(words(query))
    if not terms or k <= 0:
        return []
    ensure_index(table)
    from lancedb.query import MatchQuery

    builder = table.search(MatchQuery(terms, COLUMN), query_type="fts")
    if where:
        builder = builder.where(where, prefilter=True)
    return builder.limit(k).to_arrow().to_pylist()
