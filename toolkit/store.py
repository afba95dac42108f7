"""A sink as the host opens it: the rules of a store, kept once for every sink.

A sink stores (upsert by id, delete an item's records, count them); `Store` around it keeps
the rest, so no sink re-implements it and a third-party one gets it for free:

- one writer per store (`StoreLock`), and the resume manifest, both where the host decides
  (`vtembed.store_files`);
- one model and dimension per store: refused before the sink is built when the sink declares
  `stored_model`, and from the manifest (which remembers what the store was written with) for
  every sink, so a store of vectors for one model never gains vectors of another;
- each id once per batch;
- an item's records stream to the sink as they are embedded (`put`, in writes of up to
  `records_per_write`), so nothing grows with the length of a file, and the item is switched
  over only when it is complete (`complete`): its
  old records (a changed file's, or a killed attempt's) are deleted then, not before. A write
  that fails (`abandon`) takes its partial records back out and leaves the item's last complete
  version as it was. The manifest keeps the ids of both (record ids include the media's
  fingerprint, so a new version never overwrites an old record).

A kill at any point leaves the item's row `writing` (or its previous row), so the next run
redoes it, and its switch-over removes whatever the killed attempt stored: exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vtembed.assets import AssetStore
from vtembed.errors import UsageError
from vtembed.manifest import Manifest
from vtembed.models import EmbeddingRecord, MediaItem
from vtembed.settings import Settings
from vtembed.sink import Sink
from vtembed.store_files import (
    StoreLock,
    assets_location,
    frames_folder,
    lock_location,
    state_location,
)

log = logging.getLogger(__name__)


@dataclass
class _Writing:
    """An item whose records are going to the sink."""

    last_complete: bool
    """Whether the manifest knows the ids of the item's last complete version (or that it had
    none); false for a store written before ids were kept, whose old records are left alone on
    a failure since they cannot be told from the partial new ones."""
    new: int = 0
    pending: list[EmbeddingRecord] = field(default_factory=list)
    """Records given but not yet written (fewer than `records_per_write`)."""


class Store:
    def __init__(
        self,
        sink: Sink,
        manifest: Manifest,
        lock: StoreLock | None = None,
        records_per_write: int = 256,
    ) -> None:
        self.sink = sink
        self.manifest = manifest
        self.records_per_write = records_per_write
        self._lock = lock
        self._writing: dict[str, _Writing] = {}
        self._holds_model = False

    @classmethod
    def open(
        cls,
        sink_cls: type[Sink],
        target: str,
        *,
        model_name: str,
        dim: int,
        settings: Settings | None = None,
        cache_dir: Path | None = None,
        records_per_write: int | None = None,
    ) -> Store:
        """The store at target opened for writing records of one model: locked, checked, with
        its manifest. Raises `UsageError` (one line) when it is in use or holds another model.
        `cache_dir` overrides the settings' for a store with no local path;
        `records_per_write`, the settings' `[pipeline] records_per_write`."""
        if records_per_write is None:
            records_per_write = settings.pipeline.records_per_write if settings else 256
        state_path = state_location(sink_cls, target, settings, cache_dir)
        local = sink_cls.local_path(target, settings)
        what = f"sink {sink_cls.scheme}:{target}" if local else f"the {sink_cls.scheme} store"
        lock = StoreLock(lock_location(state_path), what)
        try:
            sink, manifest = open_checked(
                sink_cls, target, model_name, dim, settings, state_path, what, writable=True
            )
        except BaseException:
            lock.release()
            raise
        return cls(sink, manifest, lock, records_per_write)

    def describe(self) -> str:
        return self.sink.describe()

    def frames_root(self, settings: Settings) -> Path | None:
        """Where the items' keyframes go (`[frames] thumbnails_dir`, else beside the manifest);
        None for a store that is not there (a dry run's stand-in)."""
        return frames_folder(settings, self.manifest.path)

    def assets(self, writable: bool = True) -> AssetStore | None:
        """The store's kept transcripts and shots; None for a store that is not there."""
        path = self.manifest.path
        return None if path is None else AssetStore(assets_location(path), writable)

    def is_done(self, item: MediaItem) -> bool:
        return self.manifest.is_done(item, self.sink)

    def put(self, item: MediaItem, records: Sequence[EmbeddingRecord]) -> None:
        """Some of an item's records, written once `records_per_write` of them are waiting."""
        writing = self._writing.get(item.id) or self._begin(item)
        writing.pending.extend(records)
        if len(writing.pending) >= self.records_per_write:
            self._write(item, writing)

    def _write(self, item: MediaItem, writing: _Writing) -> None:
        unique = list({record.id: record for record in writing.pending}.values())
        writing.pending = []
        if not unique:
            return
        if not self._holds_model:
            self.manifest.hold_model(self.sink.model_name, self.sink.dim)
            self._holds_model = True
        writing.new += self.sink.write(unique)
        self.manifest.add_new_ids(item.id, [record.id for record in unique])

    def complete(self, item: MediaItem) -> tuple[int, int]:
        """The item's records are all stored: its other records go, and it is done. Returns
        (records the item has, how many of them were new to the store)."""
        writing = self._writing.pop(item.id, None) or self._begin(item, keep=False)
        self._write(item, writing)
        keep = self.manifest.ids(item.id, "new")
        if self.sink.count(item.id) != len(keep):  # old or leftover records are there too
            self.sink.delete_media(item.id, keep=frozenset(keep))
        self.manifest.promote_new_ids(item.id)
        self.manifest.mark_done(item, len(keep))
        return len(keep), writing.new

    def abandon(self, item: MediaItem, error: str) -> None:
        """The item failed: what this attempt stored goes, its last complete version stays."""
        writing = self._writing.pop(item.id, None)
        if writing is not None:
            done = self.manifest.ids(item.id, "done")
            if not writing.last_complete:
                log.debug("%s: old records kept beside the failed write's", item.label)
            elif self.sink.count(item.id) != len(done) or self.manifest.ids(item.id, "new"):
                self.sink.delete_media(item.id, keep=frozenset(done))
            self.manifest.drop_new_ids(item.id)
        self.manifest.mark_failed(item, error)

    def close(self) -> None:
        """The manifest, then the sink, then the lock, however far opening got."""
        try:
            self.manifest.close()
        finally:
            try:
                self.sink.close()
            finally:
                if self._lock is not None:
                    self._lock.release()

    def _begin(self, item: MediaItem, keep: bool = True) -> _Writing:
        row = self.manifest.status(item.id)
        known = row is None or row[1] == 0 or bool(self.manifest.ids(item.id, "done"))
        self.manifest.drop_new_ids(item.id)  # a killed attempt's: its records go at the switch
        self.manifest.mark_writing(item)
        writing = _Writing(last_complete=known)
        if keep:
            self._writing[item.id] = writing
        return writing


