"""OPML subscription lists, as podcast apps export them: the feed URLs their outlines name.

An OPML file is `<opml><body>` with `<outline>` elements; a feed is an outline with an `xmlUrl`
(usually `type="rss"`), and apps nest them in folders (outlines inside outlines). Every outline
with an `xmlUrl` counts, whatever its `type` (apps write `rss`, `link` or nothing), at any depth,
in document order, each URL once. Parsing uses the standard library's expat, which refuses
entity expansion bombs (expat ≥ 2.4.1), since an OPML URL may come from anywhere.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urljoin

# The root element after an optional BOM, XML declaration, comments, PIs and a doctype.
_OPML_ROOT = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<opml[\s>/]",
    re.DOTALL | re.IGNORECASE,
)


def is_opml_start(data: bytes) -> bool:
    """Whether bytes begin with an `<opml>` root element."""
    return _OPML_ROOT.match(data) is not None


def feed_urls(body: bytes, base: str) -> list[str]:
    """The feed URLs an OPML document lists (relative ones resolved against `base`). Raises
    ValueError when it is not well-formed XML."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError(f"not well-formed OPML ({exc})") from None
    urls: dict[str, None] = {}
    for outline in root.iter("outline"):
        url = next((v for k, v in outline.attrib.items() if k.lower() == "xmlurl"), "").strip()
        if url:
            urls.setdefault(urljoin(base, url), None)
    return list(urls)
