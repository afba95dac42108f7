"""`ingest`: locators in, time-aligned embedding records out, every usage error before work.

The order is the point. Everything that can be a usage error is asked before discovery walks
and probes the archive, not minutes into it: the sink spec and its target's kind, the executor,
the embedder (its model and key), the Whisper model (found now, loaded only once there is
something to transcribe), then the locators are claimed by their sources. Claiming comes before
the sink opens, since opening may create the store: a mistyped path creates nothing (and a dry
run never does).
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from vtembed import __version__, dry_run
from vtembed.discovery import Discovery, claim, walk
from vtembed.errors import UsageError
from vtembed.executors import make_executor
from vtembed.malloc_tuning import map_large_buffers
from vtembed.progress import LogReporter, Reporter
from vtembed.settings import Settings
from vtembed.sink import Sink
from vtembed.store import Store
from vtembed.summary import RunSummary
from vtembed.whisper_device import device_for
from vtembed.whisper_model import describe_model, model_dir
from vtembed.whisper_workers import describe_sizing

if TYPE_CHECKING:
    from vtembed.api.app import Vtembed
    from vtembed.embedder import Embedder

SKIP_LINES = 20  # a folder of photos should not drown the run's output


def ingest(
    app: Vtembed, locators: list[str], settings: Settings, reporter: Reporter | None
) -> RunSummary:
    if not locators:
        raise UsageError("nothing to ingest: give files, folders, globs or URLs, or --from-file")
    reporter = reporter or LogReporter()
    map_large_buffers()
    registry = app.registry
    embedder_cls = registry.embedder(settings.embedder)
    sink_cls, target = registry.sink(settings.sink)
    sink_cls.check_target(target, settings)
    executor = make_executor(settings)
    the_embedder = embedder_cls(settings, settings.model or None)
    model_dir(settings.whisper, settings.cache_dir)
    _announce(reporter, settings, the_embedder.describe(), app)
    _language_note(reporter, settings, the_embedder)
    claims = claim(locators, registry, settings)
    summary = RunSummary(embedder=embedder_cls.name, model_name=the_embedder.model_name)
    with contextlib.ExitStack() as closing:  # the state, then the sink, however the run ends
        store = open_store(closing, sink_cls, target, the_embedder, settings)
        found = walk(claims, settings)
        closing.callback(found.close)
        _report_found(reporter, found, summary)
        todo = [item for item in found.items if not store.is_done(item)]
        summary.done_before = len(found.items) - len(todo)
        if todo:
            from vtembed.asset_reuse import Reuse
            from vtembed.pipeline import Stages
            from vtembed.transcriber import Transcriber

            stages = Stages(
                settings=settings,
                sources=found.sources,
                transcriber=lambda: Transcriber(settings.whisper, settings.cache_dir),
                embedder=the_embedder,
                store=store,
                reporter=reporter,
                frames_root=_frames_root(closing, store, settings),
                reuse=Reuse(store.assets(writable=not settings.dry_run), settings),
            )
            executor.run(todo, stages, summary)
    summary.sink = store.describe()
    summary.dry_run = settings.dry_run
    summary.input_tokens = dict(the_embedder.usage())
    if settings.dry_run:
        summary.cost = the_embedder.estimate_cost(
            summary.text_requests,
            summary.audio_request_seconds,
            summary.image_requests,
            summary.video_request_seconds,
        )
    return summary


def open_store(
    closing: contextlib.ExitStack,
    sink_cls: type[Sink],
    target: str,
    embedder: Embedder,
    settings: Settings,
) -> Store:
    """The store, closed by `closing`. A dry run creates and writes nothing (see
    `vtembed.dry_run`)."""
    model_name, dim = embedder.model_name, embedder.dim
    if settings.dry_run:
        store = dry_run.open_store(
            sink_cls, target, model_name=model_name, dim=dim, settings=settings
        )
    else:
        store = Store.open(sink_cls, target, model_name=model_name, dim=dim, settings=settings)
    closing.callback(store.close)
    return store


def _frames_root(closing: contextlib.ExitStack, store: Store, settings: Settings) -> Path | None:
    """`[frames] thumbnails_dir`, else the store's frames folder; a dry run's go to a folder
    removed at its end, since a dry run leaves the store as it was."""
    if settings.dry_run:
        return Path(closing.enter_context(tempfile.TemporaryDirectory(prefix="vtembed-dry-")))
    return store.frames_root(settings)


def _language_note(reporter: Reporter, settings: Settings, embedder: Embedder) -> None:
    """Speech in other languages is transcribed well by a multilingual Whisper, but an
    English-first text model finds it poorly: the user should know before hours of work."""
    spoken, known = settings.whisper.language, embedder.text_languages
    if known and spoken not in known:
        said = "detected per item" if spoken == "auto" else f'"{spoken}"'
        reporter.info(
            f"note: Whisper's language is {said}, but {embedder.model_name} is a "
            f"{'/'.join(known)}-first text model: text in other languages is found less well"
        )


def _report_found(reporter: Reporter, found: Discovery, summary: RunSummary) -> None:
    summary.skipped = len(found.skipped)
    for skipped in found.skipped[:SKIP_LINES]:
        reporter.info(f"skipped: {skipped.locator} ({skipped.reason})")
    if len(found.skipped) > SKIP_LINES:
        reporter.info(f"skipped: … and {len(found.skipped) - SKIP_LINES} more")
    for bad in found.failed:
        reporter.error(bad.locator, bad.reason)
        summary.add_error(bad.locator, bad.reason)


def _announce(reporter: Reporter, settings: Settings, embedder: str, app: Vtembed) -> None:
    reporter.info(f"vtembed {__version__}: {embedder}")
    device = device_for(settings.whisper)  # checked at start (`model_dir`): it does not raise
    how = describe_sizing(settings.whisper, device.device)
    model = describe_model(settings.whisper)
    reporter.info(f"transcription: {model} on {device.describe()}: {how}")
    for name, cls in app.registry.embedders.items():
        hint = cls.hint_when_not_chosen(settings) if name != settings.embedder else None
        if hint:
            reporter.info(hint)
    if settings.dry_run:
        reporter.info("dry run: transcribing and planning only; nothing is sent or written")
