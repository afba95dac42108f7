"""The host's download service: http(s) media into a cache, for any source that finds remote media.

A source calls it through `self.downloads` (one `Downloads` per source and run, made with the
source: its pooled HTTP client is opened on the first request and closed with `close()`, or when
the object is collected). Its settings are the `[url]` table, declared here (the name predates the
service: it governed the URL source's downloads first) and loaded whenever sources are.

The cache is one folder per URL (`<url.cache_dir>/<sha256(url)[:32]>/`) holding `meta.json`
(the validators the body was fetched with), `media.EXT.part` while bytes arrive and `media.EXT`
once they are complete and ffprobe reads them as media. A complete file is trusted while its
validator (ETag, else Last-Modified) equals the one the caller saw, so a rerun sends no request
at all; a `.part` left by a killed run is resumed with `Range` + `If-Range`. Bodies that are
errors, HTML or undecodable are removed, never cached.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from vtembed import __version__
from vtembed.errors import MediaError
from vtembed.settings import PluginSection, Settings
from vtembed.source import extension_of

_HTML_STARTS = (b"<!doctype html", b"<html")


class DownloadSettings(BaseModel):
    cache_dir: str = Field("", description="Download cache; empty: <cache_dir>/downloads.")
    max_redirects: int = Field(10, ge=0, description="Redirects followed per request.")
    connect_timeout_sec: float = Field(10.0, gt=0, description="Seconds to connect.")
    read_timeout_sec: float = Field(60.0, gt=0, description="Seconds to wait for an answer.")
    stall_sec: float = Field(30.0, gt=0, description="A body with no bytes this long stalled.")
    max_attempts: int = Field(4, ge=1, description="Attempts per download before it fails.")
    backoff_max_sec: float = Field(30.0, gt=0, description="Longest wait between attempts.")
    max_size_mb: float = Field(4096.0, gt=0, description="Largest download, in MiB.")


SECTION = PluginSection("url", DownloadSettings)


class Transient(Exception):
    """A failure worth another attempt: 5xx, 429, timeouts, stalls, dropped connections."""


class Downloads:
    """The download service of one source in one run (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # A source built alone (a test, `Source(Settings())`) has no [url] table: the defaults.
        self.config: DownloadSettings = getattr(settings, SECTION.name, None) or DownloadSettings()
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def download(self, url: str, fingerprint: str = "") -> Path:
        """A complete local copy of `url`, downloaded only when the cache has no current copy.

        `fingerprint` is the validator the caller saw (ETag, else Last-Modified, e.g. from a HEAD
        or a feed); "" trusts any complete cached copy, as a server without validators gives us no
        way to tell that the body changed. Raises MediaError with one line naming the cause.
        """
        config = self.config
        key = hashlib.sha256(url.encode()).hexdigest()[:32]
        entry = CacheEntry(self.cache_root() / key, extension_of(url))
        with entry.locked():
            cached = entry.read_meta().get("validator")
            if fingerprint and cached is not None and cached != fingerprint:
                entry.clear()  # a new version: the old body or part is of no use
            if entry.final.is_file():
                return entry.final
            retrying = Retrying(
                stop=stop_after_attempt(config.max_attempts),
                wait=wait_random_exponential(multiplier=0.5, max=config.backoff_max_sec),
                retry=retry_if_exception_type(Transient),
                reraise=True,
            )
            try:
                for attempt in retrying:
                    with attempt:
                        _attempt(self, url, entry)
                _check_media(entry.part)
            except Transient as exc:  # the .part stays: the next run resumes it
                raise MediaError(f"{exc} (gave up after {config.max_attempts} attempts)") from None
            except MediaError:
                entry.clear()
                raise
            os.replace(entry.part, entry.final)
            return entry.final

    def cache_root(self) -> Path:
        """Where downloads are cached: `url.cache_dir`, else `<cache_dir>/downloads`."""
        if self.config.cache_dir:
            return Path(self.config.cache_dir)
        return Path(self.settings.cache_dir) / "downloads"

    def open_response(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        timeout_sec: float | None = None,
    ) -> httpx.Response:
        """Send a request and follow redirects by hand (httpx only counts hops; a loop deserves
        its own message). The caller closes the streamed response. `timeout_sec` bounds both
        the connection and the wait for an answer (a quick look); else the `[url]` timeouts."""
        config = self.config
        http = self._http()
        timeout = (
            httpx.Timeout(timeout_sec)
            if timeout_sec is not None
            else httpx.Timeout(config.read_timeout_sec, connect=config.connect_timeout_sec)
        )
        seen = {url}
        for _ in range(config.max_redirects + 1):
            request = http.build_request(method, url, headers=headers, timeout=timeout)
            response = http.send(request, stream=True)
            if not response.has_redirect_location:
                return response
            response.close()
            url = str(response.url.join(response.headers["location"]))
            if urlsplit(url).scheme not in ("http", "https"):
                raise MediaError(f"redirected to {url}: only http and https are supported")
            if url in seen:
                raise MediaError(f"redirect loop at {url}")
            seen.add(url)
        raise MediaError(f"more than {config.max_redirects} redirects (the last to {url})")

    def head(self, url: str, timeout_sec: float | None = None) -> httpx.Response:
        """A HEAD with redirects followed (closed: read its status and headers). Raises
        MediaError for redirect trouble and httpx.HTTPError when there is no answer."""
        response = self.open_response("HEAD", url, timeout_sec=timeout_sec)
        response.close()
        return response

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def __enter__(self) -> Downloads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _http(self) -> httpx.Client:
        """One pooled client per service, made on first use; `Accept-Encoding: identity` keeps
        byte ranges meaningful."""
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    headers={"User-Agent": f"vtembed/{__version__}", "Accept-Encoding": "identity"}
                )
                weakref.finalize(self, self._client.close)
            return self._client


