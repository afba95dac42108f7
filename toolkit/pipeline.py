"""The stages of an ingest and their order; an executor decides how they are scheduled.

    open + probe ─► decode windows ─► transcribe ─► chunk + segment ─► embed ─► store ─► mark done

Each stage is a method that takes the previous stage's value. The first four hand an item's
embedder inputs to an executor as messages (`Part`s, then `Ended`), made one of two ways:
`stream` window by window, each input as soon as it is final, so it can be embedded while Whisper
goes on; `at_once` (or `from_transcript`, for a transcript made elsewhere, as on a Ray worker)
from the whole transcript, one stage after the other. Both give the same inputs (a test compares
their records), so everything after them — embedding, writing, resume state, error isolation per
item — is one piece of code for every executor: `vtembed.executors.item_job`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from threading import Event

import numpy as np

from vtembed.embedder import Embeddable, Embedder
from vtembed.errors import MediaError, Stopped
from vtembed.frame_inputs import keyframe_inputs, takes_pictures
from vtembed.hits import time_range
from vtembed.media import DecodeResult, pcm_windows, probe
from vtembed.models import (
    AudioSegment,
    EmbeddingRecord,
    ImageFrame,
    MediaInfo,
    MediaItem,
    Modality,
    TextChunk,
    Transcript,
    VideoClip,
    record_id,
)
from vtembed.planning import ItemPlanner
from vtembed.prefetch import Ahead, prefetch
from vtembed.progress import Reporter
from vtembed.settings import Settings
from vtembed.source import Source
from vtembed.store import Store
from vtembed.transcriber import Transcriber


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


@dataclass(frozen=True)
class Part:
    """Inputs of one item that became final after a window: they can be embedded now."""

    item: MediaItem
    inputs: tuple[Embeddable, ...]
    media_sec: float
    """The item's length as probed: its records carry it (they are stored before the decoded
    length is known)."""


@dataclass(frozen=True)
class Ended:
    """The item is fully transcribed; every one of its inputs was in an earlier `Part`."""

    item: MediaItem
    duration_sec: float


@dataclass(frozen=True)
class ItemFailed:
    """The item failed before all its inputs were handed out; `error` is its one-line reason."""

    item: MediaItem
    error: str


Message = Part | Ended | ItemFailed
"""What the transcribing side of an executor hands to the embedding side, per item, in order."""


@dataclass
class Stages:
    settings: Settings
    sources: dict[str, Source]
    transcriber: Transcriber
    embedder: Embedder
    store: Store
    reporter: Reporter
    frames_root: Path | None = None
    """Where keyframes go (the store's frames folder, a dry run's throwaway one); None: none."""

    def stream(self, item: MediaItem, stop: Event | None = None) -> Iterator[Part | Ended]:
        """Open, decode (a window ahead, in a thread), transcribe and plan one item, yielding its
        inputs as Whisper settles them (segment by segment) and then `Ended`. Its keyframes are
        cut and read in a thread of their own beside Whisper (at most `frames_ahead` waiting):
        those ready go out between Whisper's segments, the rest after the sound. Once `stop` is
        set, Whisper is left between two of its segments by raising `Stopped`, and the picture
        thread ends at its next keyframe."""
        info = self._open(item)
        decoded = DecodeResult()
        pictures = self._pictures_beside(item, info, stop)
        try:
            yield from self._sound(item, info, decoded, stop, pictures)
            for frame in pictures or ():
                yield Part(item, (frame,), info.duration_sec)
        finally:
            if pictures is not None:
                pictures.close()
        yield Ended(item, decoded.duration_sec)

    def _sound(
        self,
        item: MediaItem,
        info: MediaInfo,
        decoded: DecodeResult,
        stop: Event | None,
        pictures: Ahead[ImageFrame] | None,
    ) -> Iterator[Part]:
        windows = prefetch(
            pcm_windows(info, self.settings.whisper.window_sec, decoded),
            self.settings.pipeline.windows_ahead,
        )
        planner = ItemPlanner(item, info, self.embedder, self.settings.max_pause_sec)

        def seen() -> Iterator[Part]:  # keyframes read by now, one Part each
            for frame in pictures.ready() if pictures is not None else ():
                yield Part(item, (frame,), info.duration_sec)

        for window in windows:
            planner.feed(window)
            for words in self.transcriber.window_groups(window, self._progress(item, stop)):
                # Whisper's words come in time order: none still to come starts earlier.
                inputs = planner.add(words, words[-1].start_sec)
                if inputs:
                    yield Part(item, tuple(inputs), info.duration_sec)
                yield from seen()
            reached = window.end_sec
            self.reporter.item_progress(item.label, reached)
            inputs = planner.add([], reached)
            if inputs:
                yield Part(item, tuple(inputs), info.duration_sec)
            yield from seen()
        if decoded.warning:
            self.reporter.warn(item.label, decoded.warning)
        rest = planner.finish(decoded.duration_sec)
        if rest:
            yield Part(item, tuple(rest), info.duration_sec)

    def _pictures_beside(
        self, item: MediaItem, info: MediaInfo, stop: Event | None
    ) -> Ahead[ImageFrame] | None:
        if not takes_pictures(self.settings.frames, self.embedder, self.frames_root):
            return None
        found = keyframe_inputs(item, info, self.settings.frames, self.embedder, self.frames_root)
        return Ahead(found, self.settings.pipeline.frames_ahead, "vtembed-frames", stop)

    def at_once(self, item: MediaItem) -> Iterator[Part | Ended]:
        """The item one stage after the other: the whole transcript, then its plan. Segments
        carry no samples (no window is kept for them), so an uploading embedder cuts them."""
        yield from self.from_transcript(self.transcribe(item))

    def from_transcript(self, done: Transcribed) -> Iterator[Part | Ended]:
        """A transcript's plan as one `Part`, then `Ended`."""
        planned = self.plan(done)
        yield Part(done.item, planned.inputs, done.info.duration_sec)
        yield from self.pictures(done.item, done.info)
        yield Ended(done.item, planned.duration_sec)

    def pictures(self, item: MediaItem, info: MediaInfo) -> Iterator[Part]:
        """The item's keyframes, one `Part` each, after its sound (see `vtembed.frame_inputs`)."""
        found = keyframe_inputs(item, info, self.settings.frames, self.embedder, self.frames_root)
        for frame in found:
            yield Part(item, (frame,), info.duration_sec)

    def transcribe(self, item: MediaItem) -> Transcribed:
        info = self._open(item)
        decoded = DecodeResult()
        windows = pcm_windows(info, self.settings.whisper.window_sec, decoded)
        transcript = self.transcriber.transcribe(windows, self._progress(item))
        if decoded.warning:
            self.reporter.warn(item.label, decoded.warning)
        return Transcribed(item, info, decoded.duration_sec, transcript)

    def plan(self, done: Transcribed) -> Planned:
        planner = ItemPlanner(done.item, done.info, self.embedder, self.settings.max_pause_sec)
        found = [
            *planner.add(done.transcript.words, done.duration_sec),
            *planner.finish(done.duration_sec),
        ]
        return Planned(done.item, done.duration_sec, tuple(found))

    def _open(self, item: MediaItem) -> MediaInfo:
        path = self.sources[item.source].open(item)
        info = probe(str(path))
        self.reporter.item_start(item.label, info.duration_sec)
        return info

    def _progress(self, item: MediaItem, stop: Event | None = None) -> Callable[[float], None]:
        def report(sec: float) -> None:
            if stop is not None and stop.is_set():
                raise Stopped
            self.reporter.item_progress(item.label, sec)

        return report

    @property
    def batch_size(self) -> int:
        """Inputs per embedder call: the configured size, within what the embedder takes."""
        return max(1, min(self.settings.embed_batch_size, self.embedder.batch_size))

    async def embed_inputs(self, inputs: Sequence[Embeddable]) -> list[list[float]]:
        """Vectors for inputs, in order, in calls of at most `batch_size`; an embedder that
        answers a call with another number of vectors fails the item here, before any pairing."""
        size = self.batch_size
        vectors: list[list[float]] = []
        for start in range(0, len(inputs), size):
            batch = inputs[start : start + size]
            got = await self.embedder.embed(batch)
            if len(got) != len(batch):
                raise RuntimeError(f"embedder returned {len(got)} vectors for {len(batch)} inputs")
            vectors.extend(got)
        return vectors


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
    media = media_fields(item, planned.duration_sec)
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
    }[
        modality_of(source)
    ]
    raise MediaError(
        f"embedder {embedder.name} returned NaN or infinity for the {kind} at "
        f"{time_range(source.start_sec, source.end_sec)}"
    )


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
