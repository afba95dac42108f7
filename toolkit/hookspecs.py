"""The hooks a vtembed plugin can implement.

Each hook hands the plugin a `register` callback (the shape simonw/llm uses): the plugin calls it
once per class it contributes, and the host builds its registry from those calls. A plugin is one
module with one or more `@hookimpl` functions plus an entry point in the `vtembed` group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:
    import typer

    from vtembed.embedder import Embedder
    from vtembed.sink import Sink
    from vtembed.source import Source

hookspec = HookspecMarker("vtembed")
hookimpl = HookimplMarker("vtembed")


@hookspec
def vtembed_register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register Source classes: `register(MySource)`; each finds and opens media for locators."""


@hookspec
def vtembed_register_embedders(register: Callable[[type[Embedder]], None]) -> None:
    """Register Embedder classes: `register(MyEmbedder)`; chosen with `--embedder NAME`."""


@hookspec
def vtembed_register_sinks(register: Callable[[type[Sink]], None]) -> None:
    """Register Sink classes: `register(MySink)`; chosen with `--sink SCHEME:TARGET`."""


@hookspec
def vtembed_register_commands(app: typer.Typer) -> None:
    """Add CLI commands to the root Typer app: `@app.command()` or `app.add_typer(...)`."""
