"""The `vtembed` command: a factory builds the Typer app after plugins are loaded.

Plugins can add commands (`vtembed_register_commands`), so the plugin manager must exist before
the app does; `--plugin` is therefore read from argv first, then parsed again (and documented) by
the root callback. Errors a user can fix print one line; exit codes: 0 ok, 1 some item failed,
2 usage error, 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.main import get_command

from vtembed.api.app import Vtembed
from vtembed.cli import (
    doctor,
    ingest,
    log_lines,
    plugins_cmd,
    prune,
    reembed_cmd,
    search,
    serve,
    shots_cmd,
    transcribe_cmd,
    transcript_cmd,
    ui_cmd,
)
from vtembed.cli.main import INTERRUPTED
from vtembed.errors import VtembedError
from vtembed.plugin_manager import VtembedPluginManager, build_manager

HELP = """Turn video and audio archives into time-aligned text and audio embeddings.

Try it: `vtembed ingest examples/media/` (offline, no API key needed)."""


def build_app(pm: VtembedPluginManager) -> typer.Typer:
    vt = Vtembed(pm=pm)
    registry = vt.registry
    app = typer.Typer(
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        config: Annotated[
            Path | None, typer.Option("--config", help="A TOML settings file.", metavar="FILE")
        ] = None,
        plugin: Annotated[
            list[str] | None,
            typer.Option(
                "--plugin",
                help="Load a plugin module by import path, also from the current folder "
                "(repeatable).",
            ),
        ] = None,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
    ) -> None:
        log_lines.configure(verbose)
        vt.config = config
        ctx.obj = vt

    sections = registry.settings_sections()  # their keys become flags of these commands
    ingest.register(app, sections)
    reembed_cmd.register(app, sections)
    transcribe_cmd.register(app)
    transcript_cmd.register(app)
    shots_cmd.register(app)
    plugins_cmd.register(app)
    doctor.register(app, sections)
    serve.register(app)
    ui_cmd.register(app)
    search.register(app, registry.settings_sections(sources=False))
    prune.register(app, sections)
    pm.hook.vtembed_register_commands(app=app)
    return app


def main(argv: list[str] | None = None) -> None:
    from vtembed.cli.main import main as entry

    entry(argv)


def run(args: list[str]) -> int:
    try:
        pm = build_manager(_plugin_args(args))
        for broken in pm.broken:  # left out, so every other plugin and command still work
            print(f"warning: {broken.message}", file=sys.stderr)
        command = get_command(build_app(pm))
        # Outside standalone mode typer returns a command's exit code (130 after Ctrl-C).
        result = command.main(args=args, prog_name="vtembed", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.TyperException as exc:  # usage errors found by the parser: they print themselves
        show = getattr(exc, "show", None)
        if show:
            show()
        code = int(getattr(exc, "exit_code", 2))
    except VtembedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = exc.exit_code
    except (KeyboardInterrupt, typer.Abort):
        code = 130
    if code == 130:
        print(INTERRUPTED, file=sys.stderr)
    return code


def _plugin_args(args: list[str]) -> list[str]:
    found = []
    for i, arg in enumerate(args):
        if arg == "--plugin" and i + 1 < len(args):
            found.append(args[i + 1])
        elif arg.startswith("--plugin="):
            found.append(arg.split("=", 1)[1])
    return found
