"""`search`: embed a query with the model the store holds, ask the store for its neighbours and,
where the sink offers full-text search, for the records holding the query's words; fuse the two
rankings (`vtembed.ranking`) and group the records of one moment into one hit
(`vtembed.grouping`). docs/search.md says why each step is as it is."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vtembed.embedder import Embedder
from vtembed.errors import UsageError
from vtembed.grouping import GROUP_GAP_SEC, Group, group_records
from vtembed.models import TextChunk
from vtembed.ranking import fuse
from vtembed.registry import Registry
from vtembed.settings import Settings
from vtembed.sink import Sink
from vtembed.store_files import frames_folder, state_location
from vtembed.thumbnails import Thumbnails

if TYPE_CHECKING:
    from vtembed.api.app import Vtembed

MODALITIES = ("text", "audio", "image", "video", "all")
MODES = ("vector", "text", "hybrid")
CANDIDATES_PER_HIT = 4
"""Each ranking fetches this many records per hit asked for: a hit may group several records,
and fusion needs the records one ranking places lower than the other."""


@dataclass(frozen=True)
class Hit:
    """One stored moment: which media, from when to when, how near (higher is better).

    A grouped hit (`grouped`, the default) is one media item's records that overlap or lie
    within `group_gap_sec` of each other: `records` holds them best first, `record` is the best
    one, whose `start_sec`/`end_sec` (where to play from) and `text` the hit shows,
    `span_start_sec`/`span_end_sec` span them all, `modalities` lists what found it, best
    first, and `score` is the best record's fused rank score (`vtembed.ranking.fuse`: in
    (0, 1], 1.0 = ranked first by every ranking; it orders, it does not measure). An
    ungrouped hit (`group=False`) is one record, scored as its ranking scored it: cosine
    similarity (vector), BM25 (text) or the fused score (hybrid). Every record is as stored,
    without its embedding, with its `score` and, once fused, `vector_score`/`text_score`.
    """

    score: float
    media_id: str
    media_uri: str
    title: str
    modality: str
    start_sec: float
    end_sec: float
    text: str
    record: Mapping[str, Any] = field(repr=False)
    thumbnail: str | None = None
    """The thumbnail JPEG of the shot on screen at `start_sec` (a video's hits of every
    modality), if the store kept one."""
    modalities: tuple[str, ...] = ()
    records: list[Mapping[str, Any]] = field(default_factory=list, repr=False)
    span_start_sec: float | None = None
    """Where the hit's first record starts (`start_sec` for one record)."""
    span_end_sec: float | None = None
    """Where the hit's last record ends (`end_sec` for one record)."""
    grouped: bool = False
    transcript_source: str | None = None
    """Where the (best record's) words came from: whisper, sidecar, stream or feed; None when
    the store does not say (a picture's record, a store made before it was kept)."""
    times_interpolated: bool = False
    """The record was cut inside a caption cue: `start_sec`/`end_sec` are estimates."""
    language: str | None = None
    """The media's language (`media.language`, e.g. "en"), when it is known."""

    @classmethod
    def of_group(cls, group: Group, thumbnail: Path | None = None) -> Hit:
        """A grouped hit: the best record's fields, the group's span, score and records. A
        best record without words (a keyframe) lends the hit the words of the next best that
        has some, so the moment still reads as what was said then."""
        worded = next((r for r in group.records if r.get("text")), group.best)
        return replace(
            cls.of(group.best, thumbnail),
            text=str(worded.get("text") or ""),
            span_start_sec=group.start_sec,
            span_end_sec=group.end_sec,
            modalities=group.modalities,
            records=list(group.records),
            grouped=True,
        )

    @classmethod
    def of(cls, record: Mapping[str, Any], thumbnail: Path | None = None) -> Hit:
        media = record.get("media") or {}
        return cls(
            score=float(record["score"]),
            media_id=str(media.get("id", "")),
            media_uri=str(media.get("uri", "")),
            title=str(media.get("title") or ""),
            modality=str(record["modality"]),
            start_sec=float(record["start_sec"]),
            end_sec=float(record["end_sec"]),
            text=str(record.get("text") or ""),
            record=record,
            thumbnail=None if thumbnail is None else str(thumbnail),
            modalities=(str(record["modality"]),),
            records=[record],
            span_start_sec=float(record["start_sec"]),
            span_end_sec=float(record["end_sec"]),
            transcript_source=record.get("transcript_source"),
            times_interpolated=bool(record.get("times_interpolated")),
            language=media.get("language"),
        )

    def to_json(self) -> dict[str, Any]:
        """The record as stored (no embedding) with its `score`, and `thumbnail` when known.

        A grouped hit is its best record (its `start_sec`, `end_sec`) with the hit's `score`
        and `text`, plus `span_start_sec`, `span_end_sec`, `modalities` and `records` (each as
        stored, best first)."""
        out = dict(self.record)
        if self.grouped:
            out.update(
                score=self.score,
                text=self.text,
                span_start_sec=self.span_start_sec,
                span_end_sec=self.span_end_sec,
                modalities=list(self.modalities),
                records=[dict(r) for r in self.records],
            )
        if self.thumbnail is not None:
            out["thumbnail"] = self.thumbnail
        return out


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    model_name: str
    unknown_media: bool = False
    """A `media` filter that names nothing the store holds: "no matches" alone would read as
    "never said"."""
    mode: str = "vector"
    """The ranking the hits come from: "vector", "text" or "hybrid" (hybrid asked of a sink
    without full-text search is "vector", and `notes` says so)."""
    notes: tuple[str, ...] = ()
    """What a user should know about how the search ran, one line each (a face shows them)."""


