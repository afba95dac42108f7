"""Full-text search over a JSONL store: BM25 over the records' `text`, computed per query.

The file has no index to keep up to date, so each query streams it (as the vector scan does),
keeps only what BM25 needs of each matching record (its length in words and how often each query
word occurs in it) and scores at the end. Statistics (document count, average length, document
frequencies) are those of the records the filters let through, so a `--modality text` search
weighs words by how rare they are among text records.

Hand-written rather than a library: `rank-bm25` has not been released since 2022 and holds every
tokenised document in memory, `bm25s` builds a sparse index (with scipy) to query many times,
where this scores one query in one pass; BM25 itself is the few lines below. Words are those of
`vtembed.ranking.words`, so "2019" and "X-42" match exactly.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from vtembed.ranking import words

K1 = 1.2
"""How fast repeated words stop adding (Lucene's and Elasticsearch's default)."""
B = 0.75
"""How much a long record's score is scaled down for its length (the usual default)."""


def text_search_file(
    path: Path, query: str, k: int, matches: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """The k records of the file best matching the query's words, best first, each without
    `embedding` and with `score` = BM25; records sharing no word with the query are left out."""
    wanted = set(words(query))
    if k <= 0 or not wanted or not path.exists():
        return []
    docs = 0
    total_length = 0
    frequencies: Counter[str] = Counter()
    found: list[tuple[dict[str, Any], int, dict[str, int]]] = []
    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                break  # a writer is appending this line right now
            record = orjson.loads(line)
            if not matches(record):
                continue
            tokens = words(record.get("text") or "")
            docs += 1
            total_length += len(tokens)
            counts = Counter(t for t in tokens if t in wanted)
            if counts:
                frequencies.update(counts.keys())
                record.pop("embedding", None)
                found.append((record, len(tokens), dict(counts)))
    if not found:
        return []
    average = total_length / docs
    idf = {w: math.log(1 + (docs - n + 0.5) / (n + 0.5)) for w, n in frequencies.items()}
    query_counts = Counter(words(query))

    def bm25(length: int, counts: dict[str, int]) -> float:
        norm = K1 * (1 - B + B * length / average) if average else K1
        return sum(
            query_counts[w] * idf[w] * tf * (K1 + 1) / (tf + norm) for w, tf in counts.items()
        )

    scored = ((bm25(length, counts), i) for i, (_, length, counts) in enumerate(found))
    best = heapq.nlargest(k, scored, key=lambda pair: (pair[0], -pair[1]))
    return [{**found[i][0], "score": score} for score, i in best]
