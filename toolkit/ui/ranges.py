"""HTTP Range requests for media files (RFC 9110 §14): a browser seeks in a long video by asking
for the bytes it needs, so the page can start a two-hour file at 1:23:45 without reading it all.

One range per request, which is what `<video>` and `<audio>` send. A header this does not
understand (another unit, several ranges, bad syntax) is ignored, as the RFC allows, and the
whole file is sent with 200. A range that starts past the end is 416 with `Content-Range:
bytes */SIZE`. Written here rather than left to Starlette's `FileResponse`, which only learnt
ranges in recent releases: the answer must not depend on which one is installed.
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from starlette.responses import Response, StreamingResponse

CHUNK = 256 * 1024
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class Unsatisfiable(Exception):
    """The range lies wholly past the end of the file: 416."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte span `(first, last)` a `Range` header asks of a file of `size`
    bytes; None to send the whole file. `bytes=-N` is the last N bytes; a last byte beyond the
    end is cut to the end."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None
        suffix = int(last_text)
        if suffix == 0:
            raise Unsatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:  # not a valid range: ignored
        return None
    if first >= size:
        raise Unsatisfiable
    return first, min(last, size - 1)


def media_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def file_response(path: Path, range_header: str | None, *, head: bool = False) -> Response:
    """200 with the whole file, 206 with one span, or 416; `Accept-Ranges: bytes` always."""
    size = path.stat().st_size
    headers = {"accept-ranges": "bytes", "cache-control": "no-cache"}
    kind = media_type(path)
    try:
        span = parse_range(range_header, size)
    except Unsatisfiable:
        headers["content-range"] = f"bytes */{size}"
        return Response(status_code=416, headers=headers)
    first, last = span if span is not None else (0, size - 1)
    length = max(0, last - first + 1)
    headers["content-length"] = str(length)
    status = 200
    if span is not None:
        status = 206
        headers["content-range"] = f"bytes {first}-{last}/{size}"
    if head:
        return Response(status_code=status, headers=headers, media_type=kind)
    return StreamingResponse(
        _read(path, first, length), status_code=status, headers=headers, media_type=kind
    )


async def _read(path: Path, offset: int, length: int) -> AsyncIterator[bytes]:
    """The span in chunks, read in a worker thread so a slow disk does not stall the loop."""
    async with await anyio.open_file(path, "rb") as f:
        await f.seek(offset, os.SEEK_SET)
        left = length
        while left > 0:
            chunk = await f.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
