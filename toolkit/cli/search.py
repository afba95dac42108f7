"""`vtembed search QUERY`: the stored moments nearest to a text query, best first."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from vtembed.cli.context import app_context
from vtembed.cli.options import EmbedderOption
from vtembed.cli.plugin_options import with_section_options
from vtembed.hits import format_hit
from vtembed.settings import PluginSection


class Mode(StrEnum):
    hybrid = "hybrid"
    vector = "vector"
    text = "text"


class Modality(StrEnum):
    text = "text"
    audio = "audio"
    image = "image"
    video = "video"
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
        Modality,
        typer.Option(
            help="Only text chunks, audio segments, shots' keyframes, video clips, or all."
        ),
    ] = Modality.all,
    media: Annotated[
        str | None,
        typer.Option(help="Only this media item: its id, a local path or its URL."),
    ] = None,
    mode: Annotated[
        Mode,
        typer.Option(
            help="Rank by vectors and words fused (hybrid), by vectors, or by words (BM25)."
        ),
    ] = Mode.hybrid,
    group: Annotated[
        bool,
        typer.Option(
            "--group/--no-group",
            help="Join one item's records that overlap or lie within --group-gap seconds.",
        ),
    ] = True,
    group_gap: Annotated[
        float, typer.Option(min=0.0, help="Seconds between records of one grouped hit.")
    ] = 3.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the hits as one JSON array.")
    ] = False,
    embedder: EmbedderOption = None,
    section_flags: dict[str, Any] | None = None,
) -> None:
    """Embed the query with the model the store holds and print the nearest moments: by
    default vector and full-text (BM25) rankings fused, one hit per moment (docs/search.md).

    Exit codes: 0 ok (also when nothing matches), 2 usage error.
    """
    app = app_context(ctx)
    found = app.search(
        query,
        k=k,
        modality=modality.value,
        media=media,
        mode=mode.value,
        group=group,
        group_gap_sec=group_gap,
        sink=sink,
        embedder=embedder,
        **(section_flags or {}),
    )
    for note in found.notes:
        typer.echo(f"note: {note}", err=True)
    if as_json:
        typer.echo(json.dumps([hit.to_json() for hit in found.hits], ensure_ascii=False, indent=2))
    elif found.unknown_media:
        typer.echo(
            f"no matches: the store holds no records of media {media} "
            "(give its id, or the path or URL it was ingested from)"
        )
    elif not found.hits:
        typer.echo("no matches")
    else:
        typer.echo("\n\n".join(format_hit(hit.to_json()) for hit in found.hits))
