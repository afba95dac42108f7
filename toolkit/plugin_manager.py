"""Build the plugin manager: built-ins and third parties load the same way, through entry points.

Nothing happens at import time; `build_manager()` is called by the CLI (and by tests, each with a
fresh manager), so a test never has to reload a module to see a new plugin.

A third-party plugin that cannot work (its module does not import, a hook name matches no
hookspec, a register hook raises, a registered class is abstract or unnamed, or it registers a
name another plugin loaded before it holds) is left out and recorded in `pm.broken`, so every
other plugin, and every command, still works; the faces say so. A built-in plugin that cannot
work is our bug, and a UsageError.

Names are first come, first served, in load order: built-ins, then distributions, then
`VTEMBED_PLUGINS`, then `--plugin` modules. Two plugins that both claim sink scheme "csv" (or an
embedder or source name, or a settings table) would otherwise make every command fail when the
registry is built, whichever command it is; refusing the later one keeps the earlier working.
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
DOWNLOADS_TABLE = "url"
"""The settings table of the host's download service (`vtembed.downloads.SECTION`), named here
so that building the manager does not import httpx."""


Claim = tuple[str, str]
"""What a plugin registered, by the name users type: ("sink scheme", "csv"),
("embedder name", "x"), ("source name", "file"), ("settings table", "csv")."""


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
    rival: str = ""
    """The loaded plugin whose name it clashes with, if that is why: the skip hint names both."""

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
        self.claims: dict[Claim, tuple[str, object]] = {}
        """Each name a loaded plugin registered: (kind, name) -> (plugin, what it registered)."""

    def add(self, module: ModuleType, name: str, origin: str, version: str) -> None:
        """Add a built-in: its names are claimed first (a clash between two built-ins is left
        to `build_registry`, which fails loudly: that is our bug)."""
        if self.is_registered(module) or self.get_plugin(name) is not None:
            return
        self.register(module, name=name)
        self.origins[name] = PluginOrigin(name, module.__name__, origin, version)
        _, claims = _plugin_problem(self, module)
        for claim, value in claims.items():
            self.claims.setdefault(claim, (name, value))

    def try_add(self, module: ModuleType, name: str, origin: str, version: str) -> None:
        """Add a third-party plugin, or record it as broken and leave no hook of it behind."""
        if self.is_registered(module):
            return
        if self.get_plugin(name) is not None:  # another module under an entry-point name in use
            first = self.origins.get(name)
            held = f" (from {_where(first)})" if first else ""
            reason = f"a plugin named {name!r} is already loaded{held}"
            self.mark_broken(name, module.__name__, origin, version, reason, rival=name)
            return
        try:
            self.register(module, name=name)
        except pluggy.PluginValidationError as exc:
            self.mark_broken(name, module.__name__, origin, version, f"invalid hook: {exc}")
            return
        problem, claims = _plugin_problem(self, module)
        rival = ""
        if not problem:
            problem, rival = self._clash(claims)
        if problem:
            self.unregister(module, name=name)
            self.mark_broken(name, module.__name__, origin, version, problem, rival=rival)
            return
        self.origins[name] = PluginOrigin(name, module.__name__, origin, version)
        for claim, value in claims.items():
            self.claims[claim] = (name, value)

    def _clash(self, claims: dict[Claim, object]) -> tuple[str | None, str]:
        """The first of a plugin's names that an earlier plugin holds (registering the very
        same class again is no clash), and that plugin's name."""
        for (kind, key), value in claims.items():
            holder, held = self.claims.get((kind, key), ("", value))
            if held is value:
                continue
            if holder not in self.origins:
                return f"{kind} {key!r} is the host's own", ""
            where = _where(self.origins[holder])
            reason = f"{kind} {key!r} is already registered by plugin {holder!r} (from {where})"
            return reason, holder
        return None, ""

    def mark_broken(
        self, name: str, module: str, origin: str, version: str, reason: str, *, rival: str = ""
    ) -> None:
        if any(b.name == name and b.module == module for b in self.broken):
            return
        broken = BrokenPlugin(name, module, origin, version, _one_line(reason), rival=rival)
        self.broken.append(broken)


