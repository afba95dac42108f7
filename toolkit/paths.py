"""Whether a place can hold output, asked before any work (by `vtembed doctor` and sinks)."""

from __future__ import annotations

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
