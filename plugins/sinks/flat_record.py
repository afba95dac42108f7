"""Records as database rows: `media.x` flattened to `media_x` columns and the embedding as
`vector`, and back to the JSONL record shape for search hits.

Database sinks store the same fields so that a hit reads the same whichever store it came from.
A store made before the provenance columns existed (`PROVENANCE`) has rows without them; such a
row reads back as the JSONL record of that time did, without those fields.
"""

from __future__ import annotations

from typing import Any

from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord

MEDIA_KEYS = ("id", "uri", "title", "source", "duration_sec", "published", "guid", "language")
OPTIONAL_MEDIA_KEYS = ("duration_sec", "published", "guid", "language")
"""Left out of a hit's `media` when the row holds no value, as the JSONL record leaves them."""
PROVENANCE = ("media_language", "transcript_source", "times_interpolated")
"""Columns newer than the first stores: where a record's words came from, whether its times are
estimates, the media's language. A sink adds them to an older store or writes without them."""


def to_row(record: EmbeddingRecord) -> dict[str, Any]:
    """The record as one flat row; a vector of the wrong length is refused before it is stored."""
    if len(record.embedding) != record.dim:
        raise UsageError(f"record {record.id} has {len(record.embedding)} dims, not {record.dim}")
    row: dict[str, Any] = {"id": record.id}
    row.update({f"media_{key}": record.media.get(key) for key in MEDIA_KEYS})
    row.update(
        modality=record.modality,
        start_sec=record.start_sec,
        end_sec=record.end_sec,
        text=record.text,
        tokens=record.tokens,
        embedded_from=record.embedded_from,
        transcript_source=record.transcript_source,
        times_interpolated=bool(record.times_interpolated),
        model_name=record.model_name,
        dim=record.dim,
        vector=record.embedding,
    )
    return row


def from_row(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as the JSONL record (nested `media`, no vector). Optional columns a row
    lacks (an older store's) read as empty; `times_interpolated` appears only when true, as
    `EmbeddingRecord.to_json` writes it."""
    media = {key: row.get(f"media_{key}") for key in MEDIA_KEYS}
    for key in OPTIONAL_MEDIA_KEYS:
        if media[key] is None:
            del media[key]
    out: dict[str, Any] = {
        "id": row["id"],
        "media": media,
        "modality": row["modality"],
        "start_sec": row["start_sec"],
        "end_sec": row["end_sec"],
        "text": row["text"],
        "tokens": row["tokens"],
    }
    if row.get("embedded_from") is not None:
        out["embedded_from"] = row["embedded_from"]
    if row.get("transcript_source") is not None:
        out["transcript_source"] = row["transcript_source"]
    if row.get("times_interpolated"):
        out["times_interpolated"] = True
    out.update(model_name=row["model_name"], dim=row["dim"])
    return out
