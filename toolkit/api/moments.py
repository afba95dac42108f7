"""What a store holds, read back without a query: a media item, its transcript around a second,
the archive's items and counts. The browser page (`vtembed ui`) shows these beside search hits.

Sinks offer no "list records" call, only `search(vector, k, filters)` and, where declared,
`media_counts`; so an item's records are read with a filtered search (`media_id`, `modality`)
whose k is the item's record count (or `LIST_LIMIT`), which every searching sink answers. The
query vector is a fixed unit vector: the order it gives is thrown away, records are sorted by
time. Exact on JSONL and on LanceDB tables without a vector index; an approximate index (IVF,
HNSW) may leave out a few of a very long item's records.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vtembed.errors import UsageError
from vtembed.settings import Settings
from vtembed.sink import Sink

if TYPE_CHECKING:
    from vtembed.api.app import Vtembed

LIST_LIMIT = 16_384
"""The most records read back for one item (Milvus's own top-k ceiling)."""
MODALITY_ORDER = ("text", "audio", "image", "video")


@dataclass(frozen=True)
class Moment:
    """One stored record of a media item, without its embedding: from when to when, what."""

    modality: str
    start_sec: float
    end_sec: float
    text: str


@dataclass(frozen=True)
class StoredMedia:
    """A media item as the store knows it: its `media` fields and its records per modality."""

    id: str
    uri: str
    title: str
    source: str
    duration_sec: float | None
    counts: dict[str, int] = field(default_factory=dict)
    media: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, media: dict[str, Any], counts: dict[str, int] | None = None) -> StoredMedia:
        duration = media.get("duration_sec")
        return cls(
            id=str(media.get("id", "")),
            uri=str(media.get("uri", "")),
            title=str(media.get("title") or ""),
            source=str(media.get("source") or ""),
            duration_sec=None if duration is None else float(duration),
            counts=dict(counts or {}),
            media=dict(media),
        )


@dataclass(frozen=True)
class ArchiveOverview:
    sink: str
    model_name: str
    dim: int
    embedder: str | None
    """The installed embedder that embeds queries for the stored model (None: none does)."""
    items: list[StoredMedia] | None
    """Every item, by title; None when the sink cannot list its media (no `media_counts`)."""


@dataclass
class _Reader:
    handle: Sink
    model_name: str
    dim: int

    def records(
        self, media_id: str, k: int = LIST_LIMIT, modality: str | None = None
    ) -> list[dict[str, Any]]:
        probe = [1.0] + [0.0] * (self.dim - 1)
        filters: dict[str, Any] = {"media_id": media_id}
        if modality is not None:
            filters["modality"] = modality
        found = self.handle.search(probe, min(k, LIST_LIMIT), filters)
        found.sort(key=lambda r: (float(r["start_sec"]), float(r["end_sec"])))
        return found


def stored_model(app: Vtembed, settings: Settings) -> tuple[type[Sink], str, str, int]:
    """The sink class, target, model and dimension of the configured store; `UsageError`
    (one line) when the sink cannot search or holds nothing yet, as `search` says it."""
    sink_cls, target = app.registry.sink(settings.sink)
    sink_cls.check_target(target, settings)
    for capability in ("search", "stored_model"):
        if not sink_cls.declares(capability):
            raise UsageError(f"the {sink_cls.scheme} sink cannot {capability.replace('_', ' ')}")
    held = sink_cls.stored_model(target, settings)
    if held is None:
        raise UsageError(
            f"sink {settings.sink}: the sink holds no records yet (run vtembed ingest)"
        )
    return sink_cls, target, held[0], held[1]


@contextmanager
def _reading(app: Vtembed, settings: Settings) -> Iterator[_Reader]:
    sink_cls, target, model_name, dim = stored_model(app, settings)
    handle = sink_cls.open_for_search(target, model_name=model_name, dim=dim, settings=settings)
    try:
        yield _Reader(handle, model_name, dim)
    finally:
        handle.close()


def media_info(app: Vtembed, settings: Settings, media_id: str) -> StoredMedia | None:
    """The item's `media` fields from one of its records (no counts); None for an id the
    store does not hold. Cheap: one record is read."""
    with _reading(app, settings) as reader:
        found = reader.records(media_id, k=1)
    return StoredMedia.of(found[0].get("media") or {}) if found else None


def media_item(app: Vtembed, settings: Settings, media_id: str) -> StoredMedia | None:
    """The item with its number of records per modality; None for an unknown id."""
    with _reading(app, settings) as reader:
        return _item(reader, media_id)


def _item(reader: _Reader, media_id: str, k: int = LIST_LIMIT) -> StoredMedia | None:
    found = reader.records(media_id, k=max(1, k))
    if not found:
        return None
    counts: dict[str, int] = {}
    for record in found:
        counts[str(record["modality"])] = counts.get(str(record["modality"]), 0) + 1
    ordered = {m: counts[m] for m in (*MODALITY_ORDER, *sorted(counts)) if m in counts}
    return StoredMedia.of(found[0].get("media") or {}, ordered)


def transcript_around(
    app: Vtembed, settings: Settings, media_id: str, at_sec: float, window_sec: float = 60.0
) -> list[Moment]:
    """The item's text records that overlap `at_sec ± window_sec`, in time order: what was
    said around a hit. Empty for an unknown id or an item with no transcript."""
    low, high = at_sec - window_sec, at_sec + window_sec
    with _reading(app, settings) as reader:
        found = reader.records(media_id, modality="text")
    return [
        Moment("text", float(r["start_sec"]), float(r["end_sec"]), str(r.get("text") or ""))
        for r in found
        if float(r["end_sec"]) >= low and float(r["start_sec"]) <= high
    ]


def overview(app: Vtembed, settings: Settings) -> ArchiveOverview:
    """Model, dimension and query embedder of the store, and its items with their counts when
    the sink can list its media (`media_counts`)."""
    from vtembed.api.searching import pick_embedder

    sink_cls, target, model_name, dim = stored_model(app, settings)
    try:
        embedder: str | None = pick_embedder(app.registry, settings, model_name).name
    except UsageError:
        embedder = None
    items: list[StoredMedia] | None = None
    if sink_cls.declares("media_counts"):
        ids = sink_cls.media_counts(target, settings)
        with _reading(app, settings) as reader:
            found = (_item(reader, media_id, count) for media_id, count in ids.items())
            items = sorted((i for i in found if i is not None), key=lambda i: (i.title, i.id))
    return ArchiveOverview(settings.sink, model_name, dim, embedder, items)
