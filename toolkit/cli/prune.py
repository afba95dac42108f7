"""`vtembed prune LOCATOR...`: remove the records and state of media that no longer exist.

The store stays locked from listing to removing, so what is shown is exactly what goes. The
question is asked only on a terminal: a script must say `--yes`, so a cron job neither hangs nor
removes anything it was not told to.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from vtembed.cli.context import app_context
from vtembed.cli.plugin_options import with_section_options
from vtembed.errors import UsageError
from vtembed.prune import Plan, look, plan
from vtembed.registry import Registry
from vtembed.settings import PluginSection, Settings
from vtembed.sink import Sink
from vtembed.state import RunState, StateRow


def register(app: typer.Typer, sections: list[PluginSection]) -> None:
    app.command(name="prune", no_args_is_help=True)(with_section_options(prune, sections))


def prune(
    ctx: typer.Context,
    locators: Annotated[
        list[str],
        typer.Argument(
            help="Files, folders, globs, URLs or feeds given to ingest before.", metavar="LOCATOR"
        ),
    ],
    sink: Annotated[
        str | None,
        typer.Option(
            help="The store to prune, SCHEME:TARGET. [default: jsonl:vtembed-out/embeddings.jsonl]"
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Remove without asking (needed in scripts).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what is gone; remove nothing.")
    ] = False,
    section_flags: dict[str, Any] | None = None,
) -> None:
    """Remove the records and state of media that no longer exist under the locators.

    Lists what is gone and asks first. A locator that cannot be checked now (an unreachable feed)
    keeps everything it covers; a URL that answers 404 or 410 is gone. Exit codes: 0 ok (also
    when nothing is gone), 1 some locator or item could not be checked, 2 usage error.
    """
    app = app_context(ctx)
    settings = app.settings(sink=sink, limit=0, since="", **(section_flags or {}))
    sink_cls, target = app.registry.sink(settings.sink)
    stored = sink_cls.stored_model(target, settings)
    if stored is None:
        # Not the sink spec: it may carry credentials, and only an open sink can hide them.
        typer.echo(f"the {sink_cls.scheme} store holds no records: nothing to prune")
        return
    store = sink_cls(target, model_name=stored[0], dim=stored[1], settings=settings)
    try:
        if not store.state_path.exists():
            typer.echo(f"{store.describe()} has no state file: nothing is known to prune")
            return
        state = RunState(store.state_path, stored[0])
        try:
            code = _prune(locators, app.registry, settings, store, state, yes, dry_run)
        finally:
            state.close()
    finally:
        store.close()
    raise typer.Exit(code)


def _prune(
    locators: list[str],
    registry: Registry,
    settings: Settings,
    store: Sink,
    state: RunState,
    yes: bool,
    dry_run: bool,
) -> int:
    rows = state.rows()
    found = plan([look(locator, rows, registry, settings) for locator in locators])
    _report_looks(found)
    code = 1 if found.failed or found.problems else 0
    where = store.describe()
    if not found.gone:
        typer.echo(f"nothing to prune in {where}{_why_nothing(found)}")
        return code
    counts = {row.media_id: store.count(row.media_id) for row in found.gone}
    for row in found.gone:
        typer.echo(f"gone: {row.label} ({_n(counts[row.media_id], 'record')})")
    total = f"{_n(len(found.gone), 'item')} ({_n(sum(counts.values()), 'record')})"
    typer.echo(f"{total} gone from {where}")
    if dry_run:
        typer.echo("dry run: nothing removed")
        return code
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(
                "prune asks before removing, but stdin is not a terminal: "
                "run again with --yes to remove these, or --dry-run to only list them"
            )
        if not typer.confirm(f"Remove {total}?", default=False):
            typer.echo("nothing removed")
            return code
    removed = _remove(found.gone, store, state)
    typer.echo(f"pruned {_n(len(found.gone), 'item')} ({_n(removed, 'record')}) from {where}")
    return code


def _report_looks(found: Plan) -> None:
    for one in found.looks:
        if one.failed:
            typer.echo(f"error: {one.locator}: {one.failed}; nothing it covers is pruned", err=True)
        elif not one.covered:
            typer.echo(f"{one.locator}: nothing stored comes from here")
        elif one.gone:
            typer.echo(f"{one.locator}: {one.gone}, so what is stored from it is gone")
    for item, why in found.problems:
        typer.echo(f"error: {item}: {why}; kept", err=True)


def _why_nothing(found: Plan) -> str:
    checked = {row.media_id for one in found.looks if not one.failed for row in one.covered}
    why = [f"{_n(len(checked), 'item')} checked, none gone"] if checked else []
    if found.failed:
        why.append(f"{_n(len(found.failed), 'locator')} could not be checked")
    return f" ({'; '.join(why)})" if why else ""


def _remove(gone: list[StateRow], store: Sink, state: RunState) -> int:
    """Records first, then the row: a run killed in between leaves a row whose records are gone,
    which resume already treats as not done."""
    removed = 0
    for row in gone:
        removed += store.delete_media(row.media_id)
        state.forget(row.media_id)
    return removed


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
