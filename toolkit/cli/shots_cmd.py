"""`vtembed shots FILE`: the shots cut at scene changes, with times, for checking the cuts."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from vtembed.cli.context import app_context
from vtembed.errors import MediaError


class Format(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command(name="shots", no_args_is_help=True)(shots)


def shots(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A video file (audio-only media has no shots).")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    keyframes: Annotated[
        Path | None,
        typer.Option(
            "--keyframes", help="Write each shot's keyframe and thumbnail JPEGs.", metavar="DIR"
        ),
    ] = None,
) -> None:
    """List the shots (start, end and keyframe time in seconds)."""
    try:
        result = app_context(ctx).shots(file, keyframes=keyframes)
    except MediaError as exc:
        typer.echo(f"error: {file}: {exc}", err=True)
        raise typer.Exit(2) from None
    if fmt is Format.json:
        typer.echo(json.dumps(result.as_json(), indent=2))
        return
    for shot in result.shots:  # "  0.00 <en dash>  12.40  keyframe 6.20"
        times = f"{shot.start_sec:6.2f} \u2013 {shot.end_sec:6.2f}"
        typer.echo(f"{times}  keyframe {shot.keyframe_sec:.2f}")
