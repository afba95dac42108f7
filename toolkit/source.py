"""What a source plugin implements: find media for a locator and make it readable locally."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from vtembed.models import MediaItem

if TYPE_CHECKING:
    from vtembed.settings import Settings


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


class Source(ABC):
    """Subclass, set `name` and `priority`, register it from `vtembed_register_sources`.

    When several sources accept a locator the highest `priority` wins; two accepting sources with
    the same priority are an error at start, so which plugin runs is never a matter of luck.
    """

    name: ClassVar[str]
    priority: ClassVar[int] = 0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    @abstractmethod
    def accepts(cls, locator: str) -> bool:
        """Cheap check (no I/O beyond a stat) whether this source handles the locator."""

    @abstractmethod
    def discover(self, locator: str) -> Iterator[Found]:
        """Yield every media item under the locator, plus what was skipped or unusable."""

    @abstractmethod
    def open(self, item: MediaItem) -> Path:
        """Return a local file for the item (a source may download into a cache first)."""
