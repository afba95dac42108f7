"""What is loaded: each plugin, what it registered, from which distribution, which version."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vtembed.api.app import Vtembed


@dataclass(frozen=True)
class PluginRow:
    name: str
    kind: str
    """source | embedder | sink; `commands` for a plugin that only adds commands;
    `unavailable` for one whose optional dependencies are missing, `broken` for a third-party
    plugin that was not loaded (then `reason` says why)."""
    module: str
    plugin: str
    origin: str
    version: str
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        row = asdict(self)
        if row["reason"] is None:
            del row["reason"]
        return row


def plugin_rows(app: Vtembed) -> list[PluginRow]:
    registry, pm = app.registry, app.pm
    kinds = {"source": registry.sources, "embedder": registry.embedders, "sink": registry.sinks}
    rows = []
    for kind, table in kinds.items():
        for name, cls in sorted(table.items()):
            origin = next((o for o in pm.origins.values() if cls.__module__ == o.module), None)
            rows.append(
                PluginRow(
                    name=name,
                    kind=kind,
                    module=cls.__module__,
                    plugin=origin.name if origin else "?",
                    origin=origin.origin if origin else "?",
                    version=origin.version if origin else "?",
                )
            )
    listed = {row.module for row in rows}
    for origin in pm.origins.values():  # plugins that only add commands, or cannot run
        if origin.module not in listed:
            # A plugin module whose optional dependencies are missing says why in this attribute.
            reason = getattr(pm.get_plugin(origin.name), "VTEMBED_UNAVAILABLE", None)
            rows.append(
                PluginRow(
                    name=origin.name,
                    kind="unavailable" if reason else "commands",
                    module=origin.module,
                    plugin=origin.name,
                    origin=origin.origin,
                    version=origin.version,
                    reason=str(reason) if reason else None,
                )
            )
    for broken in pm.broken:  # not loaded: its module, hooks or classes cannot work
        rows.append(
            PluginRow(
                name=broken.name,
                kind="broken",
                module=broken.module,
                plugin=broken.name,
                origin=broken.origin,
                version=broken.version,
                reason=broken.reason,
            )
        )
    return rows
