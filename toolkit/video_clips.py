"""Clips of the picture for an embedder that embeds moving pictures (Marengo on Embed API v2):
each shot cut into spans of at most `clip_sec`, and a span cut out as a small MP4 to upload.

A clip stays inside one shot, so its vector is one scene's; a long shot is split into equal
parts, not a full part and a sliver. The upload is re-encoded small (at most 480 px, no sound:
the sound goes as audio segments already), so a 10 s clip is a few hundred kilobytes however
large the source, and fragmented so ffmpeg can write it to a pipe.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import ffmpeg

from vtembed.errors import MediaError
from vtembed.media import last_stderr_line

MAX_SIDE = 480
CLIP_SEC = 10.0
"""The longest clip: Embed API v2 cuts fixed segments of at most 10 s, so one clip is one vector."""


def clip_spans(shots: Iterable[tuple[float, float]], clip_sec: float) -> list[tuple[float, float]]:
    """Each shot's (start, end) split into equal parts of at most `clip_sec`."""
    spans = []
    for start, end in shots:
        length = end - start
        if length <= 0:
            continue
        parts = max(1, math.ceil(length / clip_sec - 1e-9))
        step = length / parts
        cuts = [start + i * step for i in range(parts)] + [end]
        spans += [(round(a, 3), round(b, 3)) for a, b in itertools.pairwise(cuts)]
    return spans


def cut_clip(path: str, video_stream: int, start_sec: float, end_sec: float) -> bytes:
    """The span as a silent H.264 MP4, at most MAX_SIDE px on its longer side."""
    picture = ffmpeg.input(path, ss=f"{start_sec:.3f}", t=f"{end_sec - start_sec:.3f}")
    scaled = picture[f"v:{video_stream}"].filter(
        "scale",
        f"min(iw,{MAX_SIDE})",
        f"min(ih,{MAX_SIDE})",
        force_original_aspect_ratio="decrease",
        force_divisible_by=2,
    )
    try:
        out, _ = (
            ffmpeg.output(
                scaled,
                "pipe:",
                format="mp4",
                vcodec="libx264",
                preset="veryfast",
                crf=28,
                pix_fmt="yuv420p",
                movflags="frag_keyframe+empty_moov",
                an=None,
            )
            .global_args("-nostdin", "-loglevel", "error", "-threads", "1")
            .run(capture_stdout=True, capture_stderr=True)
        )
    except ffmpeg.Error as exc:
        why = last_stderr_line(exc.stderr)
        raise MediaError(f"cannot cut the clip {start_sec:.1f}-{end_sec:.1f} s ({why})") from None
    if not out:
        raise MediaError(f"no picture in the clip {start_sec:.1f}-{end_sec:.1f} s")
    return bytes(out)
