"""Synthetic embedding records for sink tests: one builder, so every sink is tested on the same
record shape the pipeline writes."""

from __future__ import annotations

from vtembed.models import EmbeddingRecord, Modality, record_id


def make_record(
    media: str,
    start: float,
    embedding: list[float],
    *,
    model: str = "m",
    modality: Modality = "text",
    title: str | None = None,
) -> EmbeddingRecord:
    """A one-second record of `media` at `start`; its id is the stable id the pipeline uses."""
    return EmbeddingRecord(
        id=record_id(media, modality, start, start + 1, model),
        media={
            "id": media,
            "uri": f"file:///{media}",
            "title": media if title is None else title,
            "source": "local",
            "duration_sec": 9.0,
        },
        modality=modality,
        start_sec=start,
        end_sec=start + 1,
        text=f"words at {start}",
        tokens=5,
        model_name=model,
        dim=len(embedding),
        embedding=embedding,
        embedded_from="transcript" if modality == "audio" else None,
    )
