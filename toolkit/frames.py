"""Shots (the `frames` stage): a video stream cut at scene changes, with a minimum and maximum
shot length.

Detection is one ffmpeg process: the chosen video stream, decoded at its native frame rate,
scaled to 160 px wide, converted to planar RGB and scored by the `select` filter's `scene`
measure (0..1, the change of a frame against the one before); `metadata=print` writes each
frame's score to a pipe, read line by line, so memory holds one line and the cuts found, never
frames, whatever the video's length.

Why this and not PyAV with our own measure or PySceneDetect, measured on a generated 10-minute
1280x720 25 fps h264 video with 17 known cuts (test patterns, moving cellular automata,
scrolling text), 2 cores:

    ffmpeg select scene, scale=160:-2, RGB   29.7 s (20x real time)  17/17 cuts exact, 0 false
    ffmpeg select scene, scale=160:-2, YUV   23.2 s (26x real time)  17/17 cuts exact, 0 false
    ffmpeg scdet, scale=160:-2               27.3 s
    PyAV decode, 160x90 grey mean diff       40.4 s (15x real time)  17/17 cuts exact, 0 false
    (ffmpeg decoding alone                   24.7 s: the measure costs little beside it)

Run again back to back on the same machine under other load (load average 4): ffmpeg RGB
31.1 s, PyAV 37.4 s, ffmpeg decoding alone 20.8 s.

Scaling by area averaging, not the default bicubic: on the frames benchmark's 3-minute 720p
video (one thread) detection took 3.8 s with bicubic, 2.4 s with area (decoding alone 1.8 s),
the same 18 cuts at the same frames; fast_bilinear (2.3 s) aliased moving patterns into 6 false
cuts.

Decoding is nearly the whole cost; ffmpeg does it (on one thread: detection runs beside Whisper,
see `iter_shots`, and must leave it its cores) and no frame crosses into
Python (31 MiB peak here against PyAV's 75 MiB), and it is already required (PySceneDetect would
add OpenCV for the same decode). RGB rather than the stream's YUV: on YUV the score is mostly
brightness, and a cut between two colours of the same brightness (dark blue to dark red) scored
0.03, under the noise of real footage; on RGB it scores 0.68 and the weakest test cut (green to
grey) 0.32. Default threshold 0.2: the cuts of the 10-minute video score 0.51-1.0, every other
frame under 0.05.

Shot rules (`shots_from_cuts`): a cut closer than `min_shot_sec` to the previous kept cut is
dropped, so a flash or a flicker merges into the shot it interrupts, and a last shot shorter than
that merges into the one before; a shot longer than `max_shot_sec` is split into equal parts no
longer than that, so a static 10-minute lecture still gets a keyframe every `max_shot_sec`. The
last shot ends at the media's duration.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import ffmpeg

from vtembed.errors import MediaError
from vtembed.media import drain_stderr, last_stderr_line

DETECT_WIDTH = 160
"""Frames are scored at this width: enough for a cut, and cheap beside decoding."""


@dataclass(frozen=True)
class Shot:
    """One stretch of picture between two cuts, in absolute seconds of the media: [start, end).

    `keyframe_sec` is the shot's middle, the moment furthest from both cuts, so a fade or a
    dissolve at either end (and the encoder's smearing around a cut) is not what is shown."""

    index: int
    start_sec: float
    end_sec: float
    keyframe_sec: float

    @property
    def duration_sec(self) -> float:
        return self.end_sec - self.start_sec


@dataclass(frozen=True)
class VideoStream:
    """The picture stream shots are cut from: `index` counts video streams only (`0:v:N`)."""

    path: str
    index: int
    width: int
    height: int
    duration_sec: float


def video_stream(path: str) -> VideoStream | None:
    """The first real video stream, or None for audio-only media and for cover art (an mp3's
    or m4a's attached picture, ffprobe `disposition.attached_pic`), which have no shots."""
    try:
        info = ffmpeg.probe(path)
    except ffmpeg.Error as exc:
        raise MediaError(f"not readable as media ({last_stderr_line(exc.stderr)})") from None
    videos = [s for s in info.get("streams", []) if s.get("codec_type") == "video"]
    for n, stream in enumerate(videos):
        if stream.get("disposition", {}).get("attached_pic"):
            continue
        duration = info.get("format", {}).get("duration") or stream.get("duration") or 0.0
        return VideoStream(
            path=path,
            index=n,
            width=int(stream.get("width") or 0),
            height=int(stream.get("height") or 0),
            duration_sec=float(duration),
        )
    return None


@dataclass
class DetectResult:
    """Filled in while cuts are read: how far decoding got (the last frame's time)."""

    frames: int = 0
    last_sec: float = 0.0


def scene_cuts(stream: VideoStream, threshold: float, result: DetectResult) -> Iterator[float]:
    """The times of frames whose scene score exceeds `threshold`, as ffmpeg decodes them.

    A stream that decodes to no frame, or an ffmpeg that fails, is a MediaError."""
    process = (
        # One decoding thread: detection runs beside Whisper and must leave it its cores.
        ffmpeg.input(stream.path, threads=1)[f"v:{stream.index}"]
        .filter("scale", DETECT_WIDTH, -2, flags="area")
        .filter("format", "gbrp")
        .filter("select", "gte(scene,0)")
        .filter("metadata", mode="print", file="-")
        .output("-", format="null")
        .global_args("-nostdin", "-loglevel", "error", "-filter_threads", "1")
        .run_async(pipe_stdout=True, pipe_stderr=True)
    )
    errors: deque[str] = deque(maxlen=20)
    drain = threading.Thread(target=drain_stderr, args=(process.stderr, errors), daemon=True)
    drain.start()
    time = 0.0
    try:
        for raw in process.stdout:
            line = raw.decode("ascii", "replace").strip()
            if line.startswith("frame:"):
                time = float(line.rpartition("pts_time:")[2] or 0.0)
                result.frames += 1
                result.last_sec = time
            elif line.startswith("lavfi.scene_score=") and float(line[18:]) > threshold:
                yield time
    finally:
        process.stdout.close()
        code = process.wait()
        drain.join(timeout=5)
    if code != 0 or result.frames == 0:
        decoding = [e for e in errors if "rror while decoding" in e]
        detail = (decoding or list(errors) or [f"ffmpeg exit code {code}"])[-1]
        raise MediaError(f"video stream cannot be decoded ({detail})")


def shots_from_cuts(
    cuts: Iterator[float] | list[float],
    duration_sec: float,
    min_shot_sec: float,
    max_shot_sec: float,
) -> list[Shot]:
    """Shots over [0, duration) from cut times in any order (see the module's shot rules)."""
    kept: list[float] = [0.0]
    for cut in sorted(cuts):
        if cut - kept[-1] >= min_shot_sec and duration_sec - cut > 0:
            kept.append(cut)
    if len(kept) > 1 and duration_sec - kept[-1] < min_shot_sec:
        kept.pop()  # a short last shot merges into the one before
    bounds = [*kept, duration_sec]
    shots: list[Shot] = []
    for start, end in itertools.pairwise(bounds):
        shots.extend(_split(start, end, max_shot_sec, len(shots)))
    return shots


def _split(start: float, end: float, max_shot_sec: float, first: int) -> list[Shot]:
    """The span [start, end) as one shot, or equal parts no longer than `max_shot_sec`."""
    if end - start <= 0:
        return []
    parts = max(1, math.ceil((end - start) / max_shot_sec - 1e-9))
    step = (end - start) / parts
    shots = []
    for i in range(parts):
        lo = round(start + i * step, 3)
        hi = round(end if i == parts - 1 else start + (i + 1) * step, 3)
        shots.append(Shot(first + i, lo, hi, round((lo + hi) / 2, 3)))
    return shots


def detect_shots(
    stream: VideoStream, *, threshold: float, min_shot_sec: float, max_shot_sec: float
) -> list[Shot]:
    """The shots of a video stream (find it with `video_stream`), in order."""
    return list(
        iter_shots(
            stream, threshold=threshold, min_shot_sec=min_shot_sec, max_shot_sec=max_shot_sec
        )
    )


def iter_shots(
    stream: VideoStream, *, threshold: float, min_shot_sec: float, max_shot_sec: float
) -> Iterator[Shot]:
    """The shots of `detect_shots`, each as soon as it is final, while ffmpeg goes on decoding:
    a keyframe can be taken and read long before the end of a long video.

    A shot is final once a cut after its end is kept (only the last kept cut can still be taken
    back, by the short-last-shot rule). The end is `shots_from_cuts` over every cut seen, whose
    first shots are the ones already given; with no probed duration (or cuts out of time order)
    nothing is given before the end."""
    result = DetectResult()
    known = stream.duration_sec
    seen: list[float] = []
    kept = [0.0]
    given = 0
    for cut in scene_cuts(stream, threshold, result):
        if seen and cut < seen[-1]:
            known = 0.0  # out of order: the greedy rule needs sorted cuts, so wait for all
        seen.append(cut)
        if not known or cut - kept[-1] < min_shot_sec or known - cut <= 0:
            continue
        kept.append(cut)
        if len(kept) >= 3:
            for shot in _split(kept[-3], kept[-2], max_shot_sec, given):
                yield shot
                given += 1
    duration = stream.duration_sec or result.last_sec
    yield from shots_from_cuts(seen, duration, min_shot_sec, max_shot_sec)[given:]
