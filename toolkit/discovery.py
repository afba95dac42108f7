"""Locators to media items: each locator goes to the source that claims it, before any work.

Every locator is matched to a source up front, so a typo or an unclaimed locator stops the run
(exit 2) before anything is transcribed; then sources walk their locators.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vtembed.models import MediaItem
from vtembed.registry import Registry
from vtembed.settings import Settings
from vtembed.source import Failed, Skipped, Source


@dataclass
class Discovery:
    items: list[MediaItem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)


def discover(locators: list[str], registry: Registry, settings: Settings) -> Discovery:
    chosen = [(locator, registry.source_for(locator)) for locator in locators]
    found = Discovery()
    seen: set[str] = set()
    for locator, cls in chosen:
        source = found.sources.setdefault(cls.name, cls(settings))
        for entry in source.discover(locator):
            if isinstance(entry, Skipped):
                found.skipped.append(entry)
            elif isinstance(entry, Failed):
                found.failed.append(entry)
            elif entry.id not in seen:
                seen.add(entry.id)
                found.items.append(entry)
    return found
