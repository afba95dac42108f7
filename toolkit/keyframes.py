"""Keyframes: one JPEG per shot, taken at its `keyframe_sec`, and a small thumbnail beside it.

Each keyframe is one short ffmpeg run that seeks before opening the input (`-ss` before `-i`,
fast: from the nearest keyframe of the codec, then decoding to the exact time) and writes the
picture twice through `split`: capped at `max_side` on its longest side (what an image embedder
or OCR reads) and `thumbnail_width` px wide (what a search result shows). Nothing of the
video is held in this process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from vtembed.errors import MediaError
from vtembed.frames import Shot, VideoStream
from vtembed.media import last_stderr_line
from vtembed.thumbnails import keyframe_name

MAX_SIDE = 1280
"""Longest side of a keyframe JPEG: more than OCR or a 224-px CLIP needs, far below 4K."""


@dataclass(frozen=True)
class Keyframe:
    """Where a shot's pictures were written: the keyframe and its thumbnail (both JPEG)."""

    shot: Shot
    image: Path
    thumbnail: Path


def extract_keyframe(
    stream: VideoStream,
    shot: Shot,
    out_dir: Path,
    *,
    stem: str = "shot",
    thumbnail_width: int = 320,
    max_side: int = MAX_SIDE,
) -> Keyframe:
    """Write `{name}.jpg` and `{name}.thumb.jpg` into `out_dir`, named by the shot's index and
    start (`vtembed.thumbnails.keyframe_name`) so that a record's time finds its picture."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = keyframe_name(stem, shot.index, shot.start_sec)
    image, thumbnail = out_dir / f"{name}.jpg", out_dir / f"{name}.thumb.jpg"
    # One decoding thread, as for detection: keyframes are taken beside Whisper.
    source = ffmpeg.input(stream.path, ss=f"{shot.keyframe_sec:.3f}", threads=1)
    picture = source[f"v:{stream.index}"]
    split = picture.filter_multi_output("split", 2)
    full, small = split.stream(0), split.stream(1)
    capped = full.filter(
        "scale",
        f"min(iw,{max_side})",
        f"min(ih,{max_side})",
        force_original_aspect_ratio="decrease",
    )
    thumb = small.filter("scale", thumbnail_width, -2)
    try:
        (
            ffmpeg.merge_outputs(
                ffmpeg.output(capped, str(image), vframes=1, **{"q:v": 3}),
                ffmpeg.output(thumb, str(thumbnail), vframes=1, **{"q:v": 4}),
            )
            .global_args("-nostdin", "-loglevel", "error", "-filter_threads", "1")
            .run(capture_stdout=True, capture_stderr=True, overwrite_output=True)
        )
    except ffmpeg.Error as exc:
        why = last_stderr_line(exc.stderr)
        at = f"{shot.keyframe_sec:.2f} s"
        raise MediaError(f"cannot extract the keyframe at {at} ({why})") from None
    if not image.exists() or not thumbnail.exists():
        raise MediaError(f"no picture at {shot.keyframe_sec:.2f} s")
    return Keyframe(shot, image, thumbnail)
