"""`vtembed ingest`: locators in, time-aligned embedding records out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vtembed import __version__
from vtembed.cli.context import app_context
from vtembed.discovery import discover
from vtembed.executors.local import LocalExecutor
from vtembed.pipeline import Stages
from vtembed.progress import make_reporter
from vtembed.state import RunState
from vtembed.summary import RunSummary
from vtembed.transcribe import Transcriber, describe_model


def register(app: typer.Typer) -> None:
    app.command(no_args_is_help=True)(ingest)


def ingest(
    ctx: typer.Context,
    locators: Annotated[
        list[str],
        typer.Argument(
            help="Files, folders (walked recursively) or glob patterns.", metavar="LOCATOR"
        ),
    ],
    sink: Annotated[
        str | None,
        typer.Option(
            help="Where records go, SCHEME:TARGET. [default: jsonl:vtembed-out/embeddings.jsonl]"
        ),
    ] = None,
    embedder: Annotated[
        str | None, typer.Option(help="Embedder plugin. [default: local (offline)]")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Embedding model. [default: the embedder's own]")
    ] = None,
    whisper_model: Annotated[
        str | None, typer.Option(help="Whisper model directory. [default: bundled tiny.en]")
    ] = None,
    progress: Annotated[
        str | None, typer.Option(help="auto | rich | plain | none. [default: auto]")
    ] = None,
    summary_json: Annotated[
        Path | None, typer.Option(help="Also write the run summary as JSON to this file.")
    ] = None,
) -> None:
    """Transcribe, chunk and embed media; a rerun does only what is new or changed.

    Exit codes: 0 all items done, 1 some item failed, 2 usage error, 130 interrupted.
    """
    app = app_context(ctx)
    settings = app.settings(
        sink=sink, embedder=embedder, model=model, progress=progress, whisper__model=whisper_model
    )
    registry = app.registry
    embedder_cls = registry.embedder(settings.embedder)
    sink_cls, target = registry.sink(settings.sink)
    found = discover(locators, registry, settings)
    reporter = make_reporter(settings.progress)
    the_embedder = embedder_cls(settings, settings.model or None)
    reporter.info(f"vtembed {__version__}: {the_embedder.describe()}")
    reporter.info(f"transcription: {describe_model(settings.whisper)}")
    the_sink = sink_cls(target, model_name=the_embedder.model_name, dim=the_embedder.dim)
    state = RunState(the_sink.state_path, the_embedder.model_name)
    summary = RunSummary(embedder=embedder_cls.name, model_name=the_embedder.model_name)
    summary.skipped = len(found.skipped)
    try:
        for bad in found.failed:
            reporter.error(bad.locator, bad.reason)
            summary.add_error(bad.locator, bad.reason)
        todo = [item for item in found.items if not state.is_done(item, the_sink)]
        summary.done_before = len(found.items) - len(todo)
        if todo:
            stages = Stages(
                settings=settings,
                sources=found.sources,
                transcriber=Transcriber(settings.whisper),
                embedder=the_embedder,
                sink=the_sink,
                state=state,
                reporter=reporter,
            )
            LocalExecutor().run(todo, stages, summary)
    finally:
        state.close()
        the_sink.close()
    for line in summary.lines(the_sink.describe()):
        reporter.info(line)
    if summary_json:
        summary.write_json(summary_json)
    raise typer.Exit(summary.exit_code)
