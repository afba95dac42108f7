"""Which thumbnail shows a moment: a shot's pictures are named by the shot's start, so a record
(media id and start time) names its thumbnail without a column of its own in any sink.

A shot's files are `{stem}-{index:04d}-{start_ms}ms.jpg` and `….thumb.jpg` in the media item's
folder under the store's frames root. The moment at second t is shown by the shot that starts
last at or before t (within a few milliseconds: a database may keep times as 32-bit floats), so
a text or audio hit in a video gets the picture on screen when it was said.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

THUMB_SUFFIX = ".thumb.jpg"
_NAME = re.compile(r"-(\d+)ms\.thumb\.jpg$")
_SLACK_MS = 5


def keyframe_name(stem: str, index: int, start_sec: float) -> str:
    """The shared part of a shot's keyframe and thumbnail file names."""
    return f"{stem}-{index:04d}-{round(start_sec * 1000)}ms"


class Thumbnails:
    """Finds thumbnails under one frames root; each media folder is listed once."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._folders: dict[str, tuple[list[int], list[Path]]] = {}

    def at(self, media_id: str, seconds: float) -> Path | None:
        """The thumbnail of the shot on screen at `seconds`; None for media with no shots."""
        if self.root is None or not media_id or "/" in media_id or media_id.startswith("."):
            return None
        starts, paths = self._listing(media_id)
        i = bisect.bisect_right(starts, round(seconds * 1000) + _SLACK_MS)
        return paths[i - 1] if i else None

    def _listing(self, media_id: str) -> tuple[list[int], list[Path]]:
        if media_id not in self._folders:
            assert self.root is not None
            found = []
            for path in (self.root / media_id).glob(f"*{THUMB_SUFFIX}"):
                match = _NAME.search(path.name)
                if match:
                    found.append((int(match.group(1)), path))
            found.sort()
            self._folders[media_id] = ([ms for ms, _ in found], [p for _, p in found])
        return self._folders[media_id]
