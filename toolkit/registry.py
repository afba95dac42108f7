"""The classes plugins registered, by name, and the rules for choosing among them."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vtembed.embedder import Embedder
from vtembed.errors import UsageError
from vtembed.settings import PluginSection
from vtembed.sink import Sink
from vtembed.source import Source

if TYPE_CHECKING:
    from vtembed.plugin_manager import VtembedPluginManager

# Each register hook: what it registers and the attribute that names a class of that kind.
REGISTER_HOOKS = {
    "vtembed_register_sources": ("source", "name"),
    "vtembed_register_embedders": ("embedder", "name"),
    "vtembed_register_sinks": ("sink", "scheme"),
}


@dataclass
class Registry:
    sources: dict[str, type[Source]] = field(default_factory=dict)
    embedders: dict[str, type[Embedder]] = field(default_factory=dict)
    sinks: dict[str, type[Sink]] = field(default_factory=dict)

    def sources_for(self, locator: str) -> tuple[type[Source], ...]:
        """The sources that accept the locator, highest priority first: the order in which they
        are asked to discover it (each may decline). Two of them with the same priority are an
        error, wherever they stand: the ones above may decline, and then luck would choose."""
        accepting = sorted(
            (cls for cls in self.sources.values() if cls.accepts(locator)),
            key=lambda cls: cls.priority,
            reverse=True,
        )
        if not accepting:
            raise UsageError(f"{locator}: no such file or folder, and no source accepts it")
        for above, below in itertools.pairwise(accepting):
            if above.priority == below.priority:
                tied = ", ".join(c.name for c in accepting if c.priority == above.priority)
                raise UsageError(f"{locator}: sources {tied} all accept it with the same priority")
        return tuple(accepting)

    def source_for(self, locator: str) -> type[Source]:
        """The accepting source asked first (the highest priority); see `sources_for`."""
        return self.sources_for(locator)[0]

    def settings_sections(self, *, sources: bool = True) -> list[PluginSection]:
        """The settings tables the registered plugin classes declare, plus the host's download
        service's (`[url]`), which sources call; `sources=False` leaves out both (a command that
        finds no media, such as search, has no use for them)."""
        classes = [
            *(self.sources.values() if sources else ()),
            *self.embedders.values(),
            *self.sinks.values(),
        ]
        from vtembed.downloads import SECTION as DOWNLOADS  # httpx: when settings are made

        found = {DOWNLOADS.name: DOWNLOADS} if sources and self.sources else {}
        for cls in classes:
            section = getattr(cls, "settings_section", None)
            if section is not None:
                found[section.name] = section
        return list(found.values())

    def embedder(self, name: str) -> type[Embedder]:
        if name not in self.embedders:
            raise UsageError(f"unknown embedder {name!r} (available: {_names(self.embedders)})")
        return self.embedders[name]

    def sink(self, spec: str) -> tuple[type[Sink], str]:
        """Split `SCHEME:TARGET` and find the sink class for the scheme."""
        scheme, _, target = spec.partition(":")
        if scheme not in self.sinks:
            raise UsageError(
                f"unknown sink {scheme!r} in {spec!r} (available: {_names(self.sinks)})"
            )
        if not target:
            raise UsageError(f"sink {spec!r} needs a target, e.g. {scheme}:PATH")
        return self.sinks[scheme], target


def build_registry(pm: VtembedPluginManager) -> Registry:
    registry = Registry()
    pm.hook.vtembed_register_sources(register=_adder(registry.sources, "source", "name"))
    pm.hook.vtembed_register_embedders(register=_adder(registry.embedders, "embedder", "name"))
    pm.hook.vtembed_register_sinks(register=_adder(registry.sinks, "sink", "scheme"))
    return registry


def _adder(table: dict[str, Any], kind: str, key: str) -> Callable[[type], None]:
    def register(cls: type) -> None:
        problem = class_problem(cls, kind, key)
        if problem:
            raise UsageError(problem)
        name = getattr(cls, key)
        if name in table and table[name] is not cls:
            raise UsageError(
                f"two {kind}s are named {name!r}: {table[name].__module__} and {cls.__module__}"
            )
        table[name] = cls

    return register


def class_problem(cls: object, kind: str, key: str) -> str | None:
    """Why a registered class cannot work (not a class, abstract, unnamed), or None."""
    if not isinstance(cls, type):
        return f"registered {cls!r} as a {kind}, which is not a class"
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        return f"{kind} class {cls.__qualname__} is abstract (missing: {missing})"
    if not getattr(cls, key, None):
        return f"{kind} class {cls.__qualname__} has no {key!r}"
    return None


def _names(table: dict[str, Any]) -> str:
    return ", ".join(sorted(table)) or "none"
