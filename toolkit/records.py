"""Records of an item's embedded inputs: ids, the item's media fields, and the checks a vector
passes before it is stored.

Which fields a record carries follows what made its input: `transcript_source` for the text and
audio of an item whose transcript came from Whisper or from captions, `times_interpolated` for a
text chunk cut inside a caption cue, `media.language` once the transcript's language is known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vtembed.embedder import Embeddable, Embedder
from vtembed.errors import MediaError
from vtembed.hits import time_range
from vtembed.models import (
    AudioSegment,
    EmbeddingRecord,
    ImageFrame,
    MediaItem,
    Modality,
    TextChunk,
    VideoClip,
    record_id,
)

if TYPE_CHECKING:
    from vtembed.pipeline import Planned


def build_records(
    planned: Planned, vectors: list[list[float]], embedder: Embedder
) -> list[EmbeddingRecord]:
    """Records for some of an item's inputs and their vectors, in the inputs' order; the
    duration is the item's (the same in every record of it)."""
    for vector in vectors:
        if len(vector) != embedder.dim:
            raise RuntimeError(f"embedder returned {len(vector)} dims, model has {embedder.dim}")
    refuse_non_finite(planned, vectors, embedder)
    item = planned.item
    media = media_fields(item, planned.duration_sec, planned.language)
    counter = embedder.token_counter()
    records = []
    for source, vector in zip(planned.inputs, vectors, strict=True):
        modality = modality_of(source)
        tokens = source.tokens if isinstance(source, TextChunk) else counter.count(source.text)
        records.append(
            EmbeddingRecord(
                id=record_id(
                    item.id,
                    modality,
                    source.start_sec,
                    source.end_sec,
                    embedder.model_name,
                    item.fingerprint,
                ),
                media=media,
                modality=modality,
                start_sec=source.start_sec,
                end_sec=source.end_sec,
                text=source.text,
                tokens=tokens,
                model_name=embedder.model_name,
                dim=embedder.dim,
                embedding=vector,
                embedded_from=_embedded_from(modality, embedder),
                transcript_source=planned.source if modality in ("text", "audio") else None,
                times_interpolated=bool(getattr(source, "times_interpolated", False)),
            )
        )
    return records


def modality_of(source: Embeddable) -> Modality:
    if isinstance(source, AudioSegment):
        return "audio"
    if isinstance(source, VideoClip):
        return "video"
    return "image" if isinstance(source, ImageFrame) else "text"


def _embedded_from(modality: Modality, embedder: Embedder) -> str | None:
    if modality == "audio":
        return embedder.audio_embedded_from
    return "ocr" if modality == "image" and embedder.image_input == "ocr" else None


def refuse_non_finite(planned: Planned, vectors: list[list[float]], embedder: Embedder) -> None:
    """A vector with NaN or infinity scores as nothing in any search, and a vector database
    would store it silently: the item fails, naming the input, before its batch is stored (the
    store takes out what earlier batches of the item stored)."""
    if not vectors:
        return
    finite = np.isfinite(np.asarray(vectors, dtype=np.float64)).all(axis=1)
    if finite.all():
        return
    source = planned.inputs[int(np.argmin(finite))]
    kind = {
        "audio": "audio segment",
        "image": "keyframe",
        "text": "text chunk",
        "video": "video clip",
    }[modality_of(source)]
    raise MediaError(
        f"embedder {embedder.name} returned NaN or infinity for the {kind} at "
        f"{time_range(source.start_sec, source.end_sec)}"
    )


def media_fields(
    item: MediaItem, duration_sec: float, language: str | None = None
) -> dict[str, object]:
    media: dict[str, object] = {
        "id": item.id,
        "uri": item.uri,
        "title": item.title,
        "source": item.source,
        "duration_sec": round(duration_sec, 3),
    }
    if item.published:
        media["published"] = item.published
    if item.guid:
        media["guid"] = item.guid
    if language:
        media["language"] = language
    return media
