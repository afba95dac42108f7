"""`vtembed plugins`: what is loaded, what each plugin registered, from where, which version."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vtembed.cli.context import app_context


def register(app: typer.Typer) -> None:
    app.command(name="plugins")(plugins)


def plugins(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List loaded plugins: name, kind, module, origin (distribution) and version (or why not)."""
    app = app_context(ctx)
    registry = app.registry
    kinds = {"source": registry.sources, "embedder": registry.embedders, "sink": registry.sinks}
    rows = []
    for kind, table in kinds.items():
        for name, cls in sorted(table.items()):
            origin = next((o for o in app.pm.origins.values() if cls.__module__ == o.module), None)
            rows.append(
                {
                    "name": name,
                    "kind": kind,
                    "module": cls.__module__,
                    "plugin": origin.name if origin else "?",
                    "origin": origin.origin if origin else "?",
                    "version": origin.version if origin else "?",
                }
            )
    listed = {row["module"] for row in rows}
    for origin in app.pm.origins.values():  # plugins that only add commands, or cannot run
        if origin.module not in listed:
            # A plugin module whose optional dependencies are missing says why in this attribute.
            reason = getattr(app.pm.get_plugin(origin.name), "VTEMBED_UNAVAILABLE", None)
            rows.append(
                {
                    "name": origin.name,
                    "kind": "unavailable" if reason else "commands",
                    "module": origin.module,
                    "plugin": origin.name,
                    "origin": origin.origin,
                    "version": origin.version,
                }
                | ({"reason": str(reason)} if reason else {})
            )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("name", "kind", "module", "origin", "version")
    for row in rows:  # an unavailable plugin shows why instead of a version ("[extra]" is text)
        version = escape(row.get("reason", row["version"]))
        table.add_row(row["name"], row["kind"], row["module"], row["origin"], version)
    Console().print(table)