def build_manager(extra_modules: list[str] | None = None) -> VtembedPluginManager:
    """Load entry points, then `VTEMBED_PLUGINS` and `--plugin` modules; fail loudly on typos."""
    pm = VtembedPluginManager()
    pm.add_hookspecs(hookspecs)
    allowed = _allowed_distributions()
    third_party: set[str] = set()
    pm.claims[("settings table", DOWNLOADS_TABLE)] = ("", DOWNLOADS_TABLE)  # the host's
    # Built-ins first, so their names are claimed before any third party's.
    for dist in sorted(metadata.distributions(), key=lambda d: d.metadata["Name"] != HOST_DIST):
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


def _plugin_problem(
    pm: VtembedPluginManager, module: ModuleType
) -> tuple[str | None, dict[Claim, object]]:
    """Why a registered plugin cannot work, or None (a hook that matches no hookspec, a
    register hook that raises, a class that cannot work, two of its classes under one name),
    and the names it registers, each with the class or settings table behind it."""
    from vtembed.registry import REGISTER_HOOKS

    specs = sorted(name for name, hook in vars(pm.hook).items() if hook.has_spec())
    callers = pm.get_hookcallers(module) or []
    for caller in callers:
        mine = [impl for impl in caller.get_hookimpls() if impl.plugin is module]
        if caller.spec is None and not all(impl.optionalhook for impl in mine):
            near = difflib.get_close_matches(caller.name, specs, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            return f"hook {caller.name} matches no hookspec{hint}", {}
    claims: dict[Claim, object] = {}
    for caller in callers:
        if caller.name not in REGISTER_HOOKS and caller.name != "vtembed_register_commands":
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is not module or impl.hookwrapper or impl.wrapper:
                continue
            problem = _call_problem(caller.name, impl.function, impl.argnames, claims)
            if problem:
                return problem, {}
    return None, claims


def _call_problem(
    hook: str,
    function: Callable[..., object],
    argnames: tuple[str, ...],
    claims: dict[Claim, object],
) -> str | None:
    """Call one register hook implementation alone: whether it raises or registers a class
    that cannot work (the commands hook gets a scratch Typer app). Adds the names it
    registers to `claims`; one name for two of its own classes is a problem too."""
    from vtembed.registry import REGISTER_HOOKS, class_problem

    problems: list[str] = []

    def register(cls: object) -> None:
        kind, key = REGISTER_HOOKS[hook]
        problem = class_problem(cls, kind, key)
        if problem:
            problems.append(problem)
            return
        section = getattr(cls, "settings_section", None)
        named = [(f"{kind} {key}", getattr(cls, key), cls)]
        if section is not None:
            named.append(("settings table", getattr(section, "name", ""), section))
        for what, name, value in named:
            if claims.setdefault((what, name), value) is not value:
                problems.append(f"registers two classes as {what} {name!r}")

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


def _where(origin: PluginOrigin) -> str:
    """Where a loaded plugin came from, as a warning line says it."""
    return "module" if origin.origin == "module" else f"{origin.origin} {origin.version}"


def _import_failure(path: str, exc: Exception) -> str:
    detail = str(exc) if isinstance(exc, ImportError) else f"{type(exc).__name__}: {exc}"
    return f"cannot import {path} ({detail})"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _add_skip_hints(pm: VtembedPluginManager, third_party: set[str]) -> None:
    """How to start without each broken plugin: name the other third-party distributions in
    VTEMBED_LOAD_PLUGINS, or drop the module from VTEMBED_PLUGINS / --plugin. For a name clash,
    also how to keep this one and skip the plugin that holds the name instead."""
    broken_dists = {b.origin for b in pm.broken if b.origin != "module"}
    loaded = third_party - broken_dists

    def hint(b: BrokenPlugin) -> str:
        if b.origin == "module":
            skip = "remove it from VTEMBED_PLUGINS / --plugin"
        else:
            skip = f"skip it with VTEMBED_LOAD_PLUGINS={','.join(sorted(loaded))}"
        rival = pm.origins.get(b.rival)
        if rival is None or rival.origin == HOST_DIST or rival.origin == b.origin != "module":
            return skip
        if rival.origin == "module":
            return f"{skip}, or remove {rival.name} from VTEMBED_PLUGINS / --plugin to use it"
        keep = ",".join(sorted((loaded - {rival.origin}) | {b.origin} - {"module"}))
        return f"{skip}, or skip {rival.origin} instead with VTEMBED_LOAD_PLUGINS={keep}"

    pm.broken = [replace(b, skip=hint(b)) for b in pm.broken]


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
