"""Build the plugin manager: built-ins and third parties load the same way, through entry points.

Nothing happens at import time; `build_manager()` is called by the CLI (and by tests, each with a
fresh manager), so a test never has to reload a module to see a new plugin.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType

import pluggy

from vtembed import hookspecs
from vtembed.errors import UsageError

GROUP = "vtembed"
HOST_DIST = "vtembed"


@dataclass(frozen=True)
class PluginOrigin:
    """Where a loaded plugin module came from, for `vtembed plugins` and error messages."""

    name: str
    module: str
    origin: str
    version: str


class VtembedPluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers each plugin's origin (no reaching into pluggy internals)."""

    def __init__(self) -> None:
        super().__init__(GROUP)
        self.origins: dict[str, PluginOrigin] = {}

    def add(self, module: ModuleType, name: str, origin: str, version: str) -> None:
        if self.is_registered(module) or self.get_plugin(name) is not None:
            return
        self.register(module, name=name)
        self.origins[name] = PluginOrigin(name, module.__name__, origin, version)


def build_manager(extra_modules: list[str] | None = None) -> VtembedPluginManager:
    """Load entry points, then `VTEMBED_PLUGINS` and `--plugin` modules; fail loudly on typos."""
    pm = VtembedPluginManager()
    pm.add_hookspecs(hookspecs)
    allowed = _allowed_distributions()
    for dist in metadata.distributions():
        dist_name = dist.metadata["Name"] or ""
        eps = [ep for ep in dist.entry_points if ep.group == GROUP]
        if not eps or (dist_name != HOST_DIST and allowed is not None and dist_name not in allowed):
            continue
        for ep in eps:
            try:
                module = ep.load()
            except Exception as exc:
                raise UsageError(
                    f"plugin {ep.name!r} from {dist_name} failed to load: {exc}"
                ) from exc
            pm.add(module, ep.name, dist_name, dist.version)
    modules = _env_modules() + list(extra_modules or [])
    for path in modules:
        try:
            module = importlib.import_module(path)
        except ImportError as exc:
            raise UsageError(f"plugin module {path!r} cannot be imported: {exc}") from exc
        pm.add(module, path, "module", getattr(module, "__version__", "-"))
    pm.check_pending()
    if os.environ.get("VTEMBED_TRACE_PLUGINS"):
        _trace(pm)
    return pm


def _allowed_distributions() -> set[str] | None:
    raw = os.environ.get("VTEMBED_LOAD_PLUGINS")
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def _env_modules() -> list[str]:
    raw = os.environ.get("VTEMBED_PLUGINS", "")
    return [name.strip() for name in raw.split(",") if name.strip()]


def _trace(pm: pluggy.PluginManager) -> None:
    def before(hook_name: str, hook_impls: list, kwargs: dict) -> None:
        names = ", ".join(impl.plugin_name for impl in hook_impls)
        print(f"[vtembed trace] {hook_name}({', '.join(kwargs)}) -> {names}", file=sys.stderr)

    def after(outcome: object, hook_name: str, hook_impls: list, kwargs: dict) -> None:
        print(f"[vtembed trace] {hook_name} done", file=sys.stderr)

    pm.add_hookcall_monitoring(before, after)
