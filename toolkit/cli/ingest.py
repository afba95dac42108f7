"""`vtembed ingest`: locators in, time-aligned embedding records out."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer

from vtembed import __version__, dry_run
from vtembed.cli.context import AppContext, app_context
from vtembed.cli.options import EmbedderOption, ModelOption, WhisperModelOption
from vtembed.cli.plugin_options import with_section_options
from vtembed.discovery import Discovery, claim, walk
from vtembed.embedder import Embedder
from vtembed.errors import UsageError
from vtembed.executors import make_executor
from vtembed.pipeline import Stages
from vtembed.progress import Reporter, make_reporter
from vtembed.settings import PluginSection, Settings
from vtembed.sink import Sink
from vtembed.state import RunState
from vtembed.summary import RunSummary
from vtembed.transcribe import Transcriber
from vtembed.whisper_model import describe_model, model_dir

SKIP_LINES = 20  # a folder of photos should not drown the run's output


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
        typer.Option(help="local | ray: where items are processed. [default: local]"),
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
    app = app_context(ctx)
    settings = app.settings(
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
    summary = run_ingest(app, settings, [*(locators or []), *read_locators(from_file)])
    if summary_json:
        summary.write_json(summary_json)
    raise typer.Exit(summary.exit_code)


def read_locators(path: Path | None) -> list[str]:
    """Locators from a list file: one per line; blank lines and `#` comments are ignored."""
    if path is None:
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"--from-file {path}: {exc.strerror}") from None
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def run_ingest(app: AppContext, settings: Settings, locators: list[str]) -> RunSummary:
    if not locators:
        raise UsageError("nothing to ingest: give files, folders, globs or URLs, or --from-file")
    registry = app.registry
    embedder_cls = registry.embedder(settings.embedder)
    sink_cls, target = registry.sink(settings.sink)
    executor = make_executor(settings)
    reporter = make_reporter(settings.progress)
    # Every usage error comes before discovery walks and probes the archive, not after minutes
    # of finding media: the embedder checks the model (and its key), the Whisper model is found
    # (it loads only once there is something to transcribe), the locators are claimed
    # by their sources, then the sink refuses a store of another model or one in use. Claiming
    # comes before the sink, which may create its store: a mistyped path creates nothing (and a
    # dry run never does).
    the_embedder = embedder_cls(settings, settings.model or None)
    model_dir(settings.whisper)
    _announce(reporter, settings, the_embedder.describe(), app)
    claims = claim(locators, registry, settings)
    summary = RunSummary(embedder=embedder_cls.name, model_name=the_embedder.model_name)
    with contextlib.ExitStack() as closing:  # the state, then the sink, however the run ends
        the_sink, state = _open_store(closing, sink_cls, target, the_embedder, settings)
        found = walk(claims, settings)
        _report_found(reporter, found, summary)
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
            executor.run(todo, stages, summary)
    for line in summary.lines(the_sink.describe(), settings.dry_run):
        reporter.info(line)
    if settings.dry_run:
        reporter.info(summary.dry_run_line(the_embedder.estimate_cost))
    return summary


def _open_store(
    closing: contextlib.ExitStack,
    sink_cls: type[Sink],
    target: str,
    embedder: Embedder,
    settings: Settings,
) -> tuple[Sink, RunState]:
    """The sink, then its manifest; `closing` closes them in reverse. A dry run creates and
    writes neither (see `vtembed.dry_run`)."""
    model_name, dim = embedder.model_name, embedder.dim
    if settings.dry_run:
        sink = dry_run.open_sink(
            sink_cls, target, model_name=model_name, dim=dim, settings=settings
        )
    else:
        sink = sink_cls(target, model_name=model_name, dim=dim, settings=settings)
    closing.callback(sink.close)
    if settings.dry_run:
        state = dry_run.read_state(sink, model_name)
    else:
        state = RunState(sink.state_path, model_name)
    closing.callback(state.close)
    return sink, state


def _report_found(reporter: Reporter, found: Discovery, summary: RunSummary) -> None:
    summary.skipped = len(found.skipped)
    for skipped in found.skipped[:SKIP_LINES]:
        reporter.info(f"skipped: {skipped.locator} ({skipped.reason})")
    if len(found.skipped) > SKIP_LINES:
        reporter.info(f"skipped: … and {len(found.skipped) - SKIP_LINES} more")
    for bad in found.failed:
        reporter.error(bad.locator, bad.reason)
        summary.add_error(bad.locator, bad.reason)


def _announce(reporter: Reporter, settings: Settings, embedder: str, app: AppContext) -> None:
    reporter.info(f"vtembed {__version__}: {embedder}")
    reporter.info(f"transcription: {describe_model(settings.whisper)}")
    for name, cls in app.registry.embedders.items():
        hint = cls.hint_when_not_chosen(settings) if name != settings.embedder else None
        if hint:
            reporter.info(hint)
    if settings.dry_run:
        reporter.info("dry run: transcribing and planning only; nothing is sent or written")
