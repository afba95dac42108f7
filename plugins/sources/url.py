"""Remote media at http(s) URLs: one item per URL, downloaded into a cache when it is opened.

Discovery sends one HEAD (never a GET) so that an item carries its version (ETag, else
Last-Modified) and its Content-Disposition name before any work: an unchanged URL that is done
is then skipped without downloading, and a changed one is redone. A server that refuses HEAD
still works; its item is named from the URL and the GET decides. Any other URL scheme is claimed
only to say clearly that it is unsupported, instead of "no such file". Requests and downloads go
through the host's download service (`self.downloads`, settings `[url]`). It never declines: it is
the last source asked about an http(s) URL.
"""

from __future__ import annotations

import email.message
import re
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import httpx

from vtembed import hookimpl
from vtembed.downloads import Downloads, status_error, validator_of
from vtembed.errors import MediaError
from vtembed.models import MediaItem, stable_id
from vtembed.source import Failed, Found, Source, extension_of

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SUPPORTED = ("http", "https")
_GONE = (404, 410)


class UrlSource(Source):
    name = "url"
    priority = 10

    @classmethod
    def accepts(cls, locator: str) -> bool:
        match = _SCHEME.match(locator)
        return match is not None and match.group(1).lower() != "file"

    def discover(self, locator: str) -> Iterator[Found]:
        scheme = locator.split("://", 1)[0].lower()
        if scheme not in _SUPPORTED:
            yield Failed(locator, f"unsupported URL scheme {scheme!r}: only http and https")
            return
        try:
            headers = _head(locator, self.downloads)
        except MediaError as exc:
            yield Failed(locator, str(exc), gone=isinstance(exc, _Gone))
            return
        yield item_for(locator, headers)

    def open(self, item: MediaItem) -> Path:
        return self.downloads.download(item.uri, item.fingerprint)


def item_for(url: str, headers: httpx.Headers | None = None) -> MediaItem:
    """The item of one URL; `headers` (from a HEAD, if any) give its version and name."""
    headers = headers if headers is not None else httpx.Headers()
    return MediaItem(
        id=stable_id("url", url),
        uri=url,
        title=title_for(url, headers),
        source=UrlSource.name,
        fingerprint=validator_of(headers),
    )


def title_for(url: str, headers: httpx.Headers) -> str:
    """The Content-Disposition file name, else the URL's last path segment, without extension."""
    name = _disposition_name(headers.get("content-disposition", ""))
    if not name:
        parts = urlsplit(url)
        name = unquote(PurePosixPath(parts.path).name, errors="replace") or parts.hostname or url
    extension = extension_of(name)
    return name[: -len(extension)] if extension and len(name) > len(extension) else name


def _disposition_name(value: str) -> str:
    """`filename*=UTF-8''...` (RFC 6266) or `filename="..."`; any folder part is dropped."""
    if not value:
        return ""
    message = email.message.Message()
    message["content-disposition"] = value
    name = message.get_filename() or ""
    return name.replace("\\", "/").rsplit("/", 1)[-1].strip()


def _head(url: str, downloads: Downloads) -> httpx.Headers | None:
    """Headers of a HEAD, or None when the server will not say (the GET decides then).

    Only answers that a GET would repeat fail discovery: gone (404, 410) and redirect trouble.
    """
    try:
        response = downloads.head(url)
    except httpx.HTTPError:
        return None
    if response.status_code in _GONE:
        raise _Gone(str(status_error(response)))
    return response.headers if response.is_success else None


class _Gone(MediaError):
    """The server says the URL names nothing (404, 410)."""


@hookimpl
def vtembed_register_sources(register: Callable[[type[Source]], None]) -> None:
    register(UrlSource)
