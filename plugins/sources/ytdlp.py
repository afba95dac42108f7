"""Web pages that embed media (video sites, HTML5 `<video>` pages), resolved through yt-dlp.

Optional: install with `pip install -e '.[ytdlp]'`. Without yt-dlp this module still imports, sets
`VTEMBED_UNAVAILABLE` (shown by `vtembed plugins`) and registers nothing, so page URLs go to the
URL source. Whether it is installed is asked of the import system, not by importing it, so that
listing plugins or `--help` does not load yt-dlp: only resolving a page does. With it, an
http(s) URL whose path has no media extension is accepted; feeds outrank it (the podcast source
takes or declines the URL first), and `discover` declines, to the URL source, unless a short HEAD
says `text/html`. A page is handed to yt-dlp's extractors (no download); the best format with
audio is then downloaded through the host's download service (`self.downloads`). Records keep
the page URL as `media.uri`, so they point at what the user asked for, not at a CDN address.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from vtembed import __version__, hookimpl
from vtembed.errors import MediaError
from vtembed.models import MediaItem, stable_id
from vtembed.settings import Settings
from vtembed.source import MEDIA_EXTENSIONS, Decline, Failed, Found, Source, extension_of

VTEMBED_UNAVAILABLE: str | None = (
    None if find_spec("yt_dlp") else "yt-dlp is not installed: pip install -e '.[ytdlp]'"
)
HEAD_TIMEOUT_SEC = 5.0


class YtDlpSource(Source):
    name = "ytdlp"
    priority = 15  # above the URL source (10), below feeds (20)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.media_urls: dict[str, str] = {}
        """Page URL -> the media URL discovery resolved it to, for `open` in this run."""

    @classmethod
    def accepts(cls, locator: str) -> bool:
        parts = urlsplit(locator)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            return False
        return extension_of(parts.path) not in MEDIA_EXTENSIONS

    def discover(self, locator: str) -> Iterator[Found]:
        self._decline_unless_html(locator)
        try:
            info, media_url = _extract(locator)
        except Exception as exc:  # yt-dlp raises DownloadError and friends; one line is enough
            yield Failed(locator, f"yt-dlp could not find media on the page: {_short(exc)}")
            return
        self.media_urls[locator] = media_url
        yield MediaItem(
            id=stable_id("ytdlp", locator),
            uri=locator,
            title=str(info.get("title") or "").strip() or locator,
            source=self.name,
            fingerprint=media_url or str(info.get("id") or ""),
            published=_published(info),
        )

    def open(self, item: MediaItem) -> Path:
        media_url = self.media_urls.get(item.uri) or _extract(item.uri)[1]
        # The cache is keyed by the media URL; "" trusts a complete cached copy of it.
        return self.downloads.download(media_url, "")

    def _decline_unless_html(self, url: str) -> None:
        """One short HEAD: only HTML pages are worth asking yt-dlp about."""
        try:
            response = self.downloads.head(url, timeout_sec=HEAD_TIMEOUT_SEC)
        except (httpx.HTTPError, MediaError) as exc:
            raise Decline(f"no answer to a HEAD ({exc or type(exc).__name__})") from None
        kind = response.headers.get("content-type", "").lower()
        if not response.is_success:
            raise Decline(f"HTTP {response.status_code} to a HEAD")
        if not kind.startswith(("text/html", "application/xhtml")):
            raise Decline(f"not a web page ({kind.split(';')[0] or 'no type'})")


class _Quiet:
    """A yt-dlp logger that says nothing: failures come back as one `Failed` line."""

    def debug(self, msg: str) -> None:
        pass

    warning = info = error = debug


def _extract(page_url: str) -> tuple[dict[str, Any], str]:
    """yt-dlp's info for the page (no download) and the URL of its best format with audio."""
    import yt_dlp

    options = {
        "quiet": True,
        "no_warnings": True,
        "skip_download": True,
        "noplaylist": True,
        "logger": _Quiet(),
        "socket_timeout": 20,
        "http_headers": {"User-Agent": f"vtembed/{__version__}"},
    }
    with yt_dlp.YoutubeDL(options) as ydl:
        info = ydl.extract_info(page_url, download=False)
    if info and info.get("_type") in ("playlist", "multi_video"):
        # The generic extractor lists a page's <video>s as entries titled "<page title> (N)":
        # take the first, named after the page.
        entry = next((e for e in info.get("entries") or [] if e), None)
        info = entry and {**entry, "title": info.get("title") or entry.get("title")}
    if not info:
        raise ValueError("no media found")
    if info.get("extractor") == "html5":  # it names a page's <video>s "<page title> (N)"
        info = {**info, "title": re.sub(r" \(\d+\)$", "", str(info.get("title") or ""))}
    media_url = _best_url(info)
    if not media_url:
        raise ValueError("no format with audio")
    return info, media_url


def _best_url(info: dict[str, Any]) -> str:
    """The last (yt-dlp sorts best last) format that may carry audio, else the info's own URL."""
    formats = [f for f in info.get("formats") or [] if f.get("url")]
    with_audio = [f for f in formats if f.get("acodec") != "none"]
    if with_audio:
        return str(with_audio[-1]["url"])
    return str(info.get("url") or "")


def _published(info: dict[str, Any]) -> str | None:
    """ISO 8601 UTC from `timestamp`, else from `upload_date` (YYYYMMDD)."""
    try:
        if info.get("timestamp") is not None:
            stamp = datetime.fromtimestamp(float(info["timestamp"]), tz=UTC)
        elif info.get("upload_date"):
            stamp = datetime.strptime(str(info["upload_date"]), "%Y%m%d").replace(tzinfo=UTC)
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    return stamp.isoformat().replace("+00:00", "Z")


def _short(exc: Exception) -> str:
    text = (str(exc) or type(exc).__name__).splitlines()[0]
    return text.removeprefix("ERROR: ").split(" (caused by ", 1)[0].strip()


@hookimpl
def vtembed_register_sources(register: Callable[[type[Source]], None]) -> None:
    if VTEMBED_UNAVAILABLE is None:
        register(YtDlpSource)
