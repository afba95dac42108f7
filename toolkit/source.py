"""What a source plugin implements: find media for a locator and make it readable locally."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import unquote, urlsplit

from vtembed.models import MediaItem

if TYPE_CHECKING:
    from vtembed.downloads import Downloads
    from vtembed.settings import Settings

MEDIA_EXTENSIONS = frozenset(
    (
        ".3gp .aac .aif .aiff .amr .ape .asf .avi .caf .f4v .flac .flv .m2ts .m4a .m4b .m4v .mka "
        ".mkv .mov .mp2 .mp3 .mp4 .mpeg .mpg .mts .mxf .oga .ogg .ogv .opus .ra .rm .rmvb .ts .vob "
        ".wav .weba .webm .wma .wmv .wv"
    ).split()
)
"""File extensions (lower case) that name audio or video, for any source's quick checks."""
_EXTENSION = re.compile(r"^\.[A-Za-z0-9]{1,5}$")


@dataclass(frozen=True)
class Skipped:
    """Something a walk found and left out on purpose (an image, a note): counted, not an error."""

    locator: str
    reason: str


@dataclass(frozen=True)
class Failed:
    """Something the user asked for that cannot be used: one error line, the run goes on."""

    locator: str
    reason: str
    gone: bool = False
    """The locator names nothing now, for sure (a URL answering 404 or 410): `prune` removes
    what was stored from it. Leave it False for what may come back (a timeout, a 503)."""


Found = MediaItem | Skipped | Failed


class Decline(Exception):
    """Raised by `discover` before it yields anything: "not mine after all" (this URL is no
    feed, that page plays no media). The host then asks the next accepting source, by priority;
    the message says why, for the line printed when every source declines."""


class Source(ABC):
    """Subclass, set `name` and `priority`, register it from `vtembed_register_sources`.

    The host asks the sources that accept a locator in priority order (highest first); the first
    whose `discover` does not raise `Decline` walks it. Two accepting sources with the same
    priority are an error at start, so which plugin runs is never a matter of luck.
    """

    name: ClassVar[str]
    priority: ClassVar[int] = 0

    def __init__(self, settings: Settings) -> None:
        from vtembed.downloads import Downloads

        self.settings = settings
        self.downloads: Downloads = Downloads(settings)
        """The host's download service (cache, resume, retries, checks), this source's for the
        run: `self.downloads.download(url, fingerprint)` returns a complete local file."""

    @classmethod
    @abstractmethod
    def accepts(cls, locator: str) -> bool:
        """Whether this source may handle the locator, from the string alone (at most a stat
        of a local path; never a network request). When only fetching can tell (is this URL a
        feed?), accept by pattern and raise `Decline` from `discover`."""

    @abstractmethod
    def discover(self, locator: str) -> Iterator[Found]:
        """Yield every media item under the locator, plus what was skipped or unusable; or raise
        `Decline` before the first yield to hand the locator to the next accepting source."""

    @abstractmethod
    def open(self, item: MediaItem) -> Path:
        """Return a local file for the item (a source may download into a cache first)."""

    def close(self) -> None:
        """Release what the run held (the download service's connections)."""
        downloads = getattr(self, "downloads", None)  # None: an __init__ that skipped ours
        if downloads is not None:
            downloads.close()


def extension_of(name_or_url: str) -> str:
    """The file extension of a name or of a URL's last path segment, if it looks like one
    (lower case, with the dot; else "")."""
    path = urlsplit(name_or_url).path if "://" in name_or_url else name_or_url
    suffix = PurePosixPath(unquote(path)).suffix
    return suffix.lower() if _EXTENSION.match(suffix) else ""
