"""The console script's entry point: nothing is imported until Ctrl-C can be answered.

Importing the CLI (Typer, the plugins) takes a noticeable moment; a Ctrl-C in it would print a
traceback if the import happened at module level, before any handler exists.
"""

from __future__ import annotations

import sys

INTERRUPTED = "interrupted: state and output are consistent; run again to resume"


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        from vtembed.cli.app import run

        code = run(args)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        code = 130
    except Exception as exc:
        if not _interrupted(exc):
            raise
        # A C extension interrupted while it loads says "ImportError: initialization failed".
        print(INTERRUPTED, file=sys.stderr)
        code = 130
    if code == 130:
        _forget_interrupt()
    sys.exit(code)


def _interrupted(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _forget_interrupt() -> None:
    """CPython 3.11 notes a KeyboardInterrupt raised inside code run from a string (`exec`,
    which dataclasses and pydantic use while a module imports) as unhandled even when it is
    caught, and then ends the process by re-sending itself SIGINT (exit status -2, not 130).
    Running a string that completes clears the note."""
    exec("")
