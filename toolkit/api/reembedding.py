"""`reembed`: another model's store from what a store already transcribed and cut.

Embedding models change (Marengo 2.7 is being retired) far more often than media does, and
transcription is the dear part of an ingest. So the new store is built from the old one's kept
assets (`vtembed.assets`): each done item's transcript is planned again for the new model's
token limit, its kept keyframes are sent again, and no Whisper model is ever loaded (an item
with nothing kept is one error line: ingest it again). The assets and keyframes are copied into
the new store, so it stands alone: its reruns, prune and `transcript` work as for an ingest.
Everything after planning (batches, resume, dry run, summary) is the ingest's own code.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from vtembed.asset_reuse import Reuse
from vtembed.assets import AssetStore, KeptTranscript
from vtembed.errors import UsageError
from vtembed.executors.threads import ThreadExecutor
from vtembed.manifest import stored_items
from vtembed.models import MediaItem
from vtembed.progress import LogReporter, Reporter
from vtembed.settings import Settings
from vtembed.store_files import assets_location, frames_folder, state_location
from vtembed.summary import RunSummary

if TYPE_CHECKING:
    from vtembed.api.app import Vtembed
    from vtembed.transcriber import Transcriber


def reembed(
    app: Vtembed, from_sink: str, settings: Settings, reporter: Reporter | None
) -> RunSummary:
    from vtembed.api.ingesting import open_store
    from vtembed.pipeline import Stages

    reporter = reporter or LogReporter()
    registry = app.registry
    old_cls, old_target = registry.sink(from_sink)
    new_cls, new_target = registry.sink(settings.sink)
    old_state = state_location(old_cls, old_target, settings)
    if old_state == state_location(new_cls, new_target, settings):
        raise UsageError(f"--from {from_sink} is the store being written: give another --sink")
    if not old_state.is_file():
        raise UsageError(f"--from {from_sink}: no vtembed store there (no {old_state.name})")
    new_cls.check_target(new_target, settings)
    embedder = registry.embedder(settings.embedder)(settings, settings.model or None)
    reporter.info(f"reembedding {from_sink} with {embedder.describe()}")
    summary = RunSummary(embedder=settings.embedder, model_name=embedder.model_name)
    old_assets = AssetStore(assets_location(old_state), writable=False)
    old_frames = frames_folder(settings, old_state)
    items = _kept_items(old_state, old_assets, reporter, summary)
    with contextlib.ExitStack() as closing:
        store = open_store(closing, new_cls, new_target, embedder, settings)
        todo = [kept.item for kept in items if not store.is_done(kept.item)]
        summary.done_before = len(items) - len(todo)
        if settings.dry_run:  # read where they are; nothing is copied or written
            assets, frames = old_assets, old_frames
        else:
            assets, frames = store.assets(), store.frames_root(settings)
            _copy(assets, frames, old_assets, old_frames, todo)
        if todo:
            stages = Stages(
                settings=settings,
                sources={
                    name: registry.sources[name](settings) for name in {i.source for i in todo}
                },
                transcriber=_no_whisper,
                embedder=embedder,
                store=store,
                reporter=reporter,
                frames_root=frames,
                reuse=Reuse(assets, settings, any_settings=True),
            )
            ThreadExecutor().run(todo, stages, summary)
        summary.sink = store.describe()
    summary.dry_run = settings.dry_run
    summary.input_tokens = dict(embedder.usage())
    if settings.dry_run:
        summary.cost = embedder.estimate_cost(
            summary.text_requests, summary.audio_request_seconds,
            summary.image_requests, summary.video_request_seconds,
        )  # fmt: skip
    return summary


def _kept_items(
    old_state: Path, assets: AssetStore, reporter: Reporter, summary: RunSummary
) -> list[KeptTranscript]:
    """The old store's done items that have a kept transcript of the version it holds."""
    rows = stored_items(old_state)
    if not rows:
        raise UsageError(f"{old_state}: the store holds no records yet")
    found = []
    for row, fingerprint in rows:
        if row.status != "done":
            continue
        kept = assets.transcript(row.media_id)
        if kept is None:
            problem = "no kept transcript (ingested before vtembed kept them): ingest it again"
        elif kept.item.fingerprint != fingerprint:
            problem = "its kept transcript is of another version of the file: ingest it again"
        else:
            found.append(kept)
            continue
        reporter.error(row.label, problem)
        summary.add_error(row.label, problem)
    return found


def _copy(
    assets: AssetStore | None,
    frames: Path | None,
    old_assets: AssetStore,
    old_frames: Path | None,
    items: list[MediaItem],
) -> None:
    """The items' assets and keyframes into the new store (again after a killed run: the
    copies are whole files, made the same way each time)."""
    for item in items:
        if assets is not None:
            assets.copy_from(old_assets, item.id)
        if frames is not None and old_frames is not None and (old_frames / item.id).is_dir():
            shutil.copytree(old_frames / item.id, frames / item.id, dirs_exist_ok=True)


def _no_whisper() -> Transcriber:
    raise UsageError("reembed never transcribes: this item has no kept transcript")
