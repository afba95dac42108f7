"""`vtembed search QUERY`: the stored moments nearest to a text query, best first."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from vtembed.cli.context import app_context
from vtembed.cli.options import EmbedderOption
from vtembed.cli.plugin_options import with_section_options
from vtembed.clip_tokens import get_counter
from vtembed.embedder import Embedder
from vtembed.errors import UsageError
from vtembed.hits import format_hit
from vtembed.models import TextChunk
from vtembed.registry import Registry
from vtembed.settings import PluginSection, Settings
from vtembed.sink import Sink


class Modality(StrEnum):
    text = "text"
    audio = "audio"
    all = "all"


def register(app: typer.Typer, sections: list[PluginSection]) -> None:
    app.command(name="search", no_args_is_help=True)(with_section_options(search, sections))


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What you are looking for, in words.")],
    sink: Annotated[
        str | None,
        typer.Option(
            help="The store to search, SCHEME:TARGET. [default: jsonl:vtembed-out/embeddings.jsonl]"
        ),
    ] = None,
    k: Annotated[int, typer.Option("-k", "--top", min=1, help="How many hits.")] = 10,
    modality: Annotated[
        Modality, typer.Option(help="Only text chunks, only audio segments, or all.")
    ] = Modality.all,
    media: Annotated[
        str | None,
        typer.Option(help="Only this media item: its id, a local path or its URL."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the hits as one JSON array.")
    ] = False,
    embedder: EmbedderOption = None,
    section_flags: dict[str, Any] | None = None,
) -> None:
    """Embed the query with the model the store holds and print the nearest moments.

    Exit codes: 0 ok (also when nothing matches), 2 usage error.
    """
    app = app_context(ctx)
    settings = app.settings(sink=sink, embedder=embedder, **(section_flags or {}))
    sink_cls, target = app.registry.sink(settings.sink)
    stored = sink_cls.stored_model(target, settings)
    if stored is None:
        raise UsageError(
            f"sink {settings.sink}: the sink holds no records yet (run vtembed ingest)"
        )
    model_name, dim = stored
    if sink_cls.search is Sink.search:
        raise UsageError(f"the {sink_cls.scheme} sink cannot search")
    embedder_cls = pick_embedder(app.registry, settings, model_name)
    vector = embed_query(query, embedder_cls(settings, model_name))
    if len(vector) != dim:
        raise UsageError(
            f"sink {settings.sink} holds {model_name} vectors of {dim} dims, but the query "
            f"embedding has {len(vector)} dims: the store and the model disagree"
        )
    filters: dict[str, Any] = media_filter(media) if media else {}
    if modality is not Modality.all:
        filters["modality"] = modality.value
    handle = sink_cls.open_for_search(target, model_name=model_name, dim=dim, settings=settings)
    try:
        hits = handle.search(vector, k, filters)
        # A mistyped --media matches nothing, and "no matches" alone would read as "not said".
        unknown = (
            media is not None and not hits and not handle.search(vector, 1, media_filter(media))
        )
    except NotImplementedError as exc:
        raise UsageError(str(exc) or f"the {sink_cls.scheme} sink cannot search") from None
    finally:
        handle.close()
    if as_json:
        typer.echo(json.dumps(hits, ensure_ascii=False, indent=2))
    elif unknown:
        typer.echo(
            f"no matches: the store holds no records of media {media} "
            "(give its id, or the path or URL it was ingested from)"
        )
    elif not hits:
        typer.echo("no matches")
    else:
        typer.echo("\n\n".join(format_hit(hit) for hit in hits))


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
    """The query's vector, as one text chunk within the model's token limit."""
    if not query.strip():
        raise UsageError("the query is empty")
    tokens = get_counter().count(query)
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
