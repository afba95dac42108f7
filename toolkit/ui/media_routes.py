"""Media and thumbnails, served by media id only: a request names an id the store holds, never
a path, and the file comes from that item's own record.

Local files (a `file://` URI in the record) and the download cache's complete copy of a remote
URL are served, with Range; a remote item with no cached copy is linked (the page plays its
URL), never proxied, so the page makes this machine fetch nothing. Thumbnails come only from
the store's frames folder: `FRAMES/MEDIA_ID/NAME`, where the id and the name must both match a
strict pattern and the resolved file must still lie in that folder. Anything else is 404.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import FileResponse, Response

from vtembed.api.moments import StoredMedia
from vtembed.source import extension_of
from vtembed.ui.ranges import file_response

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
"""The ids that may name a folder (the hashes vtembed makes): no slash, no leading dot."""
SHOT_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}-\d{4}-\d{1,10}ms\.thumb\.jpg$")
"""A thumbnail's file name as `vtembed.thumbnails.keyframe_name` makes it."""
_TTL_SEC = 30.0  # an item pruned or re-ingested is noticed this soon


@dataclass(frozen=True)
class Playable:
    """Where the page plays an item from: this server's `/media/ID`, or the remote URL."""

    item: StoredMedia
    file: Path | None

    @property
    def remote(self) -> bool:
        return self.file is None and urlsplit(self.item.uri).scheme in ("http", "https")


class MediaFiles:
    """Answers "which file is media X" from the store, remembering answers for a short while
    (a seeking player asks for many ranges of one file)."""

    def __init__(
        self,
        lookup: Callable[[str], StoredMedia | None],
        frames_root: Path,
        download_root: Path,
    ) -> None:
        self.lookup = lookup
        self.frames_root = frames_root
        self.download_root = download_root
        self._known: dict[str, tuple[float, Playable | None]] = {}
        self._lock = threading.Lock()

    def playable(self, media_id: str) -> Playable | None:
        """None for an id the store does not hold."""
        now = time.monotonic()
        with self._lock:
            seen = self._known.get(media_id)
        if seen is not None and now - seen[0] < _TTL_SEC:
            return seen[1]
        item = self.lookup(media_id) if 0 < len(media_id) <= 1024 else None
        found = None if item is None else Playable(item, self._local_file(item.uri))
        with self._lock:
            if len(self._known) > 4096:
                self._known.clear()
            self._known[media_id] = (now, found)
        return found

    def _local_file(self, uri: str) -> Path | None:
        parts = urlsplit(uri)
        if parts.scheme == "file":
            path = Path(unquote(parts.path))
        elif parts.scheme in ("http", "https"):
            key = hashlib.sha256(uri.encode()).hexdigest()[:32]  # as vtembed.downloads keys it
            path = self.download_root / key / f"media{extension_of(uri)}"
        else:
            return None
        return path if path.is_file() else None

    def thumbnail(self, media_id: str, name: str) -> Path | None:
        if not SAFE_ID.match(media_id) or not SHOT_NAME.match(name):
            return None
        folder = (self.frames_root / media_id).resolve()
        path = (folder / name).resolve()
        if path.parent != folder or not path.is_file():
            return None
        return path if self.playable(media_id) is not None else None


def router(files: MediaFiles) -> APIRouter:
    routes = APIRouter()

    @routes.api_route("/media/{media_id:path}", methods=["GET", "HEAD"])
    def media(media_id: str, request: Request) -> Response:
        """The item's bytes, with Range; 404 for an unknown id or a remote-only item."""
        found = files.playable(media_id)
        if found is None or found.file is None:
            raise HTTPException(404, "no local copy of that media item")
        try:
            return file_response(
                found.file, request.headers.get("range"), head=request.method == "HEAD"
            )
        except FileNotFoundError:  # gone since it was looked up
            raise HTTPException(404, "no local copy of that media item") from None

    @routes.get("/thumb/{media_id}/{name}")
    def thumb(media_id: str, name: str) -> Response:
        path = files.thumbnail(media_id, name)
        if path is None:
            raise HTTPException(404, "no such thumbnail")
        return FileResponse(
            path, media_type="image/jpeg", headers={"cache-control": "max-age=3600"}
        )

    return routes
