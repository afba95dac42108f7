"""`vtembed plugins`: what is loaded, what each plugin registered, from where, which version."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from vtembed.cli.context import app_context


def register(app: typer.Typer) -> None:
    app.command(name="plugins")(plugins)


def plugins(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List plugins: name, kind, module, origin (distribution) and version (or, for an
    unavailable or broken one, why not)."""
    rows = app_context(ctx).plugins()
    if as_json:
        typer.echo(json.dumps([row.to_json() for row in rows], indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table("name", "kind", "module", "origin", "version")
    for (
        row
    ) in rows:  # an unavailable or broken plugin shows why instead of a version ("[extra]" is text)
        table.add_row(row.name, row.kind, row.module, row.origin, escape(row.reason or row.version))
    Console().print(table)
