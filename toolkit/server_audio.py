"""Audio for `vtembed serve`: bring an upload or a URL onto the disk within the size limit, then
cut it into segments the way `ingest` does and give each the words spoken inside it.

ffprobe and ffmpeg need a path, so audio goes to a temporary file; bytes are counted while they
are written, so an over-large upload or download stops early instead of filling the disk.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import UploadFile

from vtembed.embedder import Embeddable, Embedder
from vtembed.errors import MediaError, VtembedError
from vtembed.media import DecodeResult, audio_segments, pcm_windows, probe
from vtembed.models import AudioSegment, MediaInfo, Transcript
from vtembed.server_errors import ApiError, mb_to_bytes, too_large
from vtembed.server_fetch import download
from vtembed.settings import Settings
from vtembed.transcriber import Transcriber

_CHUNK = 1 << 16
log = logging.getLogger(__name__)


async def save_upload(
    upload: UploadFile, dest: Path, limit_mb: float, label: str = "audio_file"
) -> None:
    """Copy in chunks: the upload may be tens of megabytes and is never held in memory.
    `label` is the form field, which messages name."""
    limit = mb_to_bytes(limit_mb)
    if upload.size is not None and upload.size > limit:
        raise too_large(label, limit_mb)
    written = 0
    with dest.open("wb") as out:
        while chunk := await upload.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise too_large(label, limit_mb)
            out.write(chunk)


class AudioService:
    """Turns uploaded or linked audio into the segments an embedder wants, with their spoken text,
    and embeds them.

    One per server: the Whisper model is loaded on the first audio request and reused, and a
    lock keeps requests from using it at the same time (it is not re-entrant)."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        transcriber_factory: Callable[[], Transcriber] | None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.factory = transcriber_factory
        self._transcriber: Transcriber | None = None
        self._lock = threading.Lock()

    async def embedding(
        self, upload: UploadFile | None, url: str | None, offset_sec: float
    ) -> dict[str, Any]:
        """The `audio_embedding` object of the response (SDK type `AudioEmbeddingResult`)."""
        limit_mb = self.settings.serve.max_upload_mb
        with tempfile.TemporaryDirectory(prefix="vtembed-serve-") as tmp:
            path = Path(tmp) / "audio"
            if upload is not None:
                await save_upload(upload, path, limit_mb)
                label, meta = "audio_file", {"input_filename": upload.filename}
            else:
                await download(str(url), path, limit_mb, "audio_url", self.settings.serve)
                label, meta = "audio_url", {"input_url": url}
            segments = await asyncio.to_thread(self.segments, path, label, offset_sec)
            # Still inside the block: an embedder that reads the sound cuts it from this file.
            vectors = await _embed_all(self.embedder, segments)
        result: dict[str, Any] = {
            "segments": [
                {"float": v, "start_offset_sec": s.start_sec, "end_offset_sec": s.end_sec}
                for s, v in zip(segments, vectors, strict=True)
            ],
            "metadata": meta,
        }
        if not segments and self.embedder.audio_embedded_from == "transcript":
            result["error_message"] = (
                f"no speech found: the {self.embedder.name} embedder embeds audio from its "
                "transcript"
            )
        return result

    def segments(self, path: Path, label: str, offset_sec: float) -> list[AudioSegment]:
        """Blocking (decode, Whisper): call it in a worker thread. `label` names the audio in
        messages, never the temporary path."""
        info, duration, transcript = self.decode(path, label, offset_sec)
        if offset_sec >= duration:
            raise _past_end(offset_sec, duration)
        spans = audio_segments(info, duration - offset_sec, self.embedder.audio_segment_sec)
        out = []
        for seg in spans:
            start, end = round(seg.start_sec + offset_sec, 3), round(seg.end_sec + offset_sec, 3)
            words = transcript.words_between(start, end) if transcript else ()
            text = "".join(w.text for w in words).strip()
            out.append(replace(seg, start_sec=start, end_sec=end, text=text))
        return [seg for seg in out if self.embedder.wants(seg)]

    def decode(
        self, path: Path, label: str, offset_sec: float = 0.0, transcribe: bool | None = None
    ) -> tuple[MediaInfo, float, Transcript | None]:
        """Blocking: the audio's stream, its decoded length and (when `transcribe`, by default
        when the embedder embeds audio from its transcript) its words. Shared with the Embed
        API v2 route (`server_v2_media`), which needs a transcript for `transcription` too."""
        if transcribe is None:
            transcribe = self.embedder.audio_embedded_from == "transcript"
        try:
            info = probe(str(path))
            if info.duration_sec and offset_sec >= info.duration_sec:  # say so before decoding
                raise _past_end(offset_sec, info.duration_sec)
            decoded = DecodeResult()
            windows = pcm_windows(info, self.settings.whisper.window_sec, decoded)
            transcript: Transcript | None = None
            if transcribe:
                with self._lock:
                    transcript = self._get_transcriber().transcribe(windows)
            else:
                for _ in windows:  # decode to the end: the decoded length is the true one
                    pass
        except MediaError as exc:
            message = str(exc).replace(f"{path}: ", "").replace(str(path), label)
            raise ApiError(400, "parameter_invalid", f"{label}: {message}") from None
        if decoded.warning:
            log.warning("%s: %s", label, decoded.warning)
        return info, decoded.duration_sec, transcript

    def _get_transcriber(self) -> Transcriber:
        if self._transcriber is None:
            if self.factory is None:
                raise ApiError(
                    400,
                    "parameter_not_supported",
                    f"the {self.embedder.name} embedder embeds audio from its transcript, "
                    "and this server has no transcriber",
                )
            try:
                self._transcriber = self.factory()
            except VtembedError as exc:
                raise ApiError(500, "internal_error", f"cannot load Whisper: {exc}") from None
        return self._transcriber


def _past_end(offset_sec: float, duration_sec: float) -> ApiError:
    return ApiError(
        400,
        "parameter_invalid",
        f"audio_start_offset_sec ({offset_sec:g}) is not before the end of the audio "
        f"({duration_sec:.2f} s)",
    )


async def _embed_all(embedder: Embedder, items: Sequence[Embeddable]) -> list[list[float]]:
    """In the embedder's own batch size, as the pipeline does."""
    vectors: list[list[float]] = []
    size = max(1, embedder.batch_size)
    for start in range(0, len(items), size):
        vectors.extend(await embedder.embed(items[start : start + size]))
    return vectors
