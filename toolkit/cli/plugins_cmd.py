"""`vtembed plugins`: what is loaded, what each plugin registered, from where, which version;
`vtembed plugins check MODULE:CLASS`: whether a plugin class keeps its contract."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from vtembed.cli.context import app_context


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="List loaded plugins, or check one against its contract.")
    group.callback(invoke_without_command=True)(plugins)
    group.command(name="check")(check)
    app.add_typer(group, name="plugins")


def plugins(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List plugins: name, kind, module, origin (distribution) and version (or, for an
    unavailable or broken one, why not)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = app_context(ctx).plugins()
    if as_json:
        typer.echo(json.dumps([row.to_json() for row in rows], indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table("name", "kind", "module", "origin", "version")
    # An unavailable or broken plugin shows why instead of a version ("[extra]" is text).
    for row in rows:
        table.add_row(row.name, row.kind, row.module, row.origin, escape(row.reason or row.version))
    Console().print(table)


def check(
    ctx: typer.Context,
    spec: Annotated[
        str, typer.Argument(help="The class to check, MODULE:CLASS (e.g. my_plugin:MySink).")
    ],
    locator: Annotated[
        str | None,
        typer.Option(help="For a source: something it finds media in (a folder, a feed URL)."),
    ] = None,
) -> None:
    """Run the contract suite (vtembed.testing) that fits the class: sink, embedder or source.

    Each rule prints ok, BROKEN (with what the plugin did) or skipped (it does not apply).
    Exit codes: 0 every rule holds, 1 some rule is broken, 2 usage error.
    """
    report = app_context(ctx).check_plugin(spec, locator=locator)
    for outcome in report.outcomes:
        if outcome.skipped:
            typer.echo(f"  skipped  {outcome.rule} ({outcome.skipped})")
        elif outcome.ok:
            typer.echo(f"  ok       {outcome.rule}")
        else:
            typer.echo(f"  BROKEN   {outcome.rule}: {outcome.problem}")
    broken = len(report.broken)
    typer.echo(
        f"{report.plugin}: " + (f"{broken} rule(s) broken" if broken else "keeps its contract")
    )
    raise typer.Exit(1 if broken else 0)
