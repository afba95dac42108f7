"""`prune`: remove the records and state of media that no longer exist under the locators.

The store stays open (and locked) from listing to removing, so what `confirm` is shown is
exactly what goes. Which items are gone is decided in `vtembed.prune_plan`; this opens the store,
asks, removes and counts.

A store is opened for the model it holds. A sink that declares `stored_model` says which; for
one that does not, the resume state does (its rows name their model), so a sink that can only
count and delete by media id is pruned too. Such a store that declares `media_counts` and
lists nothing holds no records; one that declares neither is opened as for a real run.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vtembed.errors import UsageError
from vtembed.manifest import Manifest, ManifestRow
from vtembed.prune_plan import Plan, look, plan
from vtembed.settings import Settings
from vtembed.store import Store
from vtembed.store_files import state_location

if TYPE_CHECKING:
    from vtembed.api.app import Vtembed


@dataclass(frozen=True)
class PrunePlan:
    """What a prune found: the checked locators, the items gone and their record counts."""

    store: str
    found: Plan
    records: dict[str, int]
    """Stored records of each gone item, by media id."""

    @property
    def gone(self) -> list[ManifestRow]:
        return self.found.gone

    @property
    def total_records(self) -> int:
        return sum(self.records.values())


@dataclass
class PruneResult:
    store: str
    plan: PrunePlan | None = None
    """None when there was nothing to look at (see `nothing`)."""
    nothing: str = ""
    """When `plan` is None, why nothing could be known to prune (an empty store, no state)."""
    removed_items: int = 0
    removed_records: int = 0
    declined: bool = False

    @property
    def exit_code(self) -> int:
        """1 when a locator or an item could not be checked (it was kept), else 0."""
        if self.plan is None:
            return 0
        return 1 if self.plan.found.failed or self.plan.found.problems else 0


def prune(
    app: Vtembed,
    locators: list[str],
    settings: Settings,
    *,
    dry_run: bool,
    confirm: Callable[[PrunePlan], bool] | None,
) -> PruneResult:
    sink_cls, target = app.registry.sink(settings.sink)
    sink_cls.check_target(target, settings)
    # Not the sink spec: it may carry credentials, and only an open sink can hide them.
    where = f"the {sink_cls.scheme} store"
    empty = PruneResult(where, nothing=f"{where} holds no records: nothing to prune")
    state_path = state_location(sink_cls, target, settings)
    if sink_cls.declares("stored_model"):
        stored = sink_cls.stored_model(target, settings)
        if stored is None:
            return empty
    elif sink_cls.declares("media_counts") and not sink_cls.media_counts(target, settings):
        return empty
    else:
        stored = None
    if not state_path.exists():
        return PruneResult(where, nothing=f"{where} has no state file: nothing is known to prune")
    model, dim = stored if stored is not None else _model_by_state(app, state_path, settings)
    store = Store.open(sink_cls, target, model_name=model, dim=dim, settings=settings)
    try:
        return _prune(app, locators, settings, store, dry_run, confirm)
    finally:
        store.close()


def _model_by_state(app: Vtembed, state_path: Path, settings: Settings) -> tuple[str, int]:
    """The model of a store whose sink cannot say, from its resume manifest: the one it was
    last written with, else (a manifest from before it kept that) the configured one when
    rows of it are there, else the only one it has rows of."""
    manifest = Manifest(state_path, "", writable=False)
    try:
        held = manifest.held_model()
    finally:
        manifest.close()
    if held is not None:
        return held
    model = settings.model or app.registry.embedder(settings.embedder).default_model
    models = models_in(state_path)
    if model not in models and len(models) > 1:
        raise UsageError(
            f"the resume state {state_path} holds records of {', '.join(models)}, not "
            f"{model}: choose the model to prune with VTEMBED_MODEL (or --embedder)"
        )
    if model not in models and models:
        (model,) = models
    return model, _dim(app, settings, model)


def _dim(app: Vtembed, settings: Settings, model: str) -> int:
    """The model's dimension as the configured embedder, else any that serves it, knows it."""
    preferred = app.registry.embedder(settings.embedder)
    serving = [cls for cls in app.registry.embedders.values() if cls.serves(model, settings)]
    for cls in (preferred, *serving):
        spec = cls.find_model(model, settings)
        if spec is not None:
            return spec.dim
    return 0


def models_in(state_path: Path) -> list[str]:
    """The models a resume state holds rows of, read as a dry run reads it (nothing written);
    none when there is no state."""
    state = Manifest(state_path, "", writable=False)
    try:
        found = state.db.execute("SELECT DISTINCT model_name FROM items ORDER BY model_name")
        return [row[0] for row in found]
    finally:
        state.close()


def _prune(
    app: Vtembed,
    locators: list[str],
    settings: Settings,
    store: Store,
    dry_run: bool,
    confirm: Callable[[PrunePlan], bool] | None,
) -> PruneResult:
    rows = store.manifest.rows()
    found = plan([look(locator, rows, app.registry, settings) for locator in locators])
    counts = {row.media_id: store.sink.count(row.media_id) for row in found.gone}
    the_plan = PrunePlan(store.describe(), found, counts)
    result = PruneResult(store.describe(), the_plan)
    if not found.gone or dry_run:
        return result
    if confirm is not None and not confirm(the_plan):
        result.declined = True
        return result
    for row in found.gone:
        # Records first, then the row: a run killed in between leaves a row whose records are
        # gone, which resume already treats as not done.
        result.removed_records += store.sink.delete_media(row.media_id)
        store.manifest.forget(row.media_id)
        frames = store.frames_root(settings)
        if frames is not None:  # the item's keyframes and thumbnails go with its records
            shutil.rmtree(frames / row.media_id, ignore_errors=True)
        assets = store.assets()
        if assets is not None:  # and so do its kept transcript and shots
            assets.remove(row.media_id)
        result.removed_items += 1
    _forget_orphans(store)
    return result


def _forget_orphans(store: Store) -> None:
    """Kept assets of items the manifest does not know (a run killed before the item's first
    record was stored, then the file deleted) go too: nothing could ever use them."""
    assets = store.assets()
    if assets is None:
        return
    known = {row.media_id for row in store.manifest.rows()}
    for media_id in assets.media_ids():
        if media_id not in known:
            assets.remove(media_id)
