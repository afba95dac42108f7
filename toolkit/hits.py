"""How a search hit reads on a terminal: time ranges, shortened text and a way to jump there.

Pure functions of a hit (a record without `embedding`, plus `score`), so they test without media.
"""

from __future__ import annotations

import math
import shlex
from typing import Any
from urllib.parse import unquote, urldefrag, urlparse


def clock(seconds: float) -> str:
    """`mm:ss`, or `h:mm:ss` from one hour on; whole seconds, rounded down."""
    total = max(0, math.floor(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def time_range(start_sec: float, end_sec: float) -> str:
    """`01:02\u201301:12` (en dash); the end is rounded up so the range covers the span."""
    return f"{clock(start_sec)}\u2013{clock(math.ceil(end_sec))}"


def offset(seconds: float) -> str:
    """A start offset for links and players: tenths, rounded down, no trailing `.0`."""
    tenths = max(0, math.floor(seconds * 10 + 1e-6))
    whole, frac = divmod(tenths, 10)
    return f"{whole}.{frac}" if frac else str(whole)


def shorten(text: str, width: int = 100) -> str:
    """One line of at most width characters, cut at a word boundary with `…`."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 1]
    space = cut.rfind(" ")
    if space > width // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "\u2026"


def jump(uri: str, start_sec: float) -> list[str]:
    """Ways to play from start_sec: a `#t=` link, plus an ffplay command for local files."""
    at = offset(start_sec)
    base, _ = urldefrag(uri)
    scheme = urlparse(base).scheme
    if scheme == "file":
        path = unquote(urlparse(base).path)
        return [f"{base}#t={at}", f"ffplay -ss {at} {shlex.quote(path)}"]
    if scheme in ("http", "https"):
        return [f"{base}#t={at}"]
    return [uri]


def format_hit(hit: dict[str, Any], width: int = 100) -> str:
    """Score, title, time range and modality on one line; the text, the jump lines and the
    shot's thumbnail (when the store kept one) below. A grouped hit (with `modalities` and
    `records`) shows its span, every modality that found it and how many records; it jumps to
    its best record's start (`start_sec`)."""
    media = hit.get("media", {})
    found_by = hit["modality"]
    if "modalities" in hit:
        count = len(hit.get("records", ()))
        found_by = ", ".join(hit["modalities"]) + (f" ({count} records)" if count > 1 else "")
    span = hit.get("span_start_sec", hit["start_sec"]), hit.get("span_end_sec", hit["end_sec"])
    head = (
        f"{hit['score']:.3f}  {media.get('title') or media.get('uri', '?')}  "
        f"{time_range(*span)}  {found_by}"
    )
    if hit.get("vector_score") is not None:  # a fused score orders; the cosine says how near
        head += f"  (cosine {hit['vector_score']:.3f})"
    lines = [head]
    if hit.get("text"):
        lines.append(f"       {shorten(hit['text'], width)}")
    lines += [f"       {how}" for how in jump(media.get("uri", ""), hit["start_sec"])]
    if hit.get("thumbnail"):
        lines.append(f"       thumbnail: {hit['thumbnail']}")
    return "\n".join(lines)
