"""`vtembed ingest`: parse, check the output paths, call `Vtembed.ingest`, print the summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vtembed.cli.context import app_context
from vtembed.cli.options import EmbedderOption, ModelOption, WhisperModelOption
from vtembed.cli.plugin_options import with_section_options
from vtembed.cli.run_end import check_summary_path, end_run
from vtembed.errors import UsageError
from vtembed.settings import PluginSection


def register(app: typer.Typer, sections: list[PluginSection]) -> None:
    app.command(name="ingest", no_args_is_help=True)(with_section_options(ingest, sections))


def ingest(
    ctx: typer.Context,
    locators: Annotated[
        list[str] | None,
        typer.Argument(
            help="Files, folders (walked recursively), glob patterns or URLs.", metavar="LOCATOR"
        ),
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(help="Read more locators from this file, one per line (# comments)."),
    ] = None,
    sink: Annotated[
        str | None,
        typer.Option(
            help="Where records go, SCHEME:TARGET. [default: jsonl:vtembed-out/embeddings.jsonl]"
        ),
    ] = None,
    embedder: EmbedderOption = None,
    model: ModelOption = None,
    whisper_model: WhisperModelOption = None,
    progress: Annotated[
        str | None, typer.Option(help="auto | rich | plain | none. [default: auto]")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(help="At most N items per locator, newest first (feeds). [default: all]"),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only items published on or after this date (YYYY-MM-DD)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Transcribe and plan, then print what would be sent (and its cost); "
            "send nothing and write no records.",
        ),
    ] = False,
    summary_json: Annotated[
        Path | None, typer.Option(help="Also write the run summary as JSON to this file.")
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(
            help="threads | ray: where items are transcribed (this process, or Ray actors). "
            "[default: threads]"
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(help="With --executor ray: the cluster (auto, ray://HOST:10001)."),
    ] = None,
    section_flags: dict[str, Any] | None = None,
) -> None:
    """Transcribe, chunk and embed media; a rerun does only what is new or changed.

    Exit codes: 0 all items done, 1 some item failed, 2 usage error, 130 interrupted.
    """
    from vtembed.progress import make_reporter

    app = app_context(ctx)
    settings = dict(
        sink=sink,
        embedder=embedder,
        model=model,
        progress=progress,
        whisper__model=whisper_model,
        dry_run=dry_run or None,
        limit=limit,
        since=since,
        executor=executor,
        ray__address=ray_address,
        **(section_flags or {}),
    )
    check_summary_path(summary_json)
    all_locators = [*(locators or []), *read_locators(from_file)]
    chosen = app.settings(**settings)
    reporter = make_reporter(chosen.progress)
    summary = app.ingest(all_locators, reporter=reporter, **settings)
    end_run(reporter, summary, summary_json)


def read_locators(path: Path | None) -> list[str]:
    """Locators from a list file: one per line; blank lines and `#` comments are ignored."""
    if path is None:
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"--from-file {path}: {exc.strerror}") from None
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
