"""ffprobe and ffmpeg (through ffmpeg-python): probe a file, stream its audio as 16 kHz mono.

Audio is read from an ffmpeg pipe in blocks and handed on in windows cut at quiet points, so the
memory a file needs is set by the window length, never by the file's length.
"""

from __future__ import annotations

import io
import logging
import tempfile
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ffmpeg
import numpy as np

from vtembed.errors import MediaError
from vtembed.models import AudioSegment, MediaInfo

SAMPLE_RATE = 16_000
_BLOCK_SAMPLES = SAMPLE_RATE  # one second per pipe read
_BLOCK_BYTES = _BLOCK_SAMPLES * 4
_FRAME = SAMPLE_RATE // 10  # 100 ms frames when looking for a quiet cut point
log = logging.getLogger(__name__)


def probe(path: str) -> MediaInfo:
    """Pick the default audio stream (else the first); a file without audio is a MediaError."""
    try:
        info = ffmpeg.probe(path)
    except ffmpeg.Error as exc:
        raise MediaError(f"not readable as media ({last_stderr_line(exc.stderr)})") from None
    audio = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not audio:
        raise MediaError("has no audio stream")
    chosen = next((i for i, s in enumerate(audio) if s.get("disposition", {}).get("default")), 0)
    duration = info.get("format", {}).get("duration") or audio[chosen].get("duration") or 0.0
    return MediaInfo(
        path=path,
        duration_sec=float(duration),
        audio_stream=chosen,
        codec=str(audio[chosen].get("codec_name", "")),
    )


@dataclass(frozen=True)
class PcmWindow:
    """A stretch of decoded audio and where it starts in the media, in samples."""

    start_sample: int
    samples: np.ndarray

    @property
    def start_sec(self) -> float:
        return self.start_sample / SAMPLE_RATE

    @property
    def end_sample(self) -> int:
        return self.start_sample + len(self.samples)

    @property
    def end_sec(self) -> float:
        return self.end_sample / SAMPLE_RATE


@dataclass
class DecodeResult:
    """Filled in while windows are read: the decoded length and any trouble at the tail."""

    samples: int = 0
    warning: str | None = None

    @property
    def duration_sec(self) -> float:
        return self.samples / SAMPLE_RATE


def pcm_windows(
    info: MediaInfo,
    window_sec: float,
    result: DecodeResult,
    search_sec: float = 10.0,
    start_sample: int = 0,
    end_sample: int | None = None,
) -> Iterator[PcmWindow]:
    """Decode the chosen stream and yield windows of about `window_sec`, each cut at the quietest
    100 ms within the last `search_sec`, so a word is rarely split between two windows.

    `start_sample`/`end_sample`: only that stretch (one window of an earlier pass, transcribed
    elsewhere), its times still counted from the start of the media. ffmpeg's seek lands on the
    sample in WAV, AAC, MP3 and Opus as measured here (MKV of MP3: 256 samples, 16 ms, off)."""
    process = _pcm(info, start_sample, end_sample).run_async(pipe_stdout=True, pipe_stderr=True)
    errors: deque[str] = deque(maxlen=5)
    drain = threading.Thread(target=drain_stderr, args=(process.stderr, errors), daemon=True)
    drain.start()
    target = max(int(window_sec * SAMPLE_RATE), 2 * int(search_sec * SAMPLE_RATE))
    windows = _windows_read(
        process.stdout, target, int(search_sec * SAMPLE_RATE), result, start_sample
    )
    try:
        yield from windows
    finally:
        process.stdout.close()
        code = process.wait()
        drain.join(timeout=5)
    if code != 0 or errors:
        detail = errors[-1] if errors else f"ffmpeg exit code {code}"
        if result.samples == 0:  # none at all (a later stretch counts from its start: a warning)
            raise MediaError(f"cannot be decoded ({detail})")
        result.warning = (
            f"decoding stopped with an error after {result.duration_sec:.1f} s; "
            f"kept what decoded ({detail})"
        )


def _pcm(info: MediaInfo, start: int, end: int | None) -> Any:
    """The ffmpeg command that writes the chosen stream, from sample `start` to `end` (None:
    the end), to stdout as 16 kHz mono float32 (a sample is 62.5 µs: seconds to 6 places)."""
    seek: dict[str, str] = {}
    if start > 0:
        seek["ss"] = f"{start / SAMPLE_RATE:.6f}"
    if end is not None:
        seek["t"] = f"{(end - start) / SAMPLE_RATE:.6f}"
    return (
        ffmpeg.input(info.path, **seek)
        .output(
            "pipe:",
            format="f32le",
            acodec="pcm_f32le",
            ac=1,
            ar=SAMPLE_RATE,
            map=f"0:a:{info.audio_stream}",
        )
        .global_args("-nostdin", "-loglevel", "error")
    )


