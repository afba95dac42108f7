"""What the page shows of a hit or a transcript line: pure functions of typed values, so the
server-rendered HTML and the JSON the script reads say the same thing.

Highlighting escapes first and marks second: the text is HTML-escaped, then query words are
wrapped in `<mark>` by a pattern that steps over the escaped entities (`&amp;`, `&#39;`), so
neither a record's text nor a query can inject markup.
"""

from __future__ import annotations

import mimetypes
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from markupsafe import Markup, escape

from vtembed.api.moments import Moment
from vtembed.api.searching import Hit
from vtembed.hits import clock, time_range

STOP_WORDS = frozenset(
    "a an and are as at be but by do for from has have he her his i in is it its of on or "
    "she so that the their them then there they this to was we were with you".split()
)
_SUFFIXES = ("ing", "ed", "es", "s")
_ENDINGS = "ing|ed|es|er|ers|e|s|d"  # what a stem may be followed by in the text


def query_stems(query: str) -> tuple[str, ...]:
    """The query's words worth marking, cut to a stem so "walking" marks "walks" too; short
    and common words are left out (a mark on every "a" helps nobody). Longest first."""
    stems = set()
    for word in re.findall(r"\w+", query.lower()):
        if word in STOP_WORDS or len(word) < 2:
            continue
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        stems.add(word)
    return tuple(sorted(stems, key=lambda s: (-len(s), s)))


@lru_cache(maxsize=256)
def _pattern(stems: tuple[str, ...]) -> re.Pattern[str]:
    words = "|".join(re.escape(s) for s in stems)
    return re.compile(rf"(&#?\w+;)|\b((?:{words})(?:{_ENDINGS})?)\b", re.IGNORECASE)


def highlight(text: str, query: str) -> Markup:
    """`text` as safe HTML with the query's words in `<mark>`."""
    escaped = str(escape(text))
    stems = query_stems(query)
    if not stems:
        return Markup(escaped)

    def mark(match: re.Match[str]) -> str:
        if match.group(1):  # an entity made by escaping: keep it whole
            return match.group(1)
        return f"<mark>{match.group(2)}</mark>"

    return Markup(_pattern(stems).sub(mark, escaped))


def media_kind(uri: str, has_pictures: bool) -> str:
    """`video` when the item has shots or its name says video, else `audio` (a plain icon)."""
    if has_pictures:
        return "video"
    guessed, _ = mimetypes.guess_type(urlsplit(uri).path)
    return "video" if (guessed or "").startswith("video/") else "audio"


def where(uri: str) -> str:
    """A short name of where the media lives: a file's name, a URL's host and path."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return Path(unquote(parts.path)).name
    if parts.scheme in ("http", "https"):
        return parts.netloc + parts.path
    return uri


def media_url(media_id: str) -> str:
    return "/media/" + quote(media_id, safe="")


def thumb_url(hit: Hit) -> str | None:
    """The route of the hit's thumbnail; only for a file in its own media's folder."""
    if hit.thumbnail is None:
        return None
    path = Path(hit.thumbnail)
    if path.parent.name != hit.media_id:
        return None
    return f"/thumb/{quote(hit.media_id, safe='')}/{quote(path.name, safe='')}"


def play_href(params: dict[str, Any], media_id: str, start_sec: float) -> str:
    """The page's own address with this moment playing: a bookmark of search and moment."""
    kept = {k: v for k, v in params.items() if k not in ("play", "t") and v not in (None, "")}
    return "/?" + urlencode({**kept, "play": media_id, "t": f"{start_sec:g}"})


def card(hit: Hit, query: str, params: dict[str, Any]) -> dict[str, Any]:
    """Everything a result card shows, for the template and for `/api/search` alike."""
    media = hit.record.get("media") or {}
    thumb = thumb_url(hit)
    at = hit.start_sec  # the best record's start, also in a grouped hit: where to play from
    return {
        "media_id": hit.media_id,
        "title": hit.title or where(hit.media_uri),
        "source": str(media.get("source") or ""),
        "where": where(hit.media_uri),
        "media_uri": hit.media_uri,
        "modality": hit.modality,
        "modalities": list(hit.modalities or (hit.modality,)),
        "start_sec": hit.start_sec,
        "end_sec": hit.end_sec,
        "at_sec": at,
        "time_range": time_range(hit.start_sec, hit.end_sec),
        "score": round(hit.score, 4),
        "text": hit.text,
        "text_html": str(highlight(hit.text, query)),
        "thumbnail_url": thumb,
        "kind": media_kind(hit.media_uri, thumb is not None),
        "href": play_href(params, hit.media_id, at),
    }


def line(moment: Moment, query: str) -> dict[str, Any]:
    """One transcript line, for the pane beside the player."""
    return {
        "start_sec": moment.start_sec,
        "end_sec": moment.end_sec,
        "clock": clock(moment.start_sec),
        "text": moment.text,
        "html": str(highlight(moment.text, query)),
    }


def duration(seconds: float | None) -> str:
    return "" if seconds is None else clock(seconds)
