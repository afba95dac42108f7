"""A dry run plans against the store as it is and leaves it as it was.

Opening a sink for writing creates its store when there is none (a Milvus Lite folder, a LanceDB
directory, a JSONL lock file), so a dry run first asks the sink which model its store holds.
No store (or an empty one) is planned against a stand-in that holds nothing, so every item is
new. A store that holds records is opened as for a real run: the sink refuses one of another
model, and counts what is done (and may tidy the store as it would for a real run: the JSONL
sink cuts off a line a killed run left torn). The resume manifest is read, never written.
Which of its capabilities a sink declares decides how it is asked: `stored_model` first, else
`media_counts` (an empty listing is a store that holds nothing); a sink that declares neither
cannot say whether its store exists, and is opened as for a real run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vtembed.models import EmbeddingRecord
from vtembed.settings import Settings
from vtembed.sink import Sink
from vtembed.state import RunState


def open_sink(
    sink_cls: type[Sink], target: str, *, model_name: str, dim: int, settings: Settings
) -> Sink:
    if sink_cls.declares("stored_model"):
        empty = sink_cls.stored_model(target, settings) is None
    elif sink_cls.declares("media_counts"):
        empty = not sink_cls.media_counts(target, settings)
    else:
        return sink_cls(target, model_name=model_name, dim=dim, settings=settings)
    if empty:
        return NothingStored(sink_cls.scheme, target, model_name=model_name, dim=dim)
    # A store that holds records exists: opening it creates nothing, and a sink refuses a store
    # of another model as it opens, as in a real run.
    return sink_cls(target, model_name=model_name, dim=dim, settings=settings)


def read_state(sink: Sink, model_name: str) -> RunState:
    """The store's manifest read-only; none (empty) for a store that is not there."""
    path = None if isinstance(sink, NothingStored) else sink.state_path
    return RunState(path, model_name, writable=False)


class NothingStored(Sink):
    """Stands in for a store that is not there yet: it holds nothing, so every item is new."""

    def __init__(self, scheme: str, target: str, *, model_name: str, dim: int) -> None:
        super().__init__(target, model_name=model_name, dim=dim)
        self._scheme = scheme

    @property
    def state_path(self) -> Path:
        raise RuntimeError("a store that is not there has no resume state")

    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        raise RuntimeError("a dry run writes no records")

    def delete_media(self, media_id: str) -> int:
        raise RuntimeError("a dry run deletes no records")

    def count(self, media_id: str) -> int:
        return 0

    def describe(self) -> str:
        return f"{self._scheme}:{self.target}"