def search(
    app: Vtembed,
    query: str,
    settings: Settings,
    *,
    k: int,
    modality: str,
    media: str | None,
    mode: str = "hybrid",
    group: bool = True,
    group_gap_sec: float = GROUP_GAP_SEC,
) -> SearchResult:
    if k < 1:
        raise UsageError(f"k must be at least 1, not {k}")
    if modality not in MODALITIES:
        raise UsageError(f"modality {modality!r}: choose one of {', '.join(MODALITIES)}")
    if mode not in MODES:
        raise UsageError(f"mode {mode!r}: choose one of {', '.join(MODES)}")
    if group_gap_sec < 0:
        raise UsageError(f"the group gap must not be negative, not {group_gap_sec} s")
    if not query.strip():
        raise UsageError("the query is empty")
    sink_cls, target = app.registry.sink(settings.sink)
    sink_cls.check_target(target, settings)
    if not sink_cls.declares("search"):
        raise UsageError(f"the {sink_cls.scheme} sink cannot search")
    mode, notes = _mode_for(sink_cls, mode)
    if not sink_cls.declares("stored_model"):
        raise UsageError(
            f"the {sink_cls.scheme} sink cannot say which model its store holds, "
            "so no query can be embedded for it"
        )
    stored = sink_cls.stored_model(target, settings)
    if stored is None:
        raise UsageError(
            f"sink {settings.sink}: the sink holds no records yet (run vtembed ingest)"
        )
    model_name, dim = stored
    vector: list[float] | None = None
    if mode != "text":
        embedder_cls = pick_embedder(app.registry, settings, model_name)
        vector = embed_query(query, _query_embedder(app, embedder_cls, settings, model_name, dim))
        if len(vector) != dim:
            raise UsageError(
                f"sink {settings.sink} holds {model_name} vectors of {dim} dims, but the query "
                f"embedding has {len(vector)} dims: the store and the model disagree"
            )
    filters: dict[str, Any] = media_filter(media) if media else {}
    if modality != "all":
        filters["modality"] = modality
    fused = group or mode == "hybrid"
    wanted = k * CANDIDATES_PER_HIT if fused else k
    handle = sink_cls.open_for_search(target, model_name=model_name, dim=dim, settings=settings)
    try:
        rankings, fallback = _rankings(handle, query, vector, mode, wanted, filters)
        if fallback is not None:
            mode, notes = "vector", (*notes, fallback)
        found = fuse(rankings) if fused else rankings[mode]
        # Any vector finds some record of an item the store holds, whatever the query's words.
        unknown = (
            media is not None
            and not found
            and not handle.search([1.0] * dim, 1, media_filter(media))
        )
    except NotImplementedError as exc:
        raise UsageError(str(exc) or f"the {sink_cls.scheme} sink cannot search") from None
    finally:
        handle.close()
    thumbnails = Thumbnails(frames_root(sink_cls, target, settings))

    def thumbnail(record: Mapping[str, Any]) -> Path | None:
        media_id = str((record.get("media") or {}).get("id", ""))
        return thumbnails.at(media_id, float(record["start_sec"]))

    if group:
        groups = group_records(found, group_gap_sec)[:k]
        hits = [Hit.of_group(g, thumbnail(g.best)) for g in groups]
    else:
        hits = [Hit.of(r, thumbnail(r)) for r in found[:k]]
    return SearchResult(hits, model_name, unknown, mode, notes)


