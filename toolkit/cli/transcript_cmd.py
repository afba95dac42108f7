"""`vtembed transcript MEDIA --sink ...`: print an ingested item's kept transcript."""

from __future__ import annotations

from typing import Annotated

import typer

from vtembed.cli.context import app_context
from vtembed.cli.transcribe_cmd import Format
from vtembed.subtitles import render


def register(app: typer.Typer) -> None:
    app.command(name="transcript", no_args_is_help=True)(transcript)


def transcript(
    ctx: typer.Context,
    media: Annotated[
        str, typer.Argument(help="The file or URL given to ingest, or a record's media id.")
    ],
    sink: Annotated[
        str | None,
        typer.Option(
            help="The store, SCHEME:TARGET. [default: jsonl:vtembed-out/embeddings.jsonl]"
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.txt,
) -> None:
    """Print the transcript an ingest kept (txt, srt, vtt or json), without recomputing it.

    Caption files print as their own cues; the first line on stderr says where it came from.
    """
    kept = app_context(ctx).transcript(media, sink=sink)
    typer.echo(f"{kept.item.label}: {kept.source} transcript" + (
        f" ({kept.origin})" if kept.origin else ""), err=True)  # fmt: skip
    typer.echo(render(kept.transcript(), fmt.value, kept.cues))
