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

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vtembed.errors import UsageError
from vtembed.prune_plan import Plan, look, plan
from vtembed.settings import Settings
from vtembed.sink import Sink
from vtembed.state import RunState, StateRow

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
    def gone(self) -> list[StateRow]:
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
    if sink_cls.declares("stored_model"):
        stored = sink_cls.stored_model(target, settings)
        if stored is None:
            return empty
        store = sink_cls(target, model_name=stored[0], dim=stored[1], settings=settings)
    elif sink_cls.declares("media_counts") and not sink_cls.media_counts(target, settings):
        return empty
    else:
        store, stored = _open_by_state(app, sink_cls, target, settings)
    try:
        if not store.state_path.exists():
            where = store.describe()
            return PruneResult(
                where, nothing=f"{where} has no state file: nothing is known to prune"
            )
        state = RunState(store.state_path, stored[0])
        try:
            return _prune(app, locators, settings, store, state, dry_run, confirm)
        finally:
            state.close()
    finally:
        store.close()


def _open_by_state(
    app: Vtembed, sink_cls: type[Sink], target: str, settings: Settings
) -> tuple[Sink, tuple[str, int]]:
    """A store whose sink cannot say which model it holds, opened for the model its resume
    state names: the configured one (`--embedder`, `model`) when the state holds rows of it,
    else the only one it holds. Opened first for the configured model, since where the state
    lives is the open sink's to say."""
    model = settings.model or app.registry.embedder(settings.embedder).default_model
    store = sink_cls(target, model_name=model, dim=_dim(app, settings, model), settings=settings)
    held = models_in(store.state_path)
    if model in held or not held:
        return store, (model, store.dim)
    if len(held) > 1:
        store.close()
        raise UsageError(
            f"the resume state of {store.describe()} holds records of {', '.join(held)}, not "
            f"{model}: choose the model to prune with VTEMBED_MODEL (or --embedder)"
        )
    store.close()
    (model,) = held
    store = sink_cls(target, model_name=model, dim=_dim(app, settings, model), settings=settings)
    return store, (model, store.dim)


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
    state = RunState(state_path, "", writable=False)
    try:
        found = state.db.execute("SELECT DISTINCT model_name FROM items ORDER BY model_name")
        return [row[0] for row in found]
    finally:
        state.close()


def _prune(
    app: Vtembed,
    locators: list[str],
    settings: Settings,
    store: Sink,
    state: RunState,
    dry_run: bool,
    confirm: Callable[[PrunePlan], bool] | None,
) -> PruneResult:
    rows = state.rows()
    found = plan([look(locator, rows, app.registry, settings) for locator in locators])
    counts = {row.media_id: store.count(row.media_id) for row in found.gone}
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
        result.removed_records += store.delete_media(row.media_id)
        state.forget(row.media_id)
        result.removed_items += 1
    return result