def _rankings(
    handle: Sink,
    query: str,
    vector: list[float] | None,
    mode: str,
    wanted: int,
    filters: dict[str, Any],
) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """Each ranking the mode asks for, by name, and why hybrid fell back to vectors alone, if
    it did: a sink that searches text may hold a store that cannot (`NotImplementedError`).
    Hybrid runs its two rankings at once: a database sink waits on its own threads for both
    (LanceDB's vector and full-text queries at 100 000 records: about 60 and 40 ms), so the
    search takes about as long as the slower one."""
    if vector is None:
        return {"text": handle.text_search(query, wanted, filters)}, None
    if mode == "vector":
        return {"vector": handle.search(vector, wanted, filters)}, None
    with ThreadPoolExecutor(max_workers=1) as pool:
        words = pool.submit(handle.text_search, query, wanted, filters)
        near = handle.search(vector, wanted, filters)
        try:
            return {"vector": near, "text": words.result()}, None
        except NotImplementedError as exc:
            return {"vector": near}, f"{exc}; hybrid search ranks by vectors alone"


def _mode_for(sink_cls: type[Sink], mode: str) -> tuple[str, tuple[str, ...]]:
    """The mode the sink can run, and a note when hybrid falls back to vectors alone."""
    if sink_cls.declares("text_search") or mode == "vector":
        return mode, ()
    if mode == "text":
        raise UsageError(
            f"the {sink_cls.scheme} sink has no full-text search: use --mode vector or hybrid"
        )
    return "vector", (
        f"the {sink_cls.scheme} sink has no full-text search, so hybrid search ranks by "
        "vectors alone",
    )


def frames_root(sink_cls: type[Sink], target: str, settings: Settings) -> Path:
    """Where ingest put the store's keyframes (as `Store.frames_root` says for an open one)."""
    root = frames_folder(settings, state_location(sink_cls, target, settings))
    assert root is not None  # a state location always has a frames folder beside it
    return root


def pick_embedder(registry: Registry, settings: Settings, model_name: str) -> type[Embedder]:
    """The configured embedder if it serves the stored model, else the only one that does."""
    preferred = registry.embedders.get(settings.embedder)
    if preferred is not None and preferred.serves(model_name, settings):
        return preferred
    serving = [cls for cls in registry.embedders.values() if cls.serves(model_name, settings)]
    if len(serving) == 1:
        return serving[0]
    if not serving:
        raise UsageError(f"no embedder serves model {model_name}, which the sink holds")
    names = ", ".join(sorted(cls.name for cls in serving))
    raise UsageError(f"embedders {names} all serve model {model_name}: choose one with --embedder")


_kept: weakref.WeakKeyDictionary[Vtembed, dict[tuple[Any, ...], Embedder]] = (
    weakref.WeakKeyDictionary()
)
_kept_lock = threading.Lock()


def _query_embedder(
    app: Vtembed, embedder_cls: type[Embedder], settings: Settings, model_name: str, dim: int
) -> Embedder:
    """The embedder for this store's queries, kept by the app for its next search when it holds
    nothing to close (it keeps the base class's `aclose`): making the local one loads its model,
    about 250 ms, thirty times what embedding a query takes. An embedder with clients to close
    (a remote API's, bound to one event loop) is made for each query and closed after it."""
    if embedder_cls.aclose is not Embedder.aclose:
        return embedder_cls.for_store(settings, model_name, dim)
    key = (embedder_cls, model_name, dim, settings.model_dump_json(exclude={"sink"}))
    with _kept_lock:
        kept = _kept.setdefault(app, {})
        if key not in kept:
            kept.clear()  # one store's embedder at a time: a model may be large
            kept[key] = embedder_cls.for_store(settings, model_name, dim)
        return kept[key]


def embed_query(query: str, embedder: Embedder) -> list[float]:
    """The query's vector, as one text chunk within the model's token limit, counted as the
    model counts."""
    if not query.strip():
        raise UsageError("the query is empty")
    tokens = embedder.token_counter().count(query)
    if tokens > embedder.text_token_limit:
        raise UsageError(
            f"the query is {tokens} tokens; {embedder.model_name} takes at most "
            f"{embedder.text_token_limit}: shorten it"
        )
    return asyncio.run(_embed(embedder, TextChunk(query, 0.0, 0.0, tokens)))


async def _embed(embedder: Embedder, chunk: TextChunk) -> list[float]:
    try:
        (vector,) = await embedder.embed([chunk])
    finally:
        await embedder.aclose()
    return list(vector)


def media_filter(media: str) -> dict[str, str]:
    """A URL (matched as it is), a local path (matched by its file:// URI) or a media id."""
    if "://" in media:
        return {"media_uri": media}
    path = Path(media).expanduser()
    if path.exists() or "/" in media:
        return {"media_uri": path.resolve().as_uri()}
    return {"media_id": media}
