"""Putting rankings together: reciprocal rank fusion (RRF) of a search's candidate lists.

A vector search scores by cosine similarity, a full-text search by BM25, and the two scales
share nothing: a cosine of 0.4 may be the best an image keyframe ever gets against a text query
while a transcript chunk reaches 0.7, and a BM25 score grows with the query's length and the
words' rarity. Rather than calibrate scores that were never meant to be compared, RRF compares
places: a record ranked r-th in a list earns 1 / (RRF_K + r), summed over the lists it appears in.

Every list is split by modality first and each part is ranked on its own, so the best image
record and the best text record earn the same from one retriever: modalities become comparable
before they are mixed (grouping then mixes them). The sum is divided by the most a record could
earn (first in every retriever's list of its modality), so a fused score lies in (0, 1] and 1.0
means "ranked first by every ranking". A record only one ranking can find (a
keyframe without words, which no full-text search finds) earns at most 1/2 in hybrid search: it
has one piece of evidence where a transcript chunk can have two. Measured against its one
ranking instead, the best keyframe of an archive would be 1.0 for any query and come first.

Pure functions of the candidate lists, so they test without a store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

RRF_K = 60
"""The constant of Cormack, Clarke and Büttcher (SIGIR 2009), which Elasticsearch, OpenSearch,
Milvus and LanceDB also use by default: large enough that the first few places of one list do
not drown the agreement of the others (1/61 against 1/62 is a 2% step), small enough that a
record near the top of one list still beats one that is middling in both."""

_WORD = re.compile(r"\w+(?:[-.]\w+)*")


def words(text: str) -> list[str]:
    """Lower-case words and numbers for full-text matching. A code written with `-` or `.`
    ("X-42", "v2.3") is kept whole, as a word of its own, and its parts are words too, so the
    code matches exactly and each part still matches alone; "2019." is the number 2019."""
    out: list[str] = []
    for token in _WORD.findall(text.lower()):
        out.append(token)
        if "-" in token or "." in token:
            out.extend(part for part in re.split(r"[-.]", token) if part)
    return out


def fuse(
    rankings: Mapping[str, Sequence[Mapping[str, Any]]], *, rrf_k: int = RRF_K
) -> list[dict[str, Any]]:
    """The records of all the lists, once each, best first, scored by RRF.

    `rankings` maps a retriever's name ("vector", "text") to its hits, best first, each a
    record with `id`, `modality` and `score`. A fused record keeps each retriever's own score
    as `<name>_score` (None where that retriever did not find it) and its fused `score`. Ties
    keep the order of the first list that holds the records.
    """
    if not rankings:
        return []
    fused: dict[str, float] = {}
    merged: dict[str, dict[str, Any]] = {}
    first_seen: dict[str, tuple[int, int]] = {}
    for order, (name, hits) in enumerate(rankings.items()):
        places: dict[str, int] = {}
        for position, hit in enumerate(hits):
            record_id = str(hit["id"])
            if record_id in merged and f"{name}_score" in merged[record_id]:
                continue  # a list that names a record twice counts its first place only
            modality = str(hit["modality"])
            places[modality] = places.get(modality, 0) + 1
            fused[record_id] = fused.get(record_id, 0.0) + 1.0 / (rrf_k + places[modality])
            entry = merged.setdefault(record_id, {k: v for k, v in hit.items() if k != "score"})
            entry[f"{name}_score"] = float(hit["score"])
            first_seen.setdefault(record_id, (order, position))
    best_possible = len(rankings) / (rrf_k + 1)
    out = []
    for record_id, entry in merged.items():
        for name in rankings:
            entry.setdefault(f"{name}_score", None)
        entry["score"] = fused[record_id] / best_possible
        out.append(entry)
    out.sort(key=lambda e: (-e["score"], first_seen[str(e["id"])]))
    return out
