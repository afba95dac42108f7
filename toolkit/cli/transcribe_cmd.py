"""`vtembed transcribe FILE`: the timestamped transcript, without embedding anything."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from vtembed.cli.context import app_context
from vtembed.cli.options import WhisperModelOption
from vtembed.errors import MediaError, UsageError
from vtembed.media import DecodeResult, pcm_windows, probe
from vtembed.subtitles import render
from vtembed.transcribe import Transcriber


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
    settings = app_context(ctx).settings(whisper__model=whisper_model)
    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    try:
        info = probe(str(file))
        decoded = DecodeResult()
        transcript = Transcriber(settings.whisper).transcribe(
            pcm_windows(info, settings.whisper.window_sec, decoded)
        )
    except MediaError as exc:
        typer.echo(f"error: {file}: {exc}", err=True)
        raise typer.Exit(1) from None
    if decoded.warning:
        typer.echo(f"warning: {file}: {decoded.warning}", err=True)
    typer.echo(render(transcript, fmt.value))