def _windows_read(
    stream: IO[bytes], target: int, search: int, result: DecodeResult, start: int = 0
) -> Iterator[PcmWindow]:
    """Read the PCM straight into one array per window: a window's samples exist once while it
    is read (no list of blocks joined into a second copy), and the next window starts with a
    copy of the tail past the cut, not a view that would keep the whole previous window alive
    after Whisper is done with it. On a long file this held two windows fewer at a time."""
    capacity = target + _BLOCK_SAMPLES  # a window is read until it holds at least `target`
    buffer, filled = np.empty(capacity, dtype=np.float32), 0  # filled: bytes
    result.samples = start
    while got := stream.readinto(memoryview(buffer).cast("B")[filled : filled + _BLOCK_BYTES]):
        filled += got
        result.samples = start + filled // 4
        if filled // 4 >= target:
            cut = _quiet_cut(buffer, target, search)
            following = np.empty(capacity, dtype=np.float32)
            tail = buffer[cut : filled // 4]
            following[: len(tail)] = tail
            yield PcmWindow(start, buffer[:cut])
            start += cut
            buffer, filled = following, len(tail) * 4
    if filled // 4:
        yield PcmWindow(start, buffer[: filled // 4])


def encode_segment(path: str, audio_stream: int, start_sec: float, end_sec: float) -> bytes:
    """One span of the audio as a small 16 kHz mono FLAC, for embedders that upload audio.

    Written to a temporary file rather than a pipe: FLAC written to a pipe carries no duration
    in its header, which some services reject."""
    with tempfile.TemporaryDirectory(prefix="vtembed-") as tmp:
        out = Path(tmp) / "segment.flac"
        try:
            (
                ffmpeg.input(path, ss=f"{start_sec:.3f}", t=f"{end_sec - start_sec:.3f}")
                .output(str(out), map=f"0:a:{audio_stream}", ac=1, ar=SAMPLE_RATE, acodec="flac")
                .global_args("-nostdin", "-loglevel", "error")
                .run(capture_stdout=True, capture_stderr=True, overwrite_output=True)
            )
        except ffmpeg.Error as exc:
            raise MediaError(
                f"cannot cut audio {start_sec:.1f}-{end_sec:.1f} s ({last_stderr_line(exc.stderr)})"
            ) from None
        return out.read_bytes()


def encode_flac(samples: np.ndarray) -> bytes:
    """Decoded 16 kHz mono samples as a 16-bit FLAC, in this process (PyAV, which faster-whisper
    brings): the same file `encode_segment` makes, without an ffmpeg process that seeks into the
    media and decodes the span a second time (about 7 ms for 10 s of audio). The FLAC is muxed
    into a seekable buffer, so its header carries the duration."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="flac") as out:
        stream = out.add_stream("flac", rate=SAMPLE_RATE, layout="mono")
        planar = np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(planar, format="flt", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return buffer.getvalue()


def audio_segments(info: MediaInfo, duration_sec: float, segment_sec: float) -> list[AudioSegment]:
    """Back-to-back segments of `segment_sec` over the decoded audio; the last may be shorter."""
    segments = []
    index = 0
    start = 0.0
    while start < duration_sec - 1e-3:
        end = min(round(start + segment_sec, 3), round(duration_sec, 3))
        segments.append(AudioSegment(index, round(start, 3), end, info.path, info.audio_stream))
        index += 1
        start = end
    return segments


def _quiet_cut(buffer: np.ndarray, target: int, search: int) -> int:
    lo = max(target - search, 0)
    region = buffer[lo:target]
    frames = len(region) // _FRAME
    if frames == 0:
        return target
    energy = (region[: frames * _FRAME].reshape(frames, _FRAME) ** 2).mean(axis=1)
    return lo + int(np.argmin(energy)) * _FRAME + _FRAME // 2


def drain_stderr(stream: IO[bytes], errors: deque[str]) -> None:
    """Read an ffmpeg's stderr as it comes (a full pipe would stall it), keeping the last lines
    in `errors` for the message if it fails. Shared by every ffmpeg process vtembed runs."""
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").strip()
        if line:
            errors.append(line)


def last_stderr_line(stderr: bytes | None) -> str:
    """ffmpeg's or ffprobe's reason for failing: its last non-empty stderr line."""
    lines = [ln for ln in (stderr or b"").decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "ffprobe failed"
