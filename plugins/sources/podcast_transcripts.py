"""Podcasting 2.0 `<podcast:transcript>` tags: which of an episode's transcripts to use.

feedparser is no help with these: it keeps only the *last* tag of an item (as
`podcast_transcript`, or under whatever prefix the feed bound the namespace to), and feeds
commonly list an HTML or plain-text transcript after the SRT. So the tags are read from the
document itself with the standard library's expat (which refuses entity-expansion bombs), by
namespace URI, item by item in document order; feedparser's entries are the same items in the
same order, so the two are matched by position. A document expat cannot read (feedparser is more
forgiving: an undefined `&nbsp;`, say) falls back to feedparser's one tag per item.

Only timed formats are taken: an HTML or plain-text transcript has no times to put records at.
Among the timed ones, language comes first (a transcript in another language than the audio is
of no use, whatever its format): the feed's language, then English, then none given, then any
other; then the format: SRT, WebVTT, JSON (SRT and WebVTT are the formats hosts generate from
their own timing; JSON is often a word per segment); then document order.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

NAMESPACES = (
    "https://podcastindex.org/namespace/1.0",
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",  # early feeds
)
_TAGS = tuple(f"{{{ns}}}transcript" for ns in NAMESPACES)
_ITEMS = frozenset({
    "item",  # RSS 0.9x/2.0
    "{http://purl.org/rss/1.0/}item",
    "{http://my.netscape.com/rdf/simple/0.9/}item",
    "{http://www.w3.org/2005/Atom}entry",
    "{http://purl.org/atom/ns#}entry",  # Atom 0.3
})  # fmt: skip
FORMAT_RANK = {
    "application/x-subrip": 0, "application/srt": 0, "text/srt": 0,
    "text/vtt": 1,
    "application/json": 2,
}  # fmt: skip


@dataclass(frozen=True)
class TranscriptTag:
    url: str
    type: str
    language: str = ""
    rel: str = ""


def document_tags(body: bytes, count: int) -> list[list[TranscriptTag]] | None:
    """Every item's transcript tags, in document order, or None when expat cannot read the
    document or finds another number of items than the `count` entries feedparser did (then
    position would pair tags with the wrong episodes)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    items = [element for element in root.iter() if element.tag in _ITEMS]
    if len(items) != count:
        return None
    return [
        [_tag(child.attrib) for child in item if child.tag in _TAGS and child.get("url")]
        for item in items
    ]


def entry_tags(entry: Mapping[str, Any]) -> list[TranscriptTag]:
    """The one tag feedparser kept of an entry (its last), whatever prefix the feed used."""
    return [
        _tag(value)
        for key, value in entry.items()
        if key.endswith("_transcript") and isinstance(value, Mapping) and value.get("url")
    ]


def choose(tags: list[TranscriptTag], base: str, language: str | None) -> TranscriptTag | None:
    """The best timed transcript (see the module's docstring for the order) with its URL made
    absolute against `base`, or None when there is none. A feed read from the web may only
    point at http(s) transcripts: a page on the web must not make us read local files."""
    remote = urlsplit(base).scheme.lower() in ("http", "https")
    allowed = ("http", "https") if remote else ("http", "https", "file")
    ranked = []
    for order, tag in enumerate(tags):
        kind = tag.type.split(";")[0].strip().lower()
        url = urljoin(base, tag.url.strip())
        if kind in FORMAT_RANK and urlsplit(url).scheme.lower() in allowed:
            rank = (_language_rank(tag.language, language), FORMAT_RANK[kind], order)
            ranked.append((rank, TranscriptTag(url, tag.type.strip(), tag.language, tag.rel)))
    return min(ranked, key=lambda pair: pair[0])[1] if ranked else None


def _language_rank(tag: str, feed: str | None) -> int:
    """0 the feed's language, 1 English, 2 none given, 3 another; by primary subtag, so a
    feed in `en-us` matches a transcript in `en`."""
    mine, theirs = _primary(tag), _primary(feed or "")
    if mine and mine == theirs:
        return 0
    if mine == "en":
        return 1
    return 2 if not mine else 3


def _primary(language: str) -> str:
    return language.strip().lower().replace("_", "-").split("-")[0]


def _tag(attrs: Mapping[str, Any]) -> TranscriptTag:
    def text(key: str) -> str:
        return str(attrs.get(key) or "").strip()

    return TranscriptTag(text("url"), text("type"), text("language"), text("rel"))