def open_checked(
    sink_cls: type[Sink],
    target: str,
    model_name: str,
    dim: int,
    settings: Settings | None,
    state_path: Path | None,
    what: str,
    *,
    writable: bool,
) -> tuple[Sink, Manifest]:
    """The sink and its manifest, once neither says the store holds another model; whatever
    was opened is closed again when one does."""
    refuse_declared_model(sink_cls, target, settings, model_name, dim, what)
    sink = sink_cls(target, model_name=model_name, dim=dim, settings=settings)
    try:
        manifest = Manifest(state_path, model_name, writable=writable)
        try:
            refuse_manifest_model(manifest, sink, model_name, dim, what)
        except BaseException:
            manifest.close()
            raise
    except BaseException:
        sink.close()
        raise
    return sink, manifest


def refuse_declared_model(
    sink_cls: type[Sink],
    target: str,
    settings: Settings | None,
    model_name: str,
    dim: int,
    what: str,
) -> None:
    if not sink_cls.declares("stored_model"):
        return
    held = sink_cls.stored_model(target, settings)
    if held is not None and tuple(held) != (model_name, dim):
        raise _other_model(what, held[0], held[1], model_name, dim)


def refuse_manifest_model(
    manifest: Manifest, sink: Sink, model_name: str, dim: int, what: str
) -> None:
    """The manifest says which model the store was written with; a store that still holds
    records of another is refused (an emptied one may take a new model)."""
    held = manifest.held_model()
    if held is None:
        others = manifest.other_models()  # a manifest from before it kept the model
        held = (others[0], 0) if others else None
    if held is None or (held[0] == model_name and held[1] in (dim, 0)):
        return
    if any(sink.count(media_id) for media_id in manifest.media_ids()):
        raise _other_model(what, held[0], held[1], model_name, dim)


def _other_model(what: str, model: str, dims: int, model_name: str, dim: int) -> UsageError:
    having = f"{model} ({dims} dims)" if dims else model
    return UsageError(
        f"{what} holds {having}, not {model_name} ({dim} dims): choose another output path"
    )
