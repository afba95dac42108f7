"""`vtembed plugins check MODULE:CLASS`: run the contract suite that fits the class on it.

Sinks write into throwaway folders that are removed afterwards; embedders and sources run with
the call's settings (an API key, a base URL come from there).
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from vtembed.embedder import Embedder
from vtembed.errors import UsageError
from vtembed.plugin_manager import import_plugin
from vtembed.settings import Settings
from vtembed.sink import Sink
from vtembed.source import Source

if TYPE_CHECKING:
    from vtembed.testing import Report


def check_plugin(spec: str, settings: Settings, *, locator: str | None = None) -> Report:
    """`spec` is `package.module:ClassName` (the module may sit in the current folder)."""
    from vtembed.testing import check_embedder, check_sink, check_source

    cls = load_class(spec)
    if issubclass(cls, Sink):
        with tempfile.TemporaryDirectory(prefix="vtembed-check-") as folder:
            numbers = itertools.count()
            name = getattr(cls, "example_target", "store")

            def fresh() -> str:
                place = Path(folder) / str(next(numbers))
                place.mkdir()
                return str(place / name)

            return check_sink(cls, fresh)
    if issubclass(cls, Embedder):
        return check_embedder(cls, settings)
    return check_source(cls, settings, locator)


def load_class(spec: str) -> type[Sink] | type[Embedder] | type[Source]:
    module_path, _, name = spec.partition(":")
    if not module_path or not name:
        raise UsageError(f"{spec!r}: give MODULE:CLASS, e.g. my_plugin:MySink")
    try:
        module = import_plugin(module_path, from_cwd=True)
    except Exception as exc:
        raise UsageError(f"{spec}: cannot import {module_path} ({exc})") from None
    cls = getattr(module, name, None)
    if not isinstance(cls, type) or not issubclass(cls, Sink | Embedder | Source):
        raise UsageError(f"{spec}: {name} is not a Sink, Embedder or Source class in {module_path}")
    return cls
