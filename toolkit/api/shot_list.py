"""`shots`: one file's shots (cut at scene changes) with their keyframe times, embedding nothing.

For checking the cuts before an ingest, as `transcribe` is for checking the words. Named
`shot_list` so that no module shadows the function `vtembed.shots`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vtembed.errors import UsageError
from vtembed.settings import Settings

if TYPE_CHECKING:
    from vtembed.frames import Shot
    from vtembed.keyframes import Keyframe


@dataclass(frozen=True)
class ShotsResult:
    """The shots of one file ([] for audio-only media and cover art) and, when a folder was
    given, the keyframe and thumbnail JPEGs written there (one per shot, in shot order)."""

    shots: list[Shot]
    keyframes: list[Keyframe] = field(default_factory=list)

    def as_json(self) -> list[dict[str, object]]:
        """One object per shot; `keyframe`/`thumbnail` paths when they were written."""
        pictures = {k.shot.index: k for k in self.keyframes}
        rows: list[dict[str, object]] = []
        for shot in self.shots:
            row: dict[str, object] = {
                "index": shot.index,
                "start_sec": shot.start_sec,
                "end_sec": shot.end_sec,
                "keyframe_sec": shot.keyframe_sec,
            }
            if shot.index in pictures:
                row["keyframe"] = str(pictures[shot.index].image)
                row["thumbnail"] = str(pictures[shot.index].thumbnail)
            rows.append(row)
        return rows


def shots(file: Path, settings: Settings, *, keyframes_dir: Path | None = None) -> ShotsResult:
    """Raises `MediaError` for a file that is not usable media (or whose video cannot be
    decoded), `UsageError` for a missing one."""
    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    from vtembed.frames import detect_shots, video_stream
    from vtembed.keyframes import extract_keyframe

    frames = settings.frames
    stream = video_stream(str(file))
    if stream is None:
        return ShotsResult([])
    found = detect_shots(
        stream,
        threshold=frames.scene_threshold,
        min_shot_sec=frames.min_shot_sec,
        max_shot_sec=frames.max_shot_sec,
    )
    if keyframes_dir is None:
        return ShotsResult(found)
    pictures = [
        extract_keyframe(
            stream, shot, keyframes_dir, stem=file.stem, thumbnail_width=frames.thumbnail_width
        )
        for shot in found
    ]
    return ShotsResult(found, pictures)
