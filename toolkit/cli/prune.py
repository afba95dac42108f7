"""`vtembed prune LOCATOR...`: remove the records and state of media that no longer exist.

`Vtembed.prune` keeps the store locked from listing to removing and shows this face the plan
before it removes anything, so what is listed is exactly what goes. The question is asked
only on a terminal: a script must say `--yes`, so a cron job neither hangs nor removes
anything it was not told to.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vtembed.cli.context import app_context
from vtembed.cli.plugin_options import with_section_options
from vtembed.errors import UsageError
from vtembed.settings import PluginSection

if TYPE_CHECKING:
    from vtembed.api.pruning import PrunePlan


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
    shown: list[PrunePlan] = []

    def show(plan: PrunePlan) -> None:
        if not shown:
            shown.append(plan)
            _show(plan)

    def ask(plan: PrunePlan) -> bool:
        show(plan)
        if yes:
            return True
        if not sys.stdin.isatty():
            raise UsageError(
                "prune asks before removing, but stdin is not a terminal: "
                "run again with --yes to remove these, or --dry-run to only list them"
            )
        return typer.confirm(f"Remove {_total(plan)}?", default=False)

    result = app.prune(locators, dry_run=dry_run, confirm=ask, sink=sink, **(section_flags or {}))
    if result.plan is None:
        typer.echo(result.nothing)
        raise typer.Exit(0)
    show(result.plan)
    if not result.plan.gone:
        raise typer.Exit(result.exit_code)
    if dry_run:
        typer.echo("dry run: nothing removed")
    elif result.declined:
        typer.echo("nothing removed")
    else:
        removed = f"{_n(result.removed_items, 'item')} ({_n(result.removed_records, 'record')})"
        typer.echo(f"pruned {removed} from {result.store}")
    raise typer.Exit(result.exit_code)


def _show(plan: PrunePlan) -> None:
    found = plan.found
    _report_looks(plan)
    if not found.gone:
        typer.echo(f"nothing to prune in {plan.store}{_why_nothing(plan)}")
        return
    for row in found.gone:
        typer.echo(f"gone: {row.label} ({_n(plan.records[row.media_id], 'record')})")
    typer.echo(f"{_total(plan)} gone from {plan.store}")


def _total(plan: PrunePlan) -> str:
    return f"{_n(len(plan.gone), 'item')} ({_n(plan.total_records, 'record')})"


def _report_looks(plan: PrunePlan) -> None:
    found = plan.found
    for one in found.looks:
        if one.failed:
            typer.echo(f"error: {one.locator}: {one.failed}; nothing it covers is pruned", err=True)
        elif not one.covered:
            typer.echo(f"{one.locator}: nothing stored comes from here")
        elif one.gone:
            typer.echo(f"{one.locator}: {one.gone}, so what is stored from it is gone")
    for item, why in found.problems:
        typer.echo(f"error: {item}: {why}; kept", err=True)


def _why_nothing(plan: PrunePlan) -> str:
    found = plan.found
    checked = {row.media_id for one in found.looks if not one.failed for row in one.covered}
    why = [f"{_n(len(checked), 'item')} checked, none gone"] if checked else []
    if found.failed:
        why.append(f"{_n(len(found.failed), 'locator')} could not be checked")
    return f" ({'; '.join(why)})" if why else ""


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
