"""Audio and video for the Embed API v2 route (`server_v2`): a span cut into fixed segments,
each embedded the way `ingest` and v1.3 embed media with this embedder.

- `audio` entries: each segment as an `AudioSegment` with the words spoken in it (a transcript
  embedder embeds those words, so a segment without speech gives no entry, as in v1.3);
- `transcription` entries: the same words as text, cut to the model's token limit;
- `visual` entries (video): the keyframes of the shots inside the segment (one per piece of a
  shot in it, at the piece's middle), read by OCR for an "ocr" embedder (the segment's vector
  is that of their text; none without readable text) or embedded as pictures by a "file" one
  (the mean of their vectors, normalised);
- `asset` scope: one entry of each option for the whole span.

One file at a time: keyframes are written into the request's temporary folder and deleted as
soon as they are read.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vtembed.embedder import Embeddable, Embedder
from vtembed.errors import MediaError
from vtembed.frames import Shot, VideoStream, detect_shots, video_stream
from vtembed.keyframes import extract_keyframe
from vtembed.media import probe
from vtembed.models import AudioSegment, ImageFrame, TextChunk, Transcript
from vtembed.server_audio import AudioService, _embed_all
from vtembed.server_errors import ApiError
from vtembed.server_image import fit_words
from vtembed.settings import Settings

MAX_SPAN_SEC = 600.0
END_SLACK_SEC = 0.5
"""`end_sec` past the media's end by up to this much is cut to the end; more is refused."""
OPTIONS = {"audio": ("audio", "transcription"), "video": ("visual", "audio", "transcription")}
SCOPES = ("clip", "asset")
_ENTRY_KEYS = ("embedding_option", "embedding_scope", "start_sec", "end_sec")
Heard = tuple[int, float, Transcript | None]
"""The sound's stream index, its decoded length and its words (if transcribed)."""


def bad(message: str, code: str = "parameter_invalid") -> ApiError:
    """A refusal as TwelveLabs answers it: 400 and `{code, message}`."""
    return ApiError(400, code, message)


def entry(vector: list[float], *about: str | float) -> dict[str, Any]:
    """One `data` item (SDK type `EmbeddingData`): the option, scope, start and end given, in
    that order, and null for the rest (a text or a picture has none)."""
    return {"embedding": vector, **dict(itertools.zip_longest(_ENTRY_KEYS, about))}


@dataclass(frozen=True)
class Plan:
    kind: str
    start: float
    end: float | None
    segment_sec: float
    options: tuple[str, ...]
    scopes: tuple[str, ...]


