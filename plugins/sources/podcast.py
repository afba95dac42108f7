"""Podcast feeds (RSS 2.0, RSS 1.0/RDF, Atom): one item per episode with an audio/video enclosure.

An episode's id comes from its guid, not its enclosure URL: hosts move files between CDNs and
rewrite tracking prefixes all the time, and an episode must not be embedded twice for that. The
fingerprint is the enclosure's declared length (its URL when the feed gives no length), so a
re-published file of another size is redone while a mere move is not. Enclosures are downloaded
through the host's download service (`self.downloads`), so resume, retries and checks are shared.

Whether a locator is a feed is decided in `discover`, not in `accepts` (which only reads the
string, or stats a local path): a feed-like URL path is read as a feed; any other http(s) URL
without a media extension, and any local file, is sniffed (a HEAD, then the first 4 KB of the
body) and declined when it is not a feed, so the next source by priority takes it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
import httpx
from pydantic import BaseModel, Field

from vtembed import __version__, hookimpl
from vtembed.downloads import Downloads, validator_of
from vtembed.errors import MediaError
from vtembed.models import MediaItem, stable_id
from vtembed.settings import PluginSection, section
from vtembed.source import MEDIA_EXTENSIONS, Decline, Failed, Found, Skipped, Source, extension_of

log = logging.getLogger(__name__)

SNIFF_BYTES = 4096
SNIFF_TIMEOUT_SEC = 5.0
_FEED_PATH = re.compile(r"(\.(xml|rss|atom)|/(feed|rss|atom)(\.\w+)?)/?$", re.IGNORECASE)
# The root element after an optional BOM, XML declaration, comments, PIs and a doctype.
_FEED_ROOT = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*"
    rb"<(?:[\w.-]+:)?(?:rss|feed|RDF)[\s>/]",
    re.DOTALL | re.IGNORECASE,
)
_NOT_FEED_TYPES = ("audio/", "video/", "image/")


class PodcastSettings(BaseModel):
    timeout_sec: float = Field(20.0, gt=0, description="Seconds to connect to and read a feed.")
    max_feed_mb: float = Field(50.0, gt=0, description="Largest feed document, in MiB.")


SECTION = PluginSection("podcast", PodcastSettings)


class PodcastSource(Source):
    name = "podcast"
    priority = 20  # above the URL source (10): a feed URL must never be ingested as media
    settings_section = SECTION

    @classmethod
    def accepts(cls, locator: str) -> bool:
        """An http(s) URL or a local file, unless its name has a media extension."""
        scheme = urlsplit(locator).scheme.lower() if "://" in locator else ""
        if scheme in ("http", "https"):
            return extension_of(urlsplit(locator).path) not in MEDIA_EXTENSIONS
        if scheme not in ("", "file"):
            return False
        path = _local_path(locator)
        return extension_of(path.name) not in MEDIA_EXTENSIONS and path.is_file()

    def discover(self, locator: str) -> Iterator[Found]:
        config: PodcastSettings = section(self.settings, SECTION.name)
        sure = _is_remote(locator) and _FEED_PATH.search(urlsplit(locator).path) is not None
        if _is_remote(locator) and not sure:
            _decline_media(locator, self.downloads)
        try:
            base, body = _read_feed(locator, config, sniff=not sure)
        except (MediaError, OSError, httpx.HTTPError) as exc:
            if not sure and _is_remote(locator):  # the URL source will say what is wrong
                raise Decline(f"not a feed ({_reason(exc)})") from None
            yield Failed(locator, f"cannot read the feed: {_reason(exc)}")
            return
        parsed = feedparser.parse(body)
        if not parsed.get("version") and not parsed.entries:
            why = parsed.get("bozo_exception") or "no RSS or Atom root element"
            yield Failed(locator, f"not an RSS or Atom feed ({why})")
            return
        for entry in parsed.entries:
            yield episode_item(entry, base) or Skipped(
                f"{locator} :: {entry.get('title') or entry.get('id') or '(untitled)'}",
                "no audio or video enclosure",
            )

    def open(self, item: MediaItem) -> Path:
        if item.uri.startswith("file://"):
            return _local_path(item.uri)
        return self.downloads.download(item.uri, _current_validator(item.uri, self.downloads))


def episode_item(entry: Any, base: str) -> MediaItem | None:
    """The item of one feed entry, or None when it has no audio or video enclosure."""
    enclosure = _media_enclosure(entry)
    if enclosure is None:
        return None
    url, length = urljoin(base, enclosure[0]), enclosure[1]
    guid = str(entry.get("id") or "").strip() or url
    duration = parse_duration(entry.get("itunes_duration"))
    title = str(entry.get("title") or "").strip() or _name_of(url)
    log.debug("episode %r: %s, duration %s s", title, url, duration)
    return MediaItem(
        id=stable_id("podcast-guid", guid),
        uri=url,
        title=title,
        source=PodcastSource.name,
        fingerprint=f"length={length}" if length > 0 else f"url={url}",
        published=published_of(entry),
        guid=guid,
    )


def _decline_media(url: str, downloads: Downloads) -> None:
    """Raise Decline when a short HEAD says the URL is media (an audio, video or image type),
    gone (404, 410) or unanswerable: then it is no feed, and the URL source will say why."""
    try:
        head = downloads.head(url, timeout_sec=SNIFF_TIMEOUT_SEC)
    except (httpx.HTTPError, MediaError) as exc:
        raise Decline(f"no answer to a HEAD ({_reason(exc)})") from None
    kind = head.headers.get("content-type", "").lower()
    if head.is_success and kind.startswith(_NOT_FEED_TYPES):
        raise Decline(f"a {kind.split(';')[0]} body")
    if head.status_code in (404, 410):
        raise Decline(f"HTTP {head.status_code}")


def is_feed_start(data: bytes) -> bool:
    """Whether bytes begin with an RSS, RDF or Atom root element (UTF-16 feeds are re-encoded)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.decode("utf-16", errors="ignore").encode()
    return _FEED_ROOT.match(data) is not None