def download(url: str, settings: Settings, fingerprint: str = "") -> Path:
    """One download through a service of its own, closed after (for code outside a source)."""
    with Downloads(settings) as service:
        return service.download(url, fingerprint)


def validator_of(headers: httpx.Headers) -> str:
    """What identifies one version of a body: the ETag, else Last-Modified, else ""."""
    return headers.get("etag") or headers.get("last-modified") or ""


def status_error(response: httpx.Response) -> Exception | None:
    """The exception a status deserves: retry 429 and 5xx; any other 4xx is final."""
    code = response.status_code
    if code == 429 or code >= 500:
        return Transient(f"HTTP {code} {response.reason_phrase}")
    if code >= 400:
        return MediaError(f"HTTP {code} {response.reason_phrase}")
    return None


class CacheEntry:
    """The cache folder of one URL; `locked()` keeps two processes off the same download."""

    def __init__(self, folder: Path, extension: str) -> None:
        self.folder = folder
        self.final = folder / f"media{extension}"
        self.part = folder / f"media{extension}.part"
        self.meta = folder / "meta.json"

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def read_meta(self) -> dict[str, Any]:
        try:
            data = json.loads(self.meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_meta(self, meta: dict[str, Any]) -> None:
        tmp = self.meta.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, self.meta)

    def clear(self) -> None:
        for path in (self.final, self.part, self.meta):
            path.unlink(missing_ok=True)


def _attempt(downloads: Downloads, url: str, entry: CacheEntry) -> None:
    """One GET that completes `entry.part`, resuming what is there when the server allows it."""
    config = downloads.config
    meta = entry.read_meta()
    offset = entry.part.stat().st_size if entry.part.exists() else 0
    if offset and offset == meta.get("size"):
        return  # complete before a kill stopped the run: only the checks are left
    if_range = _if_range(meta)
    headers = {"Range": f"bytes={offset}-", "If-Range": if_range} if offset and if_range else {}
    try:
        response = downloads.open_response("GET", url, headers)
    except httpx.ConnectTimeout:
        raise Transient(f"cannot connect within {config.connect_timeout_sec:g} s") from None
    except httpx.TimeoutException:
        raise Transient(f"no answer within {config.read_timeout_sec:g} s") from None
    except httpx.UnsupportedProtocol as exc:
        raise MediaError(f"cannot fetch: {exc}") from None
    except httpx.TransportError as exc:
        raise Transient(f"connection failed ({exc or type(exc).__name__})") from None
    try:
        if response.status_code == 416 and headers:
            entry.part.unlink(missing_ok=True)  # our part no longer fits the body: start over
            raise Transient("HTTP 416 Range Not Satisfiable; restarting")
        if error := status_error(response):
            raise error
        resumed = response.status_code == 206 and bool(headers)
        if resumed and _range_start(response) != offset:
            entry.part.unlink(missing_ok=True)
            raise Transient("the server resumed at another offset; restarting")
        start = offset if resumed else 0  # 200 means the whole body, from zero
        total = _total_size(response, start)
        if not resumed:
            got = response.headers
            entry.write_meta(
                {"url": url, "validator": validator_of(got), "size": total}
                | {"etag": got.get("etag"), "last_modified": got.get("last-modified")}
            )
        _check_size(total, config)
        received = _stream(response, entry.part, start, config)
    finally:
        response.close()
    if total is not None and received != total:
        raise Transient(f"connection dropped after {received} of {total} bytes")
    if total is None:
        entry.write_meta(entry.read_meta() | {"size": received})


def _stream(response: httpx.Response, part: Path, start: int, config: DownloadSettings) -> int:
    # httpcore reads the read timeout from the request when the body starts, so from here on a
    # read that waits longer than stall_sec for the next bytes raises ReadTimeout.
    timeout = response.request.extensions.get("timeout")
    if isinstance(timeout, dict):
        timeout["read"] = config.stall_sec
    received = start
    try:
        with part.open("ab" if start else "wb") as out:
            for chunk in response.iter_raw():
                received += len(chunk)
                _check_size(received, config)
                out.write(chunk)
    except httpx.ReadTimeout:
        raise Transient(f"stalled: no data for {config.stall_sec:g} s") from None
    except httpx.TransportError as exc:
        raise Transient(f"connection dropped after {received} bytes ({exc})") from None
    return received


def _check_media(path: Path) -> None:
    from vtembed.media import probe  # ffmpeg and numpy: not for `import vtembed.registry`

    with path.open("rb") as body:
        head = body.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(_HTML_STARTS):
        raise MediaError("the server sent an HTML page, not media")
    try:
        probe(str(path))
    except MediaError as exc:  # "not readable as media (...)" or "has no audio stream"
        text = str(exc)
        raise MediaError(f"the download {'is ' if text.startswith('not ') else ''}{text}") from None


def _check_size(size: int | None, config: DownloadSettings) -> None:
    limit = config.max_size_mb * 1024 * 1024
    if size is not None and size > limit:
        raise MediaError(f"larger than url.max_size_mb ({config.max_size_mb:g} MiB)")


def _total_size(response: httpx.Response, start: int) -> int | None:
    length = response.headers.get("content-length")
    return start + int(length) if length and length.isdigit() else None


def _range_start(response: httpx.Response) -> int | None:
    match = re.match(r"bytes (\d+)-", response.headers.get("content-range", ""))
    return int(match.group(1)) if match else None


def _if_range(meta: dict[str, Any]) -> str | None:
    """If-Range needs a strong ETag or a date; without either, resuming could splice versions."""
    etag = meta.get("etag")
    if etag and not etag.startswith("W/"):
        return str(etag)
    return meta.get("last_modified") or None
