"""Locators to media items: each locator goes to the sources that accept it, before any work.

Every locator is matched to the sources that accept it up front (from the string alone: no
network), so a typo, an unclaimed locator or two sources tied on priority stop the run (exit 2)
before anything is transcribed. Then the sources walk their locators: the accepting ones are
asked in priority order, and the first whose `discover` does not raise `Decline` walks it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from vtembed.errors import UsageError
from vtembed.models import MediaItem
from vtembed.registry import Registry
from vtembed.settings import Settings
from vtembed.source import Decline, Failed, Found, Skipped, Source


@dataclass
class Discovery:
    items: list[MediaItem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    """The run's source instances, by name (made once, on first use): they open the items."""

    def close(self) -> None:
        """Close the sources (their download services' connections) once the run is over."""
        for source in self.sources.values():
            source.close()


@dataclass(frozen=True)
class Claims:
    """A run's locators, each with the source classes that accept it (in the order they are
    asked), and its `--since` date: everything about them that can be a usage error, known
    before a store is opened or a folder walked."""

    locators: list[tuple[str, tuple[type[Source], ...]]]
    since: datetime | None


def claim(locators: list[str], registry: Registry, settings: Settings) -> Claims:
    return Claims(
        [(locator, registry.sources_for(locator)) for locator in locators],
        parse_since(settings.since),
    )


def walk(claims: Claims, settings: Settings) -> Discovery:
    """The sources walk their locators: folders listed, files probed, URLs and feeds asked."""
    found = Discovery()
    seen: set[str] = set()
    for locator, candidates in claims.locators:
        origin = origin_of(locator)
        items: list[MediaItem] = []
        for entry in _first_taker(found, locator, candidates, settings):
            if isinstance(entry, Skipped):
                found.skipped.append(entry)
            elif isinstance(entry, Failed):
                found.failed.append(entry)
            elif entry.id not in seen:
                seen.add(entry.id)
                items.append(replace(entry, origin=origin))
        found.items.extend(select(items, settings.limit, claims.since))
    return found


def discover(locators: list[str], registry: Registry, settings: Settings) -> Discovery:
    return walk(claim(locators, registry, settings), settings)


def _first_taker(
    found: Discovery, locator: str, candidates: tuple[type[Source], ...], settings: Settings
) -> Iterator[Found]:
    """What the first candidate that does not decline finds; one `Failed` when all decline."""
    declined = []
    for cls in candidates:
        if cls.name not in found.sources:
            found.sources[cls.name] = cls(settings)
        entries = found.sources[cls.name].discover(locator)
        try:
            first = next(entries, None)
        except Decline as why:
            declined.append(f"{cls.name}: {why}" if str(why) else cls.name)
            continue
        if first is not None:
            yield first
            try:
                yield from entries
            except Decline:  # too late: what it found is used, the rest is lost
                yield Failed(locator, f"source {cls.name} declined after finding media")
        return
    yield Failed(locator, f"every source that accepts it declined ({'; '.join(declined)})")


def local_path(locator: str) -> Path | None:
    """The absolute path a file, folder or glob locator names (symlinks resolved, as in the
    file:// URIs of local items); None for a URL."""
    if "://" in locator and not locator.startswith("file://"):
        return None
    if locator.startswith("file://"):
        locator = unquote(urlparse(locator).path)
    return Path(os.path.realpath(Path(locator).expanduser()))


def origin_of(locator: str) -> str:
    """The locator as the state remembers it: local ones absolute, so that `prune` recognises
    them from another working directory; URLs as given."""
    path = local_path(locator)
    return locator if path is None else str(path)


def select(items: list[MediaItem], limit: int, since: datetime | None) -> list[MediaItem]:
    """`--since` drops dated items published before it; `--limit` keeps the newest N (dated
    items first, newest first; undated ones after, in the order the source gave them)."""
    if since is not None:
        items = [i for i in items if not i.published or _when(i.published) >= since]
    if limit:
        dated = sorted(
            (i for i in items if i.published), key=lambda i: _when(i.published or ""), reverse=True
        )
        items = [*dated, *(i for i in items if not i.published)][:limit]
    return items


def parse_since(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return _when(value)
    except ValueError:
        raise UsageError(f"--since {value!r}: not a date (use YYYY-MM-DD or ISO 8601)") from None


def _when(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
