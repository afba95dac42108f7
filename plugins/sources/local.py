"""Local files, folders (walked recursively) and glob patterns.

A walk takes files with a known audio/video extension, plus extension-less files that ffprobe reads
as audio or video; anything else is skipped and counted. A file named on the command line is always
taken: if it turns out not to be media, that is an error for that file.
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import ffmpeg

from vtembed import hookimpl
from vtembed.caption_finder import SIDECAR_FORMATS
from vtembed.models import MediaItem, stable_id
from vtembed.source import MEDIA_EXTENSIONS, Failed, Found, Skipped, Source

_NOT_MEDIA_FORMATS = ("image2", "_pipe", "tty", "gif")
_GLOB_CHARS = frozenset("*?[")


class LocalSource(Source):
    name = "local"
    priority = 0

    @classmethod
    def accepts(cls, locator: str) -> bool:
        if "://" in locator and not locator.startswith("file://"):
            return False
        path = _path_of(locator)
        if path.exists():
            return True
        return bool(_GLOB_CHARS & set(locator)) and any(glob.iglob(locator, recursive=True))

    def discover(self, locator: str) -> Iterator[Found]:
        path = _path_of(locator)
        if path.is_file():
            yield item_for(path)
        elif path.is_dir():
            yield from _walk(sorted(_files_under(path)))
        else:
            yield from _walk(sorted(Path(p) for p in glob.iglob(locator, recursive=True)))

    def open(self, item: MediaItem) -> Path:
        path = _path_of(item.uri)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is gone")
        return path


def item_for(path: Path) -> MediaItem:
    path = path.resolve()
    uri = path.as_uri()
    stat = path.stat()
    return MediaItem(
        id=stable_id("file", uri),
        uri=uri,
        title=path.stem,
        source=LocalSource.name,
        fingerprint=f"{stat.st_size}:{stat.st_mtime_ns}" + _sidecar_stamp(path),
    )


def _has_media_beside(captions: Path) -> bool:
    """Whether a media file in the same folder is what these captions are for (`talk.mp4` for
    `talk.srt` or `talk.en.vtt`)."""
    stem = captions.stem.casefold()
    with contextlib.suppress(OSError):
        for entry in os.scandir(captions.parent):
            name = Path(entry.name)
            if name.suffix.lower() in MEDIA_EXTENSIONS:
                media = name.stem.casefold()
                if stem == media or stem.startswith(media + "."):
                    return True
    return False


def _sidecar_stamp(path: Path) -> str:
    """Caption files beside the media are part of its content (they may be its transcript),
    so adding, editing or removing one redoes the item; a file without any keeps the
    fingerprint it always had."""
    from vtembed.caption_finder import sidecars

    stamps = []
    for found in sidecars(str(path)):
        with contextlib.suppress(OSError):
            st = Path(found.path).stat()
            stamps.append(f"{Path(found.path).name}={st.st_size}:{st.st_mtime_ns}")
    return "".join(f"+{s}" for s in sorted(stamps))


def _walk(paths: list[Path]) -> Iterator[Found]:
    for path in paths:
        if path.is_dir():
            yield from _walk(sorted(_files_under(path)))
        elif not path.exists():  # a broken symlink, or a file deleted while we walk
            yield Failed(str(path), "no such file (a broken link?)")
        elif path.suffix.lower() in MEDIA_EXTENSIONS or (
            not path.suffix and _probes_as_media(path)
        ):
            yield item_for(path)
        elif path.suffix.lower() in SIDECAR_FORMATS and _has_media_beside(path):
            continue  # captions: part of their media file's item, not an item of their own
        elif path.is_file():
            kind = path.suffix.lower() or "no extension, not media"
            yield Skipped(str(path), f"not an audio or video file ({kind})")
        else:
            yield Failed(str(path), "not a regular file")


def _files_under(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in files:
            yield Path(root) / name


def _probes_as_media(path: Path) -> bool:
    try:
        info = ffmpeg.probe(str(path))
    except ffmpeg.Error:
        return False
    fmt = info.get("format", {}).get("format_name", "")
    if any(marker in fmt for marker in _NOT_MEDIA_FORMATS):
        return False
    kinds = {s.get("codec_type") for s in info.get("streams", [])}
    return bool(kinds & {"audio", "video"})


def _path_of(locator: str) -> Path:
    if locator.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(locator).path))
    return Path(locator).expanduser()


@hookimpl
def vtembed_register_sources(register: Callable[[type[Source]], None]) -> None:
    register(LocalSource)
