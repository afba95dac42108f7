"""`vtembed doctor`: check what a run needs and say, for each problem, what to do about it."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vtembed.cli.context import app_context
from vtembed.cli.options import EmbedderOption
from vtembed.cli.plugin_options import with_section_options
from vtembed.settings import PluginSection


def register(app: typer.Typer, sections: list[PluginSection]) -> None:
    app.command(name="doctor")(with_section_options(doctor, sections))


def doctor(
    ctx: typer.Context,
    sink: Annotated[
        str | None,
        typer.Option(
            help="The store to check, SCHEME:TARGET. [default: jsonl:vtembed-out/embeddings.jsonl]"
        ),
    ] = None,
    embedder: EmbedderOption = None,
    section_flags: dict[str, Any] | None = None,
) -> None:
    """Check ffmpeg/ffprobe, the models, the embedder and the sink; exit 1 if anything is wrong."""
    checks = app_context(ctx).doctor(sink=sink, embedder=embedder, **(section_flags or {}))
    problems = 0
    for what, fix in checks:
        if fix is None:
            typer.echo(f"  ok       {what}")
        else:
            problems += 1
            typer.echo(f"  PROBLEM  {what}: {fix}")
    typer.echo("all good" if not problems else f"{problems} problem(s) found")
    raise typer.Exit(1 if problems else 0)
