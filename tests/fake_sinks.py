"""A third-party sink that stores nothing, for tests of what the host asks a sink: it only
counts (a fixed number) and declares nothing. Subclasses declare one capability each."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import ClassVar

from vtembed.models import EmbeddingRecord
from vtembed.settings import Settings
from vtembed.sink import Sink


class CountingSink(Sink):
    """Can only store, count and delete; `counted` is what `count` says of any item."""

    scheme = "counting"
    counted: ClassVar[int] = 0

    @classmethod
    def local_path(cls, target: str, settings: Settings | None = None) -> Path:
        return Path(target) / "store"

    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        return 0

    def delete_media(self, media_id: str, keep: Collection[str] = ()) -> int:
        return 0

    def count(self, media_id: str) -> int:
        return self.counted


class ListingSink(CountingSink):
    scheme = "listing"
    capabilities = frozenset({"media_counts"})
    held: ClassVar[dict[str, int]] = {}

    @classmethod
    def media_counts(cls, target: str, settings: Settings | None = None) -> dict[str, int]:
        return dict(cls.held)


class ModelSayingSink(CountingSink):
    scheme = "asked"
    capabilities = frozenset({"stored_model"})
    held: ClassVar[tuple[str, int] | None] = None

    @classmethod
    def stored_model(cls, target: str, settings: Settings | None = None) -> tuple[str, int] | None:
        return cls.held
