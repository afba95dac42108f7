"""The picture side of an item: its shots' keyframes as embedder inputs (`ImageFrame`s).

Cut after the item's sound is planned, one shot at a time: a keyframe is written (with its
thumbnail) under the store's frames folder, read by OCR when the embedder embeds a picture by
its text, and handed out at once, so nothing of the video is held. A keyframe whose text is
longer than the model takes is cut to whole words that fit, as a query would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vtembed.embedder import Embedder
from vtembed.models import ImageFrame, MediaInfo, MediaItem
from vtembed.settings import FramesSettings


def keyframe_inputs(
    item: MediaItem,
    info: MediaInfo,
    settings: FramesSettings,
    embedder: Embedder,
    root: Path | None,
) -> Iterator[ImageFrame]:
    """The item's keyframes the embedder wants; none for audio-only media, cover art, an
    embedder that takes no pictures, or `[frames] enabled = false`."""
    if not settings.enabled or embedder.image_input is None or root is None:
        return
    from vtembed.frames import detect_shots, video_stream
    from vtembed.keyframes import extract_keyframe

    stream = video_stream(info.path)
    if stream is None:
        return
    shots = detect_shots(
        stream,
        threshold=settings.scene_threshold,
        min_shot_sec=settings.min_shot_sec,
        max_shot_sec=settings.max_shot_sec,
    )
    folder = root / item.id
    for shot in shots:
        key = extract_keyframe(stream, shot, folder, thumbnail_width=settings.thumbnail_width)
        text = _read(key.image, embedder) if embedder.image_input == "ocr" else ""
        frame = ImageFrame(
            shot.index, shot.start_sec, shot.end_sec, str(key.image), str(key.thumbnail), text
        )
        if embedder.wants(frame):
            yield frame


def _read(image: Path, embedder: Embedder) -> str:
    from vtembed.ocr import read_text

    words = read_text(image).text.split()
    count = embedder.token_counter().count
    while words and count(" ".join(words)) > embedder.text_token_limit:
        words.pop()
    return " ".join(words)
