"""What every command gets from the root callback: the application, with the --config file."""

from __future__ import annotations

import typer

from vtembed.api.app import Vtembed


def app_context(ctx: typer.Context) -> Vtembed:
    obj = ctx.find_root().obj
    assert isinstance(obj, Vtembed)
    return obj
