"""The Milvus sink's full-text search: BM25 through Milvus' own BM25 function.

A collection made on Milvus Lite 3 or a Milvus 2.5+ server keeps, beside `text` (analysed by
Milvus' standard analyzer: lower-cased words split at anything else, so "X-42" is `x` and `42`),
a sparse vector field that Milvus fills from it by its BM25 function and searches with a sparse
inverted index; the sink never writes that field. Collections made before this existed, or on
an older server (the Milvus 2.3 the tests run has no BM25), have no such field: full-text search
on them raises NotImplementedError, which hybrid search turns into a vectors-only search and a
note. Re-ingesting into a new collection (another `[milvus] collection_prefix`) adds it.

The query is handed over as the words `vtembed.ranking.words` finds in it. Milvus answers with
the BM25 score as `distance`; hits keep it as `score` (higher is better).
"""

from __future__ import annotations

from typing import Any

from vtembed.plugins.sinks import milvus_connect
from vtembed.plugins.sinks import milvus_schema as schema
from vtembed.plugins.sinks.flat_record import from_row
from vtembed.ranking import words

MAX_TOP_K = 16384  # Milvus refuses a larger limit


class MilvusFullText:
    """`text_search` for `MilvusSink`, which provides the attributes it reads."""

    client: Any
    collection: str
    config: Any
    exists: bool
    full_text: bool
    nullable: bool
    output_fields: list[str]
    timeout: float
    where: milvus_connect.Where

    def _settle(self) -> None: ...

    def text_search(
        self, query: str, k: int, filters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        terms = " ".join(words(query))
        if k <= 0 or not self.exists or not terms:
            return []
        if not self.full_text:
            raise NotImplementedError(
                f"{self.where.label}: collection {self.collection} was made without a "
                "full-text field (by an older vtembed, or on a Milvus server before 2.5); "
                "ingest into a new [milvus] collection_prefix for full-text search"
            )
        self._settle()
        with milvus_connect.calling(self.where, "full-text search"):
            found = self.client.search(
                self.collection,
                data=[terms],
                anns_field=schema.TEXT_SPARSE,
                limit=min(k, MAX_TOP_K),
                filter=schema.filter_expr(filters or {}),
                output_fields=self.output_fields,
                search_params={"metric_type": "BM25"},
                consistency_level=self.config.consistency,
                timeout=self.timeout,
            )
        hits = []
        for hit in found[0]:
            entity = hit["entity"]
            if not self.nullable:
                entity = schema.without_placeholders(entity)
            hits.append({**from_row(entity), "score": abs(float(hit["distance"]))})
        hits.sort(key=lambda h: h["score"], reverse=True)
        return hits
