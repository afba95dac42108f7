"""What every command gets from the root callback: the plugin manager and the config file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from vtembed.plugin_manager import VtembedPluginManager
from vtembed.registry import Registry
from vtembed.settings import Settings, load_settings


@dataclass
class AppContext:
    pm: VtembedPluginManager
    registry: Registry
    config: Path | None = None

    def settings(self, **flags: Any) -> Settings:
        """Settings with the CLI flags that were given (None means not given) on top."""
        overrides: dict[str, Any] = {}
        for key, value in flags.items():
            if value is None:
                continue
            section, _, name = key.partition("__")
            if name:
                overrides.setdefault(section, {})[name] = value
            else:
                overrides[key] = value
        return load_settings(overrides, self.config, self.registry.settings_sections())


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext)
    return obj
