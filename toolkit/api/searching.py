"""`search`: embed a query with the model the store holds and ask the store for its neighbours."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vtembed.embedder import Embedder
from vtembed.errors import UsageError
from vtembed.models import TextChunk
from vtembed.registry import Registry
from vtembed.settings import Settings
from vtembed.sink import Sink
from vtembed.store_files import frames_location, state_location
from vtembed.thumbnails import Thumbnails

if TYPE_CHECKING:
    from vtembed.api.app import Vtembed

MODALITIES = ("text", "audio", "image", "all")


@dataclass(frozen=True)
class Hit:
    """One stored moment: which media, from when to when, how near (cosine, higher is
    better). `record` is the record as stored, without its embedding."""

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
        )

    def to_json(self) -> dict[str, Any]:
        """The record as stored (no embedding) with its `score`, and `thumbnail` when known."""
        out = dict(self.record)
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


def search(
    app: Vtembed,
    query: str,
    settings: Settings,
    *,
    k: int,
    modality: str,
    media: str | None,
) -> SearchResult:
    if k < 1:
        raise UsageError(f"k must be at least 1, not {k}")
    if modality not in MODALITIES:
        raise UsageError(f"modality {modality!r}: choose one of {', '.join(MODALITIES)}")
    sink_cls, target = app.registry.sink(settings.sink)
    sink_cls.check_target(target, settings)
    if not sink_cls.declares("search"):
        raise UsageError(f"the {sink_cls.scheme} sink cannot search")
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
    embedder_cls = pick_embedder(app.registry, settings, model_name)
    vector = embed_query(query, embedder_cls.for_store(settings, model_name, dim))
    if len(vector) != dim:
        raise UsageError(
            f"sink {settings.sink} holds {model_name} vectors of {dim} dims, but the query "
            f"embedding has {len(vector)} dims: the store and the model disagree"
        )
    filters: dict[str, Any] = media_filter(media) if media else {}
    if modality != "all":
        filters["modality"] = modality
    handle = sink_cls.open_for_search(target, model_name=model_name, dim=dim, settings=settings)
    try:
        found = handle.search(vector, k, filters)
        unknown = (
            media is not None and not found and not handle.search(vector, 1, media_filter(media))
        )
    except NotImplementedError as exc:
        raise UsageError(str(exc) or f"the {sink_cls.scheme} sink cannot search") from None
    finally:
        handle.close()
    thumbnails = Thumbnails(frames_root(sink_cls, target, settings))
    hits = [
        Hit.of(r, thumbnails.at(str((r.get("media") or {}).get("id", "")), float(r["start_sec"])))
        for r in found
    ]
    return SearchResult(hits, model_name, unknown)


def frames_root(sink_cls: type[Sink], target: str, settings: Settings) -> Path:
    """Where ingest put the store's keyframes: `[frames] thumbnails_dir`, else beside it."""
    if settings.frames.thumbnails_dir:
        return Path(settings.frames.thumbnails_dir).expanduser()
    return frames_location(state_location(sink_cls, target, settings))


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
