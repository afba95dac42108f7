"""The stages of an ingest and their order; an executor decides how they are scheduled.

    open + probe ─► decode windows ─► transcribe ─► chunk + segment ─► embed ─► write + mark done

Each stage is a method that takes the previous stage's value. Errors are isolated per item: one
bad file fails alone, and its records are never half-written (old records of a changed file are
replaced only once the new ones are ready).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from vtembed.chunking import chunk_transcript
from vtembed.clip_tokens import get_counter
from vtembed.embedder import Embeddable, Embedder
from vtembed.media import DecodeResult, audio_segments, pcm_windows, probe
from vtembed.models import (
    AudioSegment,
    EmbeddingRecord,
    MediaInfo,
    MediaItem,
    TextChunk,
    Transcript,
    record_id,
)
from vtembed.progress import Reporter
from vtembed.settings import Settings
from vtembed.sink import Sink
from vtembed.source import Source
from vtembed.state import RunState
from vtembed.transcribe import Transcriber


@dataclass(frozen=True)
class Transcribed:
    item: MediaItem
    info: MediaInfo
    duration_sec: float
    transcript: Transcript


@dataclass(frozen=True)
class Planned:
    """What goes to the embedder for one item: its text chunks, then its audio segments."""

    item: MediaItem
    duration_sec: float
    inputs: tuple[Embeddable, ...]


@dataclass
class Stages:
    settings: Settings
    sources: dict[str, Source]
    transcriber: Transcriber
    embedder: Embedder
    sink: Sink
    state: RunState
    reporter: Reporter

    def transcribe(self, item: MediaItem) -> Transcribed:
        path = self.sources[item.source].open(item)
        info = probe(str(path))
        self.reporter.item_start(item.label, info.duration_sec)
        decoded = DecodeResult()
        windows = pcm_windows(info, self.settings.whisper.window_sec, decoded)
        transcript = self.transcriber.transcribe(
            windows, lambda sec: self.reporter.item_progress(item.label, sec)
        )
        if decoded.warning:
            self.reporter.warn(item.label, decoded.warning)
        return Transcribed(item, info, decoded.duration_sec, transcript)

    def plan(self, done: Transcribed) -> Planned:
        counter = get_counter()
        chunks = chunk_transcript(
            done.transcript,
            max_tokens=self.embedder.text_token_limit,
            count=counter.count,
            max_pause_sec=self.settings.max_pause_sec,
        )
        segments = [
            replace(seg, text=_spoken(done.transcript, seg), media_uri=done.item.uri)
            for seg in audio_segments(done.info, done.duration_sec, self.embedder.audio_segment_sec)
        ]
        inputs = [x for x in (*chunks, *segments) if self.embedder.wants(x)]
        return Planned(done.item, done.duration_sec, tuple(inputs))

    async def embed(self, planned: Planned) -> list[EmbeddingRecord]:
        size = max(1, min(self.settings.embed_batch_size, self.embedder.batch_size))
        vectors: list[list[float]] = []
        for start in range(0, len(planned.inputs), size):
            batch = planned.inputs[start : start + size]
            vectors.extend(await self.embedder.embed(batch))
        return build_records(planned, vectors, self.embedder)

    def write(self, item: MediaItem, records: Sequence[EmbeddingRecord]) -> int:
        if self.sink.count(item.id):
            self.sink.delete_media(item.id)
        written = self.sink.write(records)
        self.state.mark_done(item, len(records))
        return written


def build_records(
    planned: Planned, vectors: list[list[float]], embedder: Embedder
) -> list[EmbeddingRecord]:
    if len(vectors) != len(planned.inputs):
        raise RuntimeError(
            f"embedder returned {len(vectors)} vectors for {len(planned.inputs)} inputs"
        )
    item = planned.item
    media = media_fields(item, planned.duration_sec)
    counter = get_counter()
    records = []
    for source, vector in zip(planned.inputs, vectors, strict=True):
        if len(vector) != embedder.dim:
            raise RuntimeError(f"embedder returned {len(vector)} dims, model has {embedder.dim}")
        audio = isinstance(source, AudioSegment)
        modality = "audio" if audio else "text"
        tokens = source.tokens if isinstance(source, TextChunk) else counter.count(source.text)
        records.append(
            EmbeddingRecord(
                id=record_id(
                    item.id, modality, source.start_sec, source.end_sec, embedder.model_name
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
                embedded_from=embedder.audio_embedded_from if audio else None,
            )
        )
    return records


def media_fields(item: MediaItem, duration_sec: float) -> dict[str, object]:
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
    return media


def _spoken(transcript: Transcript, segment: AudioSegment) -> str:
    return "".join(
        w.text for w in transcript.words_between(segment.start_sec, segment.end_sec)
    ).strip()
