"""`vtembed reembed`: parse, call `Vtembed.reembed`, print the summary (as `ingest` does)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vtembed.cli.context import app_context
from vtembed.cli.options import EmbedderOption, ModelOption
from vtembed.cli.plugin_options import with_section_options
from vtembed.cli.run_end import check_summary_path, end_run
from vtembed.settings import PluginSection


def register(app: typer.Typer, sections: list[PluginSection]) -> None:
    app.command(name="reembed", no_args_is_help=True)(with_section_options(reembed, sections))


def reembed(
    ctx: typer.Context,
    from_sink: Annotated[
        str,
        typer.Option("--from", help="The store to read, SCHEME:TARGET (made by `vtembed ingest`)."),
    ],
    sink: Annotated[str, typer.Option(help="The new store, SCHEME:TARGET, for the new model.")],
    embedder: EmbedderOption = None,
    model: ModelOption = None,
    progress: Annotated[
        str | None, typer.Option(help="auto | rich | plain | none. [default: auto]")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Plan and print what would be sent (and its cost); write nothing."
        ),
    ] = False,
    summary_json: Annotated[
        Path | None, typer.Option(help="Also write the run summary as JSON to this file.")
    ] = None,
    section_flags: dict[str, Any] | None = None,
) -> None:
    """Build a store for another model from what a store already transcribed and cut: no
    Whisper, no scene detection; chunks are planned again for the new model's token limit.

    Exit codes: 0 all items done, 1 some item failed, 2 usage error, 130 interrupted.
    """
    from vtembed.progress import make_reporter

    app = app_context(ctx)
    settings = dict(
        sink=sink,
        embedder=embedder,
        model=model,
        progress=progress,
        dry_run=dry_run or None,
        **(section_flags or {}),
    )
    check_summary_path(summary_json)
    reporter = make_reporter(app.settings(**settings).progress)
    summary = app.reembed(from_sink, reporter=reporter, **settings)
    end_run(reporter, summary, summary_json)
