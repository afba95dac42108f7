"""The picture side of an item: its shots' keyframes (`ImageFrame`s) and, for an embedder that
embeds moving pictures, its shots' clips (`VideoClip`s) as embedder inputs.

Shots come as ffmpeg finds them (`vtembed.frames.iter_shots`, read a few ahead in a thread so
detection keeps decoding while a keyframe is read; the next keyframe is cut in another while OCR
reads this one), one at a time: a keyframe is written (with its thumbnail) under the store's
frames folder, read by OCR when the embedder embeds a picture by its text, and handed out at
once, so nothing of the video is held. Every shot's thumbnail is kept (every hit in a video
shows the shot on screen when it was said: `vtembed.thumbnails`), and so is every keyframe while
the store keeps assets (`[assets] keep`): another model may want the pictures this one did not
(the local embedder's, for a shot with no text), and the shot list is kept with them, so a rerun
or `reembed` detects nothing again. Without assets, an unwanted keyframe is deleted at once.
A keyframe whose text is longer than the model takes is cut to whole words that fit, as a query
would be. Clips are each shot cut into equal parts of at most 10 s (`vtembed.video_clips`).

The overlapped pipeline runs this beside Whisper (`Stages.stream`, in a `vtembed.prefetch.Ahead`
thread); the one-stage-at-a-time pipeline and the Ray driver run it after the sound. Both give
the same frames.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from vtembed.asset_reuse import Reuse
from vtembed.assets import KeptShot, KeptShots
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
    reuse: Reuse | None = None,
) -> Iterator[ImageFrame | VideoClip]:
    """The item's keyframes (and clips) the embedder wants, shot by shot; none for audio-only
    media, cover art, an embedder that takes no pictures, or `[frames] enabled = false`. Shots
    kept from an earlier run (`reuse`) are used without detecting them again, as long as their
    keyframes are all still there."""
    if root is None or not takes_pictures(settings, embedder, root):
        return
    folder = root / item.id
    kept = reuse.shots(item) if reuse is not None else None
    if kept is not None and all((folder / s.image).is_file() for s in kept.shots):
        yield from _from_kept(item, info, kept, folder, embedder, reuse)
        return
    yield from _detected(item, info, settings, embedder, folder, reuse)


def _detected(
    item: MediaItem,
    info: MediaInfo,
    settings: FramesSettings,
    embedder: Embedder,
    folder: Path,
    reuse: Reuse | None,
) -> Iterator[ImageFrame | VideoClip]:
    from vtembed.frames import iter_shots, video_stream
    from vtembed.keyframes import extract_keyframe

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
    width = settings.thumbnail_width
    keeps = reuse is not None and reuse.keeps  # kept keyframes serve the next model too
    # The next keyframe is cut (an ffmpeg process) while this one is read.
    keys = prefetch((extract_keyframe(stream, s, folder, thumbnail_width=width) for s in shots), 1)
    found: list[KeptShot] = []
    clips = _Clips(info, stream.index, item.uri, embedder)
    try:
        for key in keys:
            shot = key.shot
            text = read_text(key.image) if embedder.image_input == "ocr" else None
            frame = ImageFrame(
                shot.index, shot.start_sec, shot.end_sec, str(key.image), str(key.thumbnail),
                _fit(text or "", embedder),
            )  # fmt: skip
            names = key.image.name, key.thumbnail.name
            found.append(KeptShot(shot.index, shot.start_sec, shot.end_sec, *names, text))
            if embedder.wants(frame):
                yield frame
            elif not keeps:  # no record will name the keyframe; its thumbnail shows the moment
                key.image.unlink(missing_ok=True)
            yield from clips.of(shot.start_sec, shot.end_sec)
        if reuse is not None:  # every shot found: what the next run may use
            key_ = reuse.shots_key(item)
            reuse.keep_shots(item, KeptShots(key_, item.fingerprint, stream.index, tuple(found)))
    finally:
        keys.close()
        shots.close()
        _remove_if_empty(folder)


def _from_kept(
    item: MediaItem,
    info: MediaInfo,
    kept: KeptShots,
    folder: Path,
    embedder: Embedder,
    reuse: Reuse | None,
) -> Iterator[ImageFrame | VideoClip]:
    """Kept shots as inputs; a keyframe never read by OCR (the store's embedder took files) is
    read now, and what it says is kept too."""
    clips = _Clips(info, kept.video_stream, item.uri, embedder)
    shots, read = [], False
    for shot in kept.shots:
        text = shot.text
        if text is None and embedder.image_input == "ocr":
            text, read = read_text(folder / shot.image), True
            shot = replace(shot, text=text)
        shots.append(shot)
        frame = ImageFrame(
            shot.index, shot.start_sec, shot.end_sec, str(folder / shot.image),
            str(folder / shot.thumbnail), _fit(text or "", embedder),
        )  # fmt: skip
        if embedder.wants(frame):
            yield frame
        yield from clips.of(shot.start_sec, shot.end_sec)
    if read and reuse is not None:
        reuse.keep_shots(item, replace(kept, shots=tuple(shots)))


class _Clips:
    """Each shot cut into clips of at most 10 s, numbered across the item, for an embedder
    that embeds moving pictures (none for others)."""

    def __init__(self, info: MediaInfo, stream: int, uri: str, embedder: Embedder) -> None:
        self.info, self.stream, self.uri = info, stream, uri
        self.wanted = bool(embedder.video_input)
        self.count = 0

    def of(self, start_sec: float, end_sec: float) -> Iterator[VideoClip]:
        from vtembed.video_clips import CLIP_SEC, clip_spans

        if not self.wanted:
            return
        for start, end in clip_spans([(start_sec, end_sec)], CLIP_SEC):
            yield VideoClip(self.count, start, end, str(self.info.path), self.stream, self.uri)
            self.count += 1


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (or never made): kept
        folder.rmdir()


def read_text(image: Path) -> str:
    from vtembed.ocr import read_text as ocr

    return ocr(image).text


def _fit(text: str, embedder: Embedder) -> str:
    """A keyframe's text cut to whole words that fit the model, as a query would be."""
    return first_words(text, embedder.token_counter().count, embedder.text_token_limit)
