"""Podcast feeds (RSS 2.0, RSS 1.0/RDF, Atom) and OPML lists of them: one item per episode.

An episode's id comes from its guid, not its enclosure URL: hosts move files between CDNs and
rewrite tracking prefixes all the time, and an episode must not be embedded twice for that. The
fingerprint is the enclosure's declared length (its URL when the feed gives no length), so a
re-published file of another size is redone while a mere move is not. Enclosures are downloaded
through the host's download service (`self.downloads`), so resume, retries and checks are shared.
Entries become items in `podcast_episodes`; dates are read in `podcast_dates`.

Whether a locator is a feed is decided in `discover`, not in `accepts` (which only reads the
string, or stats a local path): a feed-like URL path (or `.opml`) is read as a feed; any other
http(s) URL without a media extension, and any local file, is sniffed (a HEAD, then the first
4 KB of the body) and declined when it is neither a feed nor an OPML list, so the next source by
priority takes it. An OPML list (`podcast_opml`) is walked feed by feed: each listed feed is read
as a feed locator would be, and one that fails is one `Failed` while the others go on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import httpx
from pydantic import BaseModel, Field

from vtembed import __version__, hookimpl
from vtembed.discovery import origin_of
from vtembed.downloads import Downloads, validator_of
from vtembed.errors import MediaError
from vtembed.models import MediaItem
from vtembed.plugins.sources.podcast_episodes import SOURCE_NAME, feed_items
from vtembed.plugins.sources.podcast_opml import feed_urls, is_opml_start
from vtembed.plugins.sources.podcast_transcripts import document_tags
from vtembed.settings import PluginSection, section
from vtembed.source import MEDIA_EXTENSIONS, Decline, Failed, Found, Source, extension_of

SNIFF_BYTES = 4096
SNIFF_TIMEOUT_SEC = 5.0
_FEED_PATH = re.compile(r"(\.(xml|rss|atom|opml)|/(feed|rss|atom)(\.\w+)?)/?$", re.IGNORECASE)
# The root element after an optional BOM, XML declaration, comments, PIs and a doctype.
_PROLOG = rb"^(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*"
_FEED_ROOT = re.compile(_PROLOG + rb"<(?:[\w.-]+:)?(?:rss|feed|RDF)[\s>/]", re.DOTALL | re.I)
_ANY_ROOT = re.compile(_PROLOG + rb"<([\w.:-]+)", re.DOTALL)
_NOT_FEED_TYPES = ("audio/", "video/", "image/")
NOT_A_FEED = "not an RSS or Atom feed"


class PodcastSettings(BaseModel):
    timeout_sec: float = Field(20.0, gt=0, description="Seconds to connect to and read a feed.")
    max_feed_mb: float = Field(50.0, gt=0, description="Largest feed document, in MiB.")


SECTION = PluginSection("podcast", PodcastSettings)


class PodcastSource(Source):
    name = SOURCE_NAME
    priority = 20  # above the URL source (10): a feed URL must never be ingested as media
    settings_section = SECTION

    @classmethod
    def accepts(cls, locator: str) -> bool:
        """An http(s) URL or a local file (a feed, an `.opml` list), unless its name has a
        media extension."""
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
        if is_opml_start(_utf8(body[:SNIFF_BYTES])):
            yield from _subscriptions(locator, base, body, config)
        else:
            yield from _feed(locator, base, body)

    def open(self, item: MediaItem) -> Path:
        if item.uri.startswith("file://"):
            return _local_path(item.uri)
        return self.downloads.download(item.uri, _current_validator(item.uri, self.downloads))


def _feed(locator: str, base: str, body: bytes) -> Iterator[Found]:
    """A feed document's episodes, or one `Failed` when it is not RSS or Atom (an XHTML page,
    an SVG, a stray XML file: whatever feedparser makes of it, its "entries" are no episodes)."""
    if not is_feed_start(body):
        root = _ANY_ROOT.match(_utf8(body))
        what = f"the root element is <{root.group(1).decode()}>" if root else "no XML root element"
        yield Failed(locator, f"{NOT_A_FEED} ({what})")
        return
    parsed = feedparser.parse(body)
    if not parsed.get("version") and not parsed.entries:
        yield Failed(locator, f"{NOT_A_FEED} ({parsed.get('bozo_exception') or 'no entries'})")
        return
    transcripts = document_tags(body, len(parsed.entries))
    language = parsed.feed.get("language")
    yield from feed_items(parsed.entries, base, locator, transcripts, language)


def _subscriptions(
    locator: str, base: str, body: bytes, config: PodcastSettings
) -> Iterator[Found]:
    """Every feed an OPML list names, each as if it had been given alone: its episodes' origin
    is the feed (what `prune FEED` looks for), and a feed that cannot be read is one `Failed`
    naming it while the others go on. That `Failed` is the list's (its reason names the feed):
    `prune LIST` then keeps all the list covers, since a feed that is down now must not look
    like one whose episodes are gone. A remote list may only name http(s) feeds: a page on the
    web must not make us read local files."""
    try:
        urls = feed_urls(body, base)
    except ValueError as exc:
        yield Failed(locator, str(exc))
        return
    if not urls:
        yield Failed(locator, "the OPML list names no feeds (no outline has an xmlUrl)")
    for url in urls:
        if _is_remote(locator) and not url.lower().startswith(("http://", "https://")):
            yield Failed(locator, f"{url}: not an http(s) URL")
            continue
        try:
            feed_base, feed_body = _read_feed(url, config, sniff=False)
        except (MediaError, OSError, httpx.HTTPError) as exc:
            yield Failed(locator, f"{url}: cannot read the feed: {_reason(exc)}")
            continue
        origin = origin_of(url)
        for found in _feed(url, feed_base, feed_body):
            if isinstance(found, Failed):
                yield Failed(locator, f"{url}: {found.reason}")
            else:
                yield replace(found, origin=origin) if isinstance(found, MediaItem) else found


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
    return _FEED_ROOT.match(_utf8(data)) is not None


def _utf8(data: bytes) -> bytes:
    """UTF-16 text (by its BOM) as UTF-8, so the root-element patterns see ASCII tags."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="ignore").encode()
    return data


def _read_feed(locator: str, config: PodcastSettings, sniff: bool) -> tuple[str, bytes]:
    """The feed's bytes and the base URL its relative links resolve against. With `sniff`, a
    body whose first 4 KB hold no feed or OPML root element raises Decline (before reading the
    rest)."""
    limit = int(config.max_feed_mb * 1024 * 1024)
    if not _is_remote(locator):
        path = _local_path(locator).absolute()
        with path.open("rb") as feed:
            if sniff:
                _sniffed(feed.read(SNIFF_BYTES))
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
                sniffed = _sniffed(bytes(body))
            if len(body) > limit:
                raise MediaError(f"larger than podcast.max_feed_mb ({config.max_feed_mb:g} MiB)")
        if not sniffed:
            _sniffed(bytes(body))
        return str(response.url), bytes(body)


def _sniffed(data: bytes) -> bool:
    start = _utf8(data[:SNIFF_BYTES])
    if not is_feed_start(start) and not is_opml_start(start):
        raise Decline(NOT_A_FEED)
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


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


@hookimpl
def vtembed_register_sources(register: Callable[[type[Source]], None]) -> None:
    register(PodcastSource)
