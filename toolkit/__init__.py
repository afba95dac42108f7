"""vtembed: time-aligned multimodal embeddings for video and audio archives.

`import vtembed` is cheap: the API (`vtembed.ingest`, `vtembed.search`, ... from `vtembed.api`)
and `hookimpl` are imported on first use, so a plugin module, the CLI's `--help` or a Ctrl-C at
start-up pay for nothing they do not use.
"""

from __future__ import annotations

import importlib  # already loaded by the import system: `import vtembed` loads nothing new

__version__ = "0.1.0"

_API = (
    "Check", "Hit", "PluginRow", "PrunePlan", "PruneResult", "RunSummary", "SearchResult",
    "ShotsResult", "TranscribeResult", "Vtembed", "doctor", "ingest", "prune", "search", "shots",
    "transcribe",
)  # fmt: skip
_ERRORS = ("VtembedError", "UsageError", "MediaError")
__all__ = ["__version__", "hookimpl", *_API, *_ERRORS]


def __getattr__(name: str) -> object:
    if name == "hookimpl":
        return importlib.import_module("vtembed.hookspecs").hookimpl
    if name in _API:
        return getattr(importlib.import_module("vtembed.api"), name)
    if name in _ERRORS:
        return getattr(importlib.import_module("vtembed.errors"), name)
    raise AttributeError(f"module 'vtembed' has no attribute {name!r}")
