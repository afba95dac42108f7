"""Feed entries to media items: the enclosure, the guid-based id, one item per guid, and the
transcript the feed offers (`podcast_transcripts` chooses it)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from vtembed.models import MediaItem, stable_id
from vtembed.plugins.sources.podcast_dates import published_of
from vtembed.plugins.sources.podcast_transcripts import TranscriptTag, choose, entry_tags
from vtembed.source import MEDIA_EXTENSIONS, Skipped, extension_of

log = logging.getLogger(__name__)

SOURCE_NAME = "podcast"


@dataclass(frozen=True)
class Episode(MediaItem):
    """A feed episode: a `MediaItem` whose label names its title beside its enclosure URL.

    The host names an item by `label` in every line about it (`error: LABEL: HTTP 404`), and
    for a URL that is the URI alone; an enclosure URL (`…/a8f3c1.mp3?tracking=…`) rarely says
    which episode failed, so an episode's label adds its title: `URL ("Episode 3")`.
    """

    @property
    def label(self) -> str:
        return f'{self.uri} ("{self.title}")' if self.title else self.uri


def feed_items(
    entries: list[Any],
    base: str,
    feed: str,
    transcripts: list[list[TranscriptTag]] | None = None,
    language: str | None = None,
) -> Iterator[MediaItem | Skipped]:
    """The feed's episodes, one per guid, and a `Skipped` for each entry with no enclosure.

    `transcripts` are each entry's `podcast:transcript` tags as the document holds them (see
    `podcast_transcripts.document_tags`); without them, the one tag feedparser kept is used.
    `language` is the feed's, which a transcript's should match.

    Episodes that share a guid (a re-post, a feed generator's bug) would share an id, so they
    are one item: the first in the feed is kept, with one log line saying so. The first, not the
    newest by date: feeds list newest first, so the first is normally the newest anyway, and it
    is the one podcast apps show; the dates of such duplicates are often copied or missing, and
    document order never ties. Discovery keeps the first of equal ids too, so the two agree.
    """
    kept: dict[str, Episode] = {}
    shared: dict[str, int] = {}
    for index, entry in enumerate(entries):
        tags = transcripts[index] if transcripts is not None else entry_tags(entry)
        item = episode_item(entry, base, choose(tags, base, language))
        if item is None:
            title = entry.get("title") or entry.get("id") or "(untitled)"
            yield Skipped(f"{feed} :: {title}", "no audio or video enclosure")
        elif item.id in kept:
            shared[item.id] = shared.get(item.id, 1) + 1
        else:
            kept[item.id] = item
            yield item
    for media_id, count in shared.items():
        first = kept[media_id]
        log.warning(
            'feed %s: %d episodes share guid %s; kept the first ("%s")',
            feed,
            count,
            first.guid,
            first.title,
        )


def episode_item(entry: Any, base: str, transcript: TranscriptTag | None = None) -> Episode | None:
    """The item of one feed entry, or None when it has no audio or video enclosure.

    The fingerprint names the transcript's URL only when there is one: a new transcript (a
    host that re-generated or corrected it) redoes the episode, and the fingerprints of
    episodes without one stay what they were before transcripts were read, so stores made
    then are not ingested again."""
    enclosure = _media_enclosure(entry)
    if enclosure is None:
        return None
    url, length = urljoin(base, enclosure[0]), enclosure[1]
    guid = str(entry.get("id") or "").strip() or url
    duration = parse_duration(entry.get("itunes_duration"))
    title = str(entry.get("title") or "").strip() or _name_of(url)
    log.debug("episode %r: %s, duration %s s", title, url, duration)
    fingerprint = f"length={length}" if length > 0 else f"url={url}"
    if transcript is not None:
        fingerprint += f" transcript={transcript.url}"
    return Episode(
        id=stable_id("podcast-guid", guid),
        uri=url,
        title=title,
        source=SOURCE_NAME,
        fingerprint=fingerprint,
        published=published_of(entry),
        guid=guid,
        transcript_url=transcript.url if transcript else None,
        transcript_type=transcript.type if transcript else None,
    )


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


def _name_of(url: str) -> str:
    return unquote(Path(urlsplit(url).path).stem) or url


def _int(value: object) -> int:
    try:
        return max(0, int(str(value).strip()))
    except ValueError:
        return 0