def parse_duration(value: object) -> float | None:
    """`itunes:duration` as seconds: `SS`, `MM:SS` or `HH:MM:SS`, each with optional fractions."""
    parts = str(value or "").strip().split(":")
    if not parts[0] or len(parts) > 3:
        return None
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return seconds if seconds >= 0 else None


def published_of(entry: Any) -> str | None:
    """ISO 8601 UTC from `published` (else `updated`); feedparser normalises to UTC structs."""
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            stamp = datetime(*parsed[:6], tzinfo=UTC)
            return stamp.isoformat().replace("+00:00", "Z")
    return None


def _media_enclosure(entry: Any) -> tuple[str, int] | None:
    """The first audio/video enclosure (or `media:content`) as (URL, declared length or 0)."""
    candidates = [
        (e.get("href"), e.get("type"), e.get("length")) for e in entry.get("enclosures", [])
    ]
    candidates += [
        (m.get("url"), m.get("type") or m.get("medium"), m.get("filesize") or m.get("fileSize"))
        for m in entry.get("media_content", [])
    ]
    for url, kind, length in candidates:
        if not url:
            continue
        kind = str(kind or "").lower()
        if kind.startswith(("audio/", "video/")) or kind in ("audio", "video"):
            return url, _int(length)
        if extension_of(url) in MEDIA_EXTENSIONS:
            return url, _int(length)
    return None


def _read_feed(locator: str, config: PodcastSettings, sniff: bool) -> tuple[str, bytes]:
    """The feed's bytes and the base URL its relative links resolve against. With `sniff`, a
    body whose first 4 KB hold no feed root element raises Decline (before reading the rest)."""
    limit = int(config.max_feed_mb * 1024 * 1024)
    if not _is_remote(locator):
        path = _local_path(locator).absolute()
        with path.open("rb") as feed:
            if sniff and not is_feed_start(feed.read(SNIFF_BYTES)):
                raise Decline("not an RSS or Atom feed")
        if path.stat().st_size > limit:
            raise MediaError(f"larger than podcast.max_feed_mb ({config.max_feed_mb:g} MiB)")
        return path.as_uri(), path.read_bytes()
    headers = {"User-Agent": f"vtembed/{__version__}", "Accept-Encoding": "gzip, identity"}
    timeout = httpx.Timeout(config.timeout_sec)
    with (
        httpx.Client(follow_redirects=True, timeout=timeout, headers=headers) as http,
        http.stream("GET", locator) as response,
    ):
        if response.status_code >= 400:
            raise MediaError(f"HTTP {response.status_code} {response.reason_phrase}")
        body, sniffed = bytearray(), not sniff
        for chunk in response.iter_bytes():
            body += chunk
            if not sniffed and len(body) >= SNIFF_BYTES:
                sniffed = _sniffed(body)
            if len(body) > limit:
                raise MediaError(f"larger than podcast.max_feed_mb ({config.max_feed_mb:g} MiB)")
        if not sniffed:
            _sniffed(body)
        return str(response.url), bytes(body)


def _sniffed(start: bytearray) -> bool:
    if not is_feed_start(bytes(start[:SNIFF_BYTES])):
        raise Decline("not an RSS or Atom feed")
    return True


def _current_validator(url: str, downloads: Downloads) -> str:
    """The enclosure's ETag/Last-Modified now, so a changed file at the same URL replaces the
    cached copy; "" (trust the cache) when the server will not say."""
    try:
        response = downloads.head(url)
    except (httpx.HTTPError, MediaError):
        return ""
    return validator_of(response.headers) if response.is_success else ""


def _is_remote(locator: str) -> bool:
    return "://" in locator and not locator.startswith("file://")


def _local_path(locator: str) -> Path:
    if locator.startswith("file://"):
        return Path(unquote(urlsplit(locator).path))
    return Path(locator).expanduser()


def _name_of(url: str) -> str:
    return unquote(Path(urlsplit(url).path).stem) or url


def _int(value: object) -> int:
    try:
        return max(0, int(str(value).strip()))
    except ValueError:
        return 0


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


@hookimpl
def vtembed_register_sources(register: Callable[[type[Source]], None]) -> None:
    register(PodcastSource)
