"""`vtembed doctor`: check what a run needs and say, for each problem, what to do about it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Annotated, Any

import typer

from vtembed.cli.context import app_context
from vtembed.cli.options import EmbedderOption
from vtembed.cli.plugin_options import with_section_options
from vtembed.errors import UsageError, VtembedError
from vtembed.paths import folder_problem
from vtembed.settings import PluginSection, WhisperSettings
from vtembed.whisper_model import BUNDLED_FIX, describe_model, model_dir

INSTALL_FFMPEG = "install it: `sudo apt-get install ffmpeg` (or run `make demo`)"


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
    app = app_context(ctx)
    settings = app.settings(sink=sink, embedder=embedder, **(section_flags or {}))
    checks: list[tuple[str, str | None]] = []
    for tool in ("ffmpeg", "ffprobe"):
        checks.append(_tool(tool))
    checks.append(_whisper_model(settings.whisper))
    checks.append(_clip_vocab())
    try:
        embedder_cls = app.registry.embedder(settings.embedder)
        checks.extend(embedder_cls.doctor(settings))
    except VtembedError as exc:
        checks.append((f"embedder {settings.embedder}", str(exc)))
    try:
        sink_cls, target = app.registry.sink(settings.sink)
        checks.extend(sink_cls.doctor(target, settings))
    except VtembedError as exc:
        checks.append((f"sink {settings.sink}", str(exc)))
    checks.append(writable_dir("cache", settings.cache_dir))
    problems = 0
    for what, fix in checks:
        if fix is None:
            typer.echo(f"  ok       {what}")
        else:
            problems += 1
            typer.echo(f"  PROBLEM  {what}: {fix}")
    typer.echo("all good" if not problems else f"{problems} problem(s) found")
    raise typer.Exit(1 if problems else 0)


def _tool(name: str) -> tuple[str, str | None]:
    path = shutil.which(name)
    if not path:
        return name, f"not found on PATH; {INSTALL_FFMPEG}"
    out = subprocess.run([path, "-version"], capture_output=True, text=True, check=False)
    first = " ".join(out.stdout.split()[:3]) if out.stdout else name
    return first, None if out.returncode == 0 else f"`{name} -version` failed; {INSTALL_FFMPEG}"


def _whisper_model(settings: WhisperSettings) -> tuple[str, str | None]:
    what = describe_model(settings).replace(" (bundled; English only)", " (bundled)")
    try:
        model_dir(settings)
    except UsageError as exc:
        if not settings.model:
            return what, BUNDLED_FIX
        return what, str(exc).removeprefix(f"whisper.model {settings.model}: ")
    return what, None


def _clip_vocab() -> tuple[str, str | None]:
    from vtembed.clip_tokens import get_counter

    try:
        get_counter()
    except RuntimeError as exc:
        return "CLIP tokenizer vocabulary", str(exc)
    return "CLIP tokenizer vocabulary (77-token chunking)", None


def writable_dir(what: str, folder: Path) -> tuple[str, str | None]:
    problem = folder_problem(folder)
    if problem:
        return what, f"{problem}; choose another location"
    return f"{what} writable", None
