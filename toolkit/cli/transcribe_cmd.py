"""`vtembed transcribe FILE`: the timestamped transcript, without embedding anything."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from vtembed.cli.context import app_context
from vtembed.cli.options import WhisperModelOption
from vtembed.errors import MediaError


class Format(StrEnum):
    txt = "txt"
    srt = "srt"
    vtt = "vtt"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command(name="transcribe", no_args_is_help=True)(transcribe)


def transcribe(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="An audio or video file.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.txt,
    whisper_model: WhisperModelOption = None,
) -> None:
    """Print the transcript with absolute timestamps (txt, srt, vtt or json)."""
    try:
        result = app_context(ctx).transcribe(file, whisper__model=whisper_model)
    except MediaError as exc:
        typer.echo(f"error: {file}: {exc}", err=True)
        raise typer.Exit(1) from None
    if result.warning:
        typer.echo(f"warning: {file}: {result.warning}", err=True)
    typer.echo(result.render(fmt.value))
