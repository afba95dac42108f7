"""Whether a place can hold output, asked before any work (by `vtembed doctor`, sinks and
`ingest --summary-json`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def folder_problem(folder: Path) -> str | None:
    """Why files cannot be created in `folder` (or in the nearest part of it that exists yet),
    or None. Writes a throwaway file rather than trusting permission bits, which root ignores."""
    probe = folder.expanduser().resolve()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is a file, not a folder"
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        return f"{probe} is not writable ({exc.strerror})"
    return None


def output_file_problem(path: Path) -> str | None:
    """Why a file cannot be written at `path` (folders made as needed), or None; asked before a
    run so that a result is not lost at its end. Creates nothing: a throwaway file in the
    nearest existing folder stands for the folders that would be made, and an existing file is
    opened for appending without writing to it."""
    try:
        target = path.expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, a home that cannot be found
        return f"{path} cannot be resolved ({exc})"
    if target.is_dir():
        return f"{target} is a folder, not a file"
    if target.exists():
        return _unwritable_file(target)
    return folder_problem(target.parent)


def _unwritable_file(target: Path) -> str | None:
    """Non-blocking, so a named pipe with no reader is an answer rather than a hang."""
    try:
        os.close(os.open(target, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK))
    except OSError as exc:
        return f"{target} cannot be written ({exc.strerror})"
    return None
