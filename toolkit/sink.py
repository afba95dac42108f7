"""What a sink plugin implements: storage only. Upsert records by id, delete an item's records
(all, or all but some ids), count an item's records.

The host opens every sink through `vtembed.store.Store`, which keeps the rules that would
otherwise be copied into each sink: one writer at a time (a lock), one model and dimension per
store, ids once per batch, where the resume manifest lives, and replacing a changed item's
records only once its new ones are all stored. A sink only says where its store lives on this
machine (`local_path`), if it does, so the host keeps its files beside it.

Beyond storing, counting and deleting, a sink may offer four capabilities, and says so in
`capabilities` (a class-level frozenset of names), which the host reads: `"search"` (`search`,
`open_for_search`), `"text_search"` (`text_search`: full-text BM25 ranking of the records' `text`,
which hybrid search fuses with the vector ranking), `"stored_model"` (`stored_model`: which model a
store holds, without opening it) and `"media_counts"` (`media_counts`: the media ids a store holds,
with their record counts, without opening it). Declared flags rather than `typing.Protocol`s: the
base class keeps a documented default for every method, so a `runtime_checkable` protocol (which
only asks whether a name exists) would find every capability on every sink, and the host-side
wrapper a sink is opened through can copy one frozenset where it could not grow or hide methods. A
declaration is checked as the class is made: naming an unknown capability, or one whose method the
class does not implement, is a `TypeError` (so the plugin fails alone).
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord

if TYPE_CHECKING:
    from vtembed.settings import PluginSection, Settings

CAPABILITIES: dict[str, str] = {
    "search": "search",
    "text_search": "text_search",
    "stored_model": "stored_model",
    "media_counts": "media_counts",
}
"""Each capability a sink may declare, with the method that provides it."""


class Sink(ABC):
    """Subclass, set `scheme`, register it from `vtembed_register_sinks`; used as `SCHEME:TARGET`.

    Writing a record whose id is already stored stores it once (an upsert: the newer one may
    replace it). The host opens a sink for one model and dimension, after making sure the store
    holds no other; a sink that can tell (`stored_model`) may refuse too. It declares what more
    it offers in `capabilities` (see the module docstring).
    """

    scheme: ClassVar[str]
    capabilities: ClassVar[frozenset[str]] = frozenset()
    """What the sink offers beyond storing: any of "search", "text_search", "stored_model",
    "media_counts"."""
    settings_section: ClassVar[PluginSection | None] = None
    """The sink's own settings table, if it has one (`[name]` in TOML, `--name-key` flags)."""

    def __init__(
        self, target: str, *, model_name: str, dim: int, settings: Settings | None = None
    ) -> None:
        # A sink that code builds directly refuses a wrong target as the host's early check does,
        # before a subclass makes its lock or folder.
        type(self).check_target(target, settings)
        self.target = target
        self.model_name = model_name
        self.dim = dim
        self.settings = settings

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        unknown = sorted(set(cls.capabilities) - set(CAPABILITIES))
        if unknown:
            known = ", ".join(CAPABILITIES)
            raise TypeError(f"{cls.__qualname__} declares unknown capabilities {unknown}: {known}")
        delete = cls.__dict__.get("delete_media")
        if delete is not None and "keep" not in inspect.signature(delete).parameters:
            raise TypeError(
                f"{cls.__qualname__}.delete_media must take keep: "
                "def delete_media(self, media_id, keep=()) (the ids of the item to keep)"
            )
        for capability in cls.capabilities:
            method = CAPABILITIES[capability]
            if _func(getattr(cls, method)) is _func(getattr(Sink, method)):
                raise TypeError(
                    f"{cls.__qualname__} declares {capability!r} but does not implement {method}"
                )

    @classmethod
    def declares(cls, capability: str) -> bool:
        """Whether the sink declares the capability (see `capabilities`)."""
        if capability not in CAPABILITIES:
            raise ValueError(f"unknown sink capability {capability!r}")
        return capability in cls.capabilities

    @classmethod
    def options(cls, settings: Settings | None) -> Any:
        """The sink's settings table from a run's settings; its defaults when code builds a
        sink without settings (tests, benchmarks); None when the sink declares no table."""
        if cls.settings_section is None:
            return None
        if settings is None:
            return cls.settings_section.model()
        from vtembed.settings import section

        return section(settings, cls.settings_section.name)

    @classmethod
    def local_path(cls, target: str, settings: Settings | None = None) -> Path | None:
        """The file or folder on this machine that holds the store at target, or None for a
        store elsewhere (a server). The host keeps its lock and resume manifest beside it
        (`PATH.lock`, `PATH.state.sqlite`), else in its cache folder keyed by `store_key`."""
        return None

    @classmethod
    def store_key(cls, target: str, settings: Settings | None = None) -> str:
        """What names the store among all stores of this sink (for a store with no local path):
        by default the target, a path made absolute. Override when settings choose the store
        too (a collection name)."""
        if "://" in target:
            return f"{cls.scheme}:{target}"
        return f"{cls.scheme}:{Path(target).expanduser().resolve()}"

    @abstractmethod
    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        """Store records durably, by id (a stored id is replaced, not doubled); return how many
        were new. The host never gives one id twice in a batch."""

    @abstractmethod
    def delete_media(self, media_id: str, keep: Collection[str] = ()) -> int:
        """Remove every record of a media item except those whose ids are in `keep`; return how
        many went. The host calls it with `keep` when an item's new records are all stored (the
        old ones go) and when a write fails (the partial new ones go), else without (prune)."""

    @abstractmethod
    def count(self, media_id: str) -> int:
        """How many records of the media item are stored: resume trusts this, not its memory."""

    @classmethod
    def check_target(cls, target: str, settings: Settings | None = None) -> None:
        """Raise `UsageError` (one line naming the target) when target cannot be this kind of
        store: a folder where the store is a file, a store's own lock or state file. The host
        asks before any work, so a mistake costs no walk of the archive and leaves nothing
        behind: the check only looks, it creates nothing. By default every target may do."""

    @classmethod
    def doctor(cls, target: str, settings: Settings | None = None) -> list[tuple[str, str | None]]:
        """Checks for `vtembed doctor`: (what was checked, None if fine else what to do)."""
        return []

    @classmethod
    def stored_model(cls, target: str, settings: Settings | None = None) -> tuple[str, int] | None:
        """Which model and dimension the store at target holds, without opening it for writing.

        None when the store is missing or empty. Declare `"stored_model"` to have it asked.
        """
        return None

    @classmethod
    def media_counts(cls, target: str, settings: Settings | None = None) -> dict[str, int]:
        """The media ids the store at target holds, each with its number of records, without
        opening it for writing (nothing is created, no lock is taken); empty when the store is
        missing or empty. Declare `"media_counts"` to have it asked."""
        raise NotImplementedError(f"the {cls.scheme} sink does not list its media")

    @classmethod
    def open_for_search(
        cls, target: str, *, model_name: str, dim: int, settings: Settings | None = None
    ) -> Sink:
        """A handle that only searches; sinks that can read beside a running writer override it."""
        return cls(target, model_name=model_name, dim=dim, settings=settings)

    def search(
        self, vector: Sequence[float], k: int, filters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The k records nearest to vector by cosine similarity, best first; declare
        `"search"` to have it asked (a sink that does not search raises NotImplementedError).

        A hit is the record as stored, without `embedding`, plus `score` (cosine similarity,
        higher is better). `filters` may hold `modality` ("text" | "audio"), `media_id` and
        `media_uri`; only records matching all of them are scored.
        """
        raise NotImplementedError(f"the {self.scheme} sink does not support search")

    def text_search(
        self, query: str, k: int, filters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The k records whose `text` best matches the query's words, by BM25, best first;
        declare `"text_search"` to have it asked (on the handle `open_for_search` gives).

        A hit is shaped as a `search` hit, with `score` the BM25 score (higher is better; only
        its order matters, as hybrid search fuses ranks, not scores). Records that share no
        word with the query are not hits. `filters` are those of `search`. Numbers and codes
        ("2019", "X-42") must match as written: `vtembed.ranking.words` is a tokeniser that
        keeps them. A store this sink cannot search by text (one made before the sink could, on
        a server without full-text search) raises NotImplementedError saying why: hybrid search
        then ranks by vectors alone and shows that line.
        """
        raise NotImplementedError(f"the {self.scheme} sink does not support full-text search")

    def close(self) -> None:
        """Flush and release the store."""

    def describe(self) -> str:
        return f"{self.scheme}:{self.target}"


def _func(attribute: Any) -> Any:
    return getattr(attribute, "__func__", attribute)


def local_store_path(scheme: str, target: str, sidecars: Mapping[str, str]) -> Path:
    """The path of a store kept on the local disk, after the checks every such store shares.

    `sidecars` maps the suffixes of the files the store keeps beside itself (`PATH.lock`) to
    what they are. A target named like one of them is another store's file, which a store
    made there would clobber; a target under a file can hold nothing.
    """
    path = Path(target).expanduser()
    for suffix, what in sidecars.items():
        if path.name.endswith(suffix) and path.name != suffix:
            owner = path.with_name(path.name.removesuffix(suffix))
            raise UsageError(
                f"sink {scheme}:{target}: that is the {what} of the store {owner}, not a store; "
                f"give the store's own path ({scheme}:{owner})"
            )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"sink {scheme}:{target}: {parent} is a file, not a folder")
            break
    return path
