"""A dry run plans against the store as it is and leaves it as it was.

Opening a store for writing creates it when there is none (a Milvus Lite file, a LanceDB folder,
the host's lock and manifest), so a dry run first asks the sink whether its store holds
anything: `stored_model` if it declares that, else `media_counts` (an empty listing is a store
that holds nothing). No store (or an empty one) is planned against a stand-in that holds
nothing, so every item is new. A store that holds records, or one whose sink cannot tell, is
opened without the lock and with its manifest read-only: it is refused if it holds another
model, as in a real run, and counts what is done (the sink may tidy it as a real run would: the
JSONL sink cuts off a line a killed run left torn). Nothing is written.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from vtembed.manifest import Manifest
from vtembed.models import EmbeddingRecord
from vtembed.settings import Settings
from vtembed.sink import Sink
from vtembed.store import Store, open_checked
from vtembed.store_files import state_location


def open_store(
    sink_cls: type[Sink], target: str, *, model_name: str, dim: int, settings: Settings
) -> Store:
    """The store as a real run would find it, with its manifest read-only and no lock."""
    if sink_cls.declares("stored_model"):
        empty = sink_cls.stored_model(target, settings) is None
    elif sink_cls.declares("media_counts"):
        empty = not sink_cls.media_counts(target, settings)
    else:
        empty = False
    if empty:
        nothing = NothingStored(sink_cls.scheme, target, model_name=model_name, dim=dim)
        return Store(nothing, Manifest(None, model_name, writable=False))
    # A store that holds records exists: opening it creates nothing. It is refused if it holds
    # another model, as in a real run.
    what = f"sink {sink_cls.scheme}:{target}"
    state_path = state_location(sink_cls, target, settings)
    sink, manifest = open_checked(
        sink_cls, target, model_name, dim, settings, state_path, what, writable=False
    )
    return Store(sink, manifest)


class NothingStored(Sink):
    """Stands in for a store that is not there yet: it holds nothing, so every item is new."""

    def __init__(self, scheme: str, target: str, *, model_name: str, dim: int) -> None:
        super().__init__(target, model_name=model_name, dim=dim)
        self._scheme = scheme

    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        raise RuntimeError("a dry run writes no records")

    def delete_media(self, media_id: str, keep: Collection[str] = ()) -> int:
        raise RuntimeError("a dry run deletes no records")

    def count(self, media_id: str) -> int:
        return 0

    def describe(self) -> str:
        return f"{self._scheme}:{self.target}"
