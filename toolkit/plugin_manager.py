"""Build the plugin manager: built-ins and third parties load the same way, through entry points.

Nothing happens at import time; `build_manager()` is called by the CLI (and by tests, each with a
fresh manager), so a test never has to reload a module to see a new plugin.

A third-party plugin that cannot work (its module does not import, a hook name matches no
hookspec, a register hook raises, a registered class is abstract or unnamed) is left out and
recorded in `pm.broken`, so every other plugin, and every command, still works; the faces say so.
A built-in plugin that cannot work is our bug, and a UsageError.
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that was not loaded: what is wrong, in one line, and how to skip it."""

    name: str
    module: str
    origin: str
    """Its distribution, or "module" for a `VTEMBED_PLUGINS` / `--plugin` module."""
    version: str
    reason: str
    skip: str = ""

    @property
    def message(self) -> str:
        where = "module" if self.origin == "module" else f"{self.origin} {self.version}"
        return f"plugin {self.name!r} (from {where}) is not loaded: {self.reason}; {self.skip}"


class VtembedPluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers each plugin's origin (no reaching into pluggy internals)
    and each third-party plugin it left out (`broken`)."""

    def __init__(self) -> None:
        super().__init__(GROUP)
        self.origins: dict[str, PluginOrigin] = {}
        self.broken: list[BrokenPlugin] = []

    def add(self, module: ModuleType, name: str, origin: str, version: str) -> None:
        if self.is_registered(module) or self.get_plugin(name) is not None:
            return
        self.register(module, name=name)
        self.origins[name] = PluginOrigin(name, module.__name__, origin, version)

    def try_add(self, module: ModuleType, name: str, origin: str, version: str) -> None:
        """Add a third-party plugin, or record it as broken and leave no hook of it behind."""
        if self.is_registered(module) or self.get_plugin(name) is not None:
            return
        try:
            self.register(module, name=name)
        except pluggy.PluginValidationError as exc:
            self.mark_broken(name, module.__name__, origin, version, f"invalid hook: {exc}")
            return
        problem = _plugin_problem(self, module)
        if problem:
            self.unregister(module, name=name)
            self.mark_broken(name, module.__name__, origin, version, problem)
            return
        self.origins[name] = PluginOrigin(name, module.__name__, origin, version)

    def mark_broken(self, name: str, module: str, origin: str, version: str, reason: str) -> None:
        if any(b.name == name for b in self.broken):
            return
        self.broken.append(BrokenPlugin(name, module, origin, version, _one_line(reason)))


def build_manager(extra_modules: list[str] | None = None) -> VtembedPluginManager:
    """Load entry points, then `VTEMBED_PLUGINS` and `--plugin` modules; fail loudly on typos."""
    pm = VtembedPluginManager()
    pm.add_hookspecs(hookspecs)
    allowed = _allowed_distributions()
    third_party: set[str] = set()
    for dist in metadata.distributions():
        dist_name = dist.metadata["Name"] or ""
        eps = [ep for ep in dist.entry_points if ep.group == GROUP]
        if not eps or (dist_name != HOST_DIST and allowed is not None and dist_name not in allowed):
            continue
        for ep in eps:
            try:
                module = ep.load()
            except Exception as exc:
                if dist_name == HOST_DIST:  # a built-in that cannot load is our bug: fail loudly
                    raise UsageError(
                        f"plugin {ep.name!r} from {dist_name} failed to load: {exc}"
                    ) from exc
                third_party.add(dist_name)
                reason = _import_failure(ep.module, exc)
                pm.mark_broken(ep.name, ep.module, dist_name, dist.version, reason)
                continue
            if dist_name == HOST_DIST:
                pm.add(module, ep.name, dist_name, dist.version)
            else:
                third_party.add(dist_name)
                pm.try_add(module, ep.name, dist_name, dist.version)
    env_modules, cli_modules = _env_modules(), list(extra_modules or [])
    for i, path in enumerate(env_modules + cli_modules):
        try:
            module = import_plugin(path, from_cwd=i >= len(env_modules))
        except Exception as exc:
            pm.mark_broken(path, path, "module", "-", _import_failure(path, exc))
            continue
        pm.try_add(module, path, "module", getattr(module, "__version__", "-"))
    pm.check_pending()  # a final guard: each third-party plugin was checked on its own above
    _add_skip_hints(pm, third_party)
    if os.environ.get("VTEMBED_TRACE_PLUGINS"):
        _trace(pm)
    return pm


def import_plugin(path: str, *, from_cwd: bool) -> ModuleType:
    """Import a plugin module; a `--plugin` module is also looked for in the current folder
    (after everything else on sys.path, and for this import only)."""
    if not from_cwd:
        return importlib.import_module(path)
    cwd = os.getcwd()
    sys.path.append(cwd)
    importlib.invalidate_caches()
    try:
        return importlib.import_module(path)
    finally:
        if sys.path and sys.path[-1] == cwd:
            del sys.path[-1]
        elif cwd in sys.path:
            sys.path.remove(cwd)


def _plugin_problem(pm: VtembedPluginManager, module: ModuleType) -> str | None:
    """Why a registered third-party plugin cannot work, or None: a hook that matches no
    hookspec, a register hook that raises, or a class that cannot work."""
    from vtembed.registry import REGISTER_HOOKS, class_problem

    specs = sorted(name for name, hook in vars(pm.hook).items() if hook.has_spec())
    callers = pm.get_hookcallers(module) or []
    for caller in callers:
        mine = [impl for impl in caller.get_hookimpls() if impl.plugin is module]
        if caller.spec is None and not all(impl.optionalhook for impl in mine):
            near = difflib.get_close_matches(caller.name, specs, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            return f"hook {caller.name} matches no hookspec{hint}"
    for caller in callers:
        if caller.name not in REGISTER_HOOKS and caller.name != "vtembed_register_commands":
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is not module or impl.hookwrapper or impl.wrapper:
                continue
            problem = _call_problem(caller.name, impl.function, impl.argnames, class_problem)
            if problem:
                return problem
    return None


def _call_problem(
    hook: str,
    function: Callable[..., object],
    argnames: tuple[str, ...],
    class_problem: Callable[[object, str, str], str | None],
) -> str | None:
    """Call one register hook implementation alone: whether it raises or registers a class
    that cannot work (the commands hook gets a scratch Typer app)."""
    from vtembed.registry import REGISTER_HOOKS

    problems: list[str] = []

    def register(cls: object) -> None:
        problem = class_problem(cls, *REGISTER_HOOKS[hook])
        if problem:
            problems.append(problem)

    if hook == "vtembed_register_commands":
        import typer

        args: dict[str, object] = {"app": typer.Typer()}
    else:
        args = {"register": register}
    try:
        function(**{name: args[name] for name in argnames if name in args})
    except Exception as exc:
        return f"{hook} raised {type(exc).__name__}: {exc}"
    return problems[0] if problems else None


def _import_failure(path: str, exc: Exception) -> str:
    detail = str(exc) if isinstance(exc, ImportError) else f"{type(exc).__name__}: {exc}"
    return f"cannot import {path} ({detail})"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _add_skip_hints(pm: VtembedPluginManager, third_party: set[str]) -> None:
    """How to start without each broken plugin: name the other third-party distributions in
    VTEMBED_LOAD_PLUGINS, or drop the module from VTEMBED_PLUGINS / --plugin."""
    broken_dists = {b.origin for b in pm.broken if b.origin != "module"}
    others = ",".join(sorted(third_party - broken_dists))
    pm.broken = [
        replace(
            b,
            skip="remove it from VTEMBED_PLUGINS / --plugin"
            if b.origin == "module"
            else f"skip it with VTEMBED_LOAD_PLUGINS={others}",
        )
        for b in pm.broken
    ]


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
