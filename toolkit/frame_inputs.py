"""The picture side of an item: its shots' keyframes (`ImageFrame`s) and, for an embedder that
embeds moving pictures, its shots' clips (`VideoClip`s) as embedder inputs.

Shots come as ffmpeg finds them (`vtembed.frames.iter_shots`, read a few ahead in a thread so
detection keeps decoding while a keyframe is read; the next keyframe is cut in another while OCR
reads this one), one at a time: a keyframe is written (with its thumbnail) under the store's
frames folder, read by OCR when the embedder embeds a picture by its text, and handed out at
once, so nothing of the video is held. A keyframe the embedder does not want (the local
embedder's, for a shot with no text) is deleted at once, but its thumbnail is kept: every hit in
a video shows the shot on screen when it was said (`vtembed.thumbnails`). A keyframe whose text
is longer than the model takes is cut to whole words that fit, as a query would be. Clips are
each shot cut into equal parts of at most 10 s (`vtembed.video_clips`).

The overlapped pipeline runs this beside Whisper (`Stages.stream`, in a `vtembed.prefetch.Ahead`
thread); the one-stage-at-a-time pipeline and the Ray driver run it after the sound. Both give
the same frames.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from vtembed.embedder import Embedder
from vtembed.models import ImageFrame, MediaInfo, MediaItem, VideoClip
from vtembed.prefetch import prefetch
from vtembed.settings import FramesSettings
from vtembed.text_fit import first_words

SHOTS_AHEAD = 64
"""Shots (a few numbers each) detection may find ahead of the keyframe being read."""


def takes_pictures(settings: FramesSettings, embedder: Embedder, root: Path | None) -> bool:
    """Whether items may give keyframes at all (each item's video stream is checked later)."""
    sees = embedder.image_input is not None or embedder.video_input
    return settings.enabled and sees and root is not None


def keyframe_inputs(
    item: MediaItem,
    info: MediaInfo,
    settings: FramesSettings,
    embedder: Embedder,
    root: Path | None,
) -> Iterator[ImageFrame | VideoClip]:
    """The item's keyframes (and clips) the embedder wants, shot by shot; none for audio-only
    media, cover art, an embedder that takes no pictures, or `[frames] enabled = false`."""
    if root is None or not takes_pictures(settings, embedder, root):
        return
    from vtembed.frames import iter_shots, video_stream
    from vtembed.keyframes import extract_keyframe
    from vtembed.video_clips import CLIP_SEC, clip_spans

    stream = video_stream(info.path)
    if stream is None:
        return
    shots = prefetch(
        iter_shots(
            stream,
            threshold=settings.scene_threshold,
            min_shot_sec=settings.min_shot_sec,
            max_shot_sec=settings.max_shot_sec,
        ),
        SHOTS_AHEAD,
    )
    folder = root / item.id
    width = settings.thumbnail_width
    # The next keyframe is cut (an ffmpeg process) while this one is read.
    keys = prefetch((extract_keyframe(stream, s, folder, thumbnail_width=width) for s in shots), 1)
    clips = 0
    try:
        for key in keys:
            shot = key.shot
            text = _read(key.image, embedder) if embedder.image_input == "ocr" else ""
            frame = ImageFrame(
                shot.index, shot.start_sec, shot.end_sec, str(key.image), str(key.thumbnail), text
            )
            if embedder.wants(frame):
                yield frame
            else:  # no record will name the keyframe; its thumbnail shows the moment
                key.image.unlink(missing_ok=True)
            if not embedder.video_input:
                continue
            for start, end in clip_spans([(shot.start_sec, shot.end_sec)], CLIP_SEC):
                yield VideoClip(clips, start, end, str(info.path), stream.index, item.uri)
                clips += 1
    finally:
        keys.close()
        shots.close()
        _remove_if_empty(folder)


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (or never made): kept
        folder.rmdir()


def _read(image: Path, embedder: Embedder) -> str:
    from vtembed.ocr import read_text

    text = read_text(image).text
    return first_words(text, embedder.token_counter().count, embedder.text_token_limit)
