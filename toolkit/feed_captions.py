"""The captions a source says an item has (a feed's `podcast:transcript`), fetched and read.

Whatever goes wrong here, the caller falls back to Whisper and prints why, so every failure is
one `CaptionError` line naming the URL and the fault, never a traceback. The URL is shown as
scheme://host/path: transcript URLs from hosting services often carry signed tokens in their
query (or a user and password before the host), and those must not end up in logs and
summaries. The caption file is small and fetched once per item, so it is read into memory with
a size limit and one deadline for the whole exchange (httpx's own timeouts are per read, which
a server trickling bytes would never trip).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from vtembed import __version__
from vtembed.captions import CaptionError, caption_format, read_captions
from vtembed.models import MediaItem
from vtembed.subtitles import Cue

__all__ = ["fetch_captions", "shown_url"]


def fetch_captions(
    item: MediaItem, timeout_sec: float = 30.0, max_bytes: int = 20 * 2**20
) -> list[Cue]:
    """The cues of `item.transcript_url` (http(s), or file:// for a feed read from disk),
    read as `item.transcript_type` says, else as the URL's extension says, else as sniffed.
    Raises `CaptionError` (one line) for anything that keeps them from being used."""
    url = item.transcript_url
    if not url:
        raise CaptionError(f"{item.label}: no transcript URL")
    shown = shown_url(url)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        data = _read_file(url, shown, max_bytes)
    elif scheme in ("http", "https"):
        data = _download(url, shown, timeout_sec, max_bytes)
    else:
        raise CaptionError(f"{shown}: cannot fetch captions: not an http(s) or file URL")
    hint = caption_format(item.transcript_type) or caption_format(Path(urlsplit(url).path).suffix)
    return read_captions(data, hint, name=shown)


def shown_url(url: str) -> str:
    """scheme://host[:port]/path: no user, password, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:  # a port that is no number: say nothing of it
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _download(url: str, shown: str, timeout_sec: float, max_bytes: int) -> bytes:
    failed = f"{shown}: cannot fetch captions"
    deadline = time.monotonic() + timeout_sec
    headers = {"User-Agent": f"vtembed/{__version__}"}
    try:
        with (
            httpx.Client(follow_redirects=True, timeout=timeout_sec, headers=headers) as http,
            http.stream("GET", url) as response,
        ):
            if not response.is_success:
                raise CaptionError(
                    f"{failed}: HTTP {response.status_code} {response.reason_phrase}"
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise CaptionError(f"{failed}: {_too_large(int(declared), max_bytes)}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise CaptionError(f"{failed}: {_too_large(None, max_bytes)}")
                if time.monotonic() > deadline:
                    raise CaptionError(f"{failed}: not complete within {timeout_sec:g} s")
            return bytes(body)
    except httpx.TimeoutException:
        raise CaptionError(f"{failed}: no answer within {timeout_sec:g} s") from None
    except httpx.TooManyRedirects:
        raise CaptionError(f"{failed}: too many redirects") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # DNS, refused, reset, a bad URL
        raise CaptionError(f"{failed}: {_reason(exc, url, shown)}") from None


def _read_file(url: str, shown: str, max_bytes: int) -> bytes:
    path = Path(unquote(urlsplit(url).path))
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise CaptionError(f"{shown}: cannot read captions: {_too_large(size, max_bytes)}")
        return path.read_bytes()
    except OSError as exc:
        raise CaptionError(f"{shown}: cannot read captions: {exc.strerror or exc}") from None


def _too_large(size: int | None, limit: int) -> str:
    most = f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit} bytes"
    return f"{size} bytes, over the limit of {most}" if size else f"over the limit of {most}"


def _reason(exc: Exception, url: str, shown: str) -> str:
    """httpx's message on one line, without the errno, and with the URL (should it name it)
    in its shown form."""
    text = re.sub(r"^\[Errno -?\d+\] ", "", " ".join(str(exc).split())) or type(exc).__name__
    return text.replace(url, shown)
