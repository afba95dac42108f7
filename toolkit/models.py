"""The typed values that flow between stages.

Every arrow in the pipeline carries one of these; stages never pass dicts or tuples around, so a
plugin author can read this one file and know the whole data model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Modality = Literal["text", "audio", "image", "video"]


@dataclass(frozen=True)
class MediaItem:
    """One media file or stream found by a source, identified stably across runs."""

    id: str
    uri: str
    title: str
    source: str
    fingerprint: str = ""
    """Changes when the content changes (size + mtime for files); a new value means redo."""
    published: str | None = None
    guid: str | None = None
    origin: str = ""
    """The locator that found the item (local ones absolute), so `prune` knows what a feed or
    folder covers; set by discovery, empty in items a source builds."""
    transcript_url: str | None = None
    """Captions the source knows of for this item (a feed's `podcast:transcript`): the host
    fetches them and uses them instead of Whisper (see `[captions] prefer`)."""
    transcript_type: str | None = None
    """Their MIME type as the source gave it (application/x-subrip, text/vtt, application/json)."""

    @property
    def label(self) -> str:
        """How messages name the item: a local path for files, else the URI."""
        if self.uri.startswith("file://"):
            from urllib.parse import unquote, urlparse

            return unquote(urlparse(self.uri).path)
        return self.uri


@dataclass(frozen=True)
class MediaInfo:
    """What ffprobe says about an opened item: enough to decode its default audio stream."""

    path: str
    duration_sec: float
    audio_stream: int
    """Index of the chosen audio stream among the file's audio streams (for ffmpeg's `a:N`)."""
    codec: str = ""


@dataclass(frozen=True)
class AudioSegment:
    """A span of the item's audio, in absolute seconds of the original media."""

    index: int
    start_sec: float
    end_sec: float
    path: str
    """The local file the span is cut from (embedders that upload audio cut it with ffmpeg)."""
    audio_stream: int = 0
    text: str = ""
    """What was said inside the span (filled in after transcription)."""
    media_uri: str = ""
    """The item's URI, for embedders that can fetch remote media themselves (`audio_url`)."""
    samples: Any = field(default=None, repr=False, compare=False)
    """The span's decoded audio (16 kHz mono float32 numpy samples) for an embedder that uploads
    this item's audio (`Embedder.uploads_audio`), while the overlapped pipeline still has it;
    else None. Only the embedder call holds it: an item's job keeps its segments without their
    samples, so a long item never holds all its audio."""

    def without_samples(self) -> AudioSegment:
        return self if self.samples is None else replace(self, samples=None)


@dataclass(frozen=True)
class VideoClip:
    """A span of the item's picture, in absolute seconds, for an embedder that embeds moving
    pictures itself (`Embedder.video_input`): at most `[frames] clip_sec` long and inside one
    shot, so each clip is one scene. The embedder cuts it from `path` (or sends `media_uri`
    with the span)."""

    index: int
    start_sec: float
    end_sec: float
    path: str
    video_stream: int = 0
    media_uri: str = ""
    text: str = ""
    """Always empty: a clip is embedded from what is seen, not from words."""


@dataclass(frozen=True)
class Word:
    """One transcribed word with absolute times; `text` keeps Whisper's leading space."""

    text: str
    start_sec: float
    end_sec: float
    probability: float = 1.0


@dataclass(frozen=True)
class Transcript:
    words: tuple[Word, ...]
    language: str = "en"

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words).strip()

    def words_between(self, start_sec: float, end_sec: float) -> tuple[Word, ...]:
        """Words whose midpoint lies in [start, end): each word belongs to exactly one span."""
        out = []
        for w in self.words:
            mid = (w.start_sec + w.end_sec) / 2
            if start_sec <= mid < end_sec:
                out.append(w)
        return tuple(out)


@dataclass(frozen=True)
class TextChunk:
    """A piece of transcript that fits the embedder's text token limit."""

    text: str
    start_sec: float
    end_sec: float
    tokens: int


@dataclass(frozen=True)
class ImageFrame:
    """A shot's keyframe, standing for the shot's span [start, end) in absolute seconds.

    `text` is what OCR read in the picture, for an embedder that embeds a picture by its text
    (`Embedder.image_input == "ocr"`), else empty; the files are the keyframe (what an embedder
    with `image_input == "file"` reads) and its thumbnail, JPEG."""

    index: int
    start_sec: float
    end_sec: float
    image_path: str
    thumbnail_path: str
    text: str = ""


@dataclass(frozen=True)
class EmbeddingRecord:
    """One stored vector with everything needed to answer "which media, at what second"."""

    id: str
    media: dict[str, Any]
    modality: Modality
    start_sec: float
    end_sec: float
    text: str
    tokens: int
    model_name: str
    dim: int
    embedding: list[float] = field(repr=False)
    embedded_from: str | None = None
    transcript_source: str | None = None
    """Where the text of a text or audio record came from: whisper, sidecar, stream or feed."""
    times_interpolated: bool = False
    """A text record cut inside a caption cue: its start or end is an estimate."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "media": self.media,
            "modality": self.modality,
            "start_sec": self.start_sec,
            "end_sec": self.end_sec,
            "text": self.text,
            "tokens": self.tokens,
        }
        if self.embedded_from is not None:
            out["embedded_from"] = self.embedded_from
        if self.transcript_source is not None:
            out["transcript_source"] = self.transcript_source
        if self.times_interpolated:
            out["times_interpolated"] = True
        out.update(model_name=self.model_name, dim=self.dim, embedding=self.embedding)
        return out


def stable_id(*parts: object) -> str:
    """A short, stable hash: the same inputs give the same id on every run and machine."""
    text = "\x1f".join(_canonical(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _canonical(part: object) -> str:
    # Times are rounded to milliseconds so float noise never changes an id.
    if isinstance(part, float):
        return f"{part:.3f}"
    return str(part)


def record_id(
    media_id: str, modality: Modality, start: float, end: float, model: str, fingerprint: str = ""
) -> str:
    """The fingerprint (when the item has one) is part of the id, so the records of a changed
    file's new version never overwrite its old ones while the new ones are being stored."""
    parts: list[object] = [media_id, modality, round(start, 3), round(end, 3), model]
    if fingerprint:
        parts.append(fingerprint)
    return stable_id(*parts)