class MediaV2:
    """One per server, sharing v1.3's `AudioService` (one Whisper model, behind its lock)."""

    def __init__(self, settings: Settings, embedder: Embedder, audio: AudioService) -> None:
        self.settings = settings
        self.embedder = embedder
        self.audio = audio

    async def embed(
        self, plan: Plan, path: Path, folder: Path, label: str
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The `data` entries and the metadata of an audio or video request."""
        kind = plan.kind
        stream = None
        duration = 0.0
        if kind == "video":
            stream = await asyncio.to_thread(_video_stream, path, label)
            duration = stream.duration_sec
            _span_end(kind, plan, duration)  # before any decoding
        heard = None
        if {"audio", "transcription"} & set(plan.options):
            heard = await asyncio.to_thread(self._hear, path, label, plan)
            if heard is not None and kind == "audio":
                duration = heard[1]
        end = _span_end(kind, plan, duration)
        spans = _segments(plan.start, end, plan.segment_sec)
        data: list[dict[str, Any]] = []
        if heard is not None:
            data += await self._heard(plan, spans, end, str(path), heard)
        if "visual" in plan.options and stream is not None:
            data += await self._seen(plan, spans, end, stream, folder)
        data.sort(key=lambda d: (d["embedding_scope"] != "clip", d["start_sec"]))
        meta = {
            "embedding_options": list(plan.options),
            "embedding_scopes": list(plan.scopes),
            "duration": round(duration, 3),
            "start_offset_sec": plan.start,
            "end_offset_sec": end,
        }
        if kind == "video":
            meta["clip_length"] = int(plan.segment_sec)
        return data, meta

    def _hear(self, path: Path, label: str, plan: Plan) -> Heard | None:
        """Blocking: decode (and transcribe) the sound, the span checked against the length
        ffprobe gives before that; None for a video without sound (no audio entries, as v1.3
        gives none for silence)."""
        try:
            info = probe(str(path))
        except MediaError as exc:
            if plan.kind == "video":
                return None
            raise bad(f"{label}: {exc}", "media_invalid") from None
        if plan.kind == "audio" and info.duration_sec:
            _span_end(plan.kind, plan, info.duration_sec)
        needs = self.embedder.audio_embedded_from == "transcript" or (
            "transcription" in plan.options
        )
        info, duration, transcript = self.audio.decode(path, label, transcribe=needs)
        return info.audio_stream, duration, transcript

    async def _heard(
        self, plan: Plan, spans: list[tuple[float, float]], end: float, path: str, heard: Heard
    ) -> list[dict[str, Any]]:
        from vtembed.server import fit_text

        stream, _, transcript = heard
        wanted: list[tuple[Embeddable, str, str]] = []
        scoped = [("clip", s) for s in spans if "clip" in plan.scopes]
        if "asset" in plan.scopes:
            scoped.append(("asset", (plan.start, end)))
        for i, (scope, (a, b)) in enumerate(scoped):
            words = transcript.words_between(a, b) if transcript else ()
            text = "".join(w.text for w in words).strip()
            if "audio" in plan.options:
                seg = AudioSegment(i, a, b, path, stream, text=text)
                if self.embedder.wants(seg):
                    wanted.append((seg, "audio", scope))
            if "transcription" in plan.options and text:
                limit = self.embedder.text_token_limit
                chunk = await asyncio.to_thread(fit_text, text, limit, "end")
                wanted.append((TextChunk(chunk.text, a, b, chunk.tokens), "transcription", scope))
        vectors = await _embed_all(self.embedder, [w[0] for w in wanted])
        return [
            entry(v, option, scope, item.start_sec, item.end_sec)
            for (item, option, scope), v in zip(wanted, vectors, strict=True)
        ]

    async def _seen(
        self,
        plan: Plan,
        spans: list[tuple[float, float]],
        end: float,
        stream: VideoStream,
        folder: Path,
    ) -> list[dict[str, Any]]:

        frames = self.settings.frames
        shots = await asyncio.to_thread(
            detect_shots,
            stream,
            threshold=frames.scene_threshold,
            min_shot_sec=frames.min_shot_sec,
            max_shot_sec=frames.max_shot_sec,
        )
        out: list[dict[str, Any]] = []
        texts: list[str] = []
        vectors: list[list[float]] = []
        for a, b in spans:
            seen = [await self._look(stream, piece, folder) for piece in _pieces(shots, a, b)]
            texts += [t for t, _ in seen if t]
            vectors += [v for _, v in seen if v is not None]
            vector = await self._combine([t for t, _ in seen], [v for _, v in seen if v], a, b)
            if vector is not None and "clip" in plan.scopes:
                out.append(entry(vector, "visual", "clip", a, b))
        if "asset" in plan.scopes:
            vector = await self._combine(texts, vectors, plan.start, end)
            if vector is not None:
                out.append(entry(vector, "visual", "asset", plan.start, end))
        return out

    async def _look(
        self, stream: VideoStream, piece: Shot, folder: Path
    ) -> tuple[str, list[float] | None]:
        """One keyframe: its text ("ocr") or its vector ("file"), the files deleted at once."""
        key = await asyncio.to_thread(extract_keyframe, stream, piece, folder / "keyframes")
        try:
            if self.embedder.image_input == "ocr":
                from vtembed.ocr import read_text

                result = await asyncio.to_thread(read_text, key.image)
                return result.text, None
            frame = ImageFrame(0, piece.start_sec, piece.end_sec, str(key.image), str(key.image))
            [vector] = await self.embedder.embed([frame])
            return "", vector
        finally:
            key.image.unlink(missing_ok=True)
            key.thumbnail.unlink(missing_ok=True)

    async def _combine(
        self, texts: Sequence[str], vectors: Sequence[list[float]], a: float, b: float
    ) -> list[float] | None:
        """A stretch's one visual vector: of its keyframes' text (distinct, in order, cut to
        whole words within the limit, as `ingest` cuts a keyframe's), or their mean."""
        if self.embedder.image_input == "ocr":
            joined = " ".join(dict.fromkeys(t.strip() for t in texts if t.strip()))
            count = self.embedder.token_counter().count
            text = await asyncio.to_thread(fit_words, joined, count, self.embedder.text_token_limit)
            if not text:
                return None
            [vector] = await self.embedder.embed([ImageFrame(0, a, b, "", "", text)])
            return vector
        if not vectors:
            return None
        mean = [sum(column) / len(vectors) for column in zip(*vectors, strict=True)]
        norm = math.sqrt(sum(x * x for x in mean)) or 1.0
        return [x / norm for x in mean]


def _video_stream(path: Path, label: str) -> Any:

    try:
        stream = video_stream(str(path))
    except MediaError as exc:
        raise bad(f"{label}: {exc}", "media_invalid") from None
    if stream is None:
        raise bad(f"{label}: the file has no video stream", "media_invalid")
    return stream


def check_span(kind: str, seconds: float) -> None:
    if seconds > MAX_SPAN_SEC:
        raise bad(
            f"{kind}: the span of {seconds:.3f} s is longer than {MAX_SPAN_SEC:g} s, the limit of "
            "the synchronous API (embedding tasks are not served here)",
            "media_duration_too_long",
        )


def _span_end(kind: str, plan: Plan, duration: float) -> float:
    """The span's end checked against the media's real length."""
    if plan.start >= duration:
        raise bad(
            f"{kind}.start_sec {plan.start:g} is not before the end of the {kind} "
            f"({duration:.3f} s)"
        )
    end = duration if plan.end is None else plan.end
    if end > duration + END_SLACK_SEC:
        raise bad(f"{kind}.end_sec {end:g} is past the end of the {kind} ({duration:.3f} s)")
    end = round(min(end, duration), 3)
    check_span(kind, end - plan.start)
    return end


def _segments(start: float, end: float, length: float) -> list[tuple[float, float]]:
    out = []
    at = start
    while at < end - 1e-3:
        stop = min(round(at + length, 3), end)
        out.append((round(at, 3), stop))
        at = stop
    return out


def _pieces(shots: Sequence[Shot], a: float, b: float) -> list[Shot]:
    """The parts of shots inside [a, b), each with its keyframe at its middle; parts shorter
    than 2 s (a cut just inside the segment) are left out unless nothing else is there."""
    parts = []
    for shot in shots:
        lo, hi = max(shot.start_sec, a), min(shot.end_sec, b)
        if hi - lo > 1e-3:
            parts.append(Shot(len(parts), lo, hi, round((lo + hi) / 2, 3)))
    long = [p for p in parts if p.duration_sec >= 2.0]
    return long or sorted(parts, key=lambda p: -p.duration_sec)[:1]
