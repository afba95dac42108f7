"""Which stored items `vtembed prune` removes: those a locator covers that are gone now.

A sink counts and deletes an item's records but cannot list its items, so the resume state is the
catalogue. A row is covered by a file, folder or glob when its file lies there (also when the
folder itself is gone), by a URL when its URI is that URL, and by any locator that found it at
ingest (its `origin`: a feed's episodes have URIs that say nothing of the feed).

Safety decides the rest. A covered item is gone when discovering the locator now does not find
it; for a local file the question is asked of the file itself (a stat), since a walk would answer
worse: it skips files that were named alone at ingest, an unreadable folder walks as empty, and a
big folder takes long. So a source is asked only when the locator covers items that are not local
files (feeds, URLs). A locator whose discovery fails keeps all it covers: an unreachable feed must
not look like an empty one; only a source's word that the locator itself is gone (a URL answering
404 or 410: `Failed.gone`) lets it go. A local path that no longer exists is not asked of any
source (they refuse missing paths): everything under it is gone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from vtembed.discovery import discover, local_path, origin_of
from vtembed.errors import UsageError, VtembedError
from vtembed.manifest import ManifestRow
from vtembed.registry import Registry
from vtembed.settings import Settings

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Scope:
    """One locator, normalised once, and the rows it covers."""

    locator: str
    origin: str
    root: Path | None
    """The local path it names (a glob pattern for globs); None for URLs."""

    @classmethod
    def of(cls, locator: str) -> Scope:
        return cls(locator, origin_of(locator), local_path(locator))

    def covers(self, row: ManifestRow) -> bool:
        if (row.origin and row.origin == self.origin) or row.uri == self.locator:
            return True
        if self.root is None or not _is_file(row):
            return False
        where = Path(row.label)
        if where == self.root or where.is_relative_to(self.root):
            return True
        return is_glob(self.locator) and where.match(str(self.root))


@dataclass
class Look:
    """What checking one locator now said about the rows it covers."""

    locator: str
    covered: list[ManifestRow]
    present: set[str] = field(default_factory=set)
    """Media ids and URIs that still exist."""
    failed: str = ""
    """Why the locator could not be checked; then nothing it covers is pruned."""
    problems: list[tuple[str, str]] = field(default_factory=list)
    """(item, why) for single items that could not be checked; they are kept."""
    gone: str = ""
    """Why the locator itself names nothing now (its local path does not exist, its source says
    so); then everything it covers is gone."""


def look(locator: str, rows: list[ManifestRow], registry: Registry, settings: Settings) -> Look:
    """Check the rows a locator covers: local files by a stat, others by discovering the
    locator again. `settings` must have no `limit` or `since`: episodes they leave out are
    not gone."""
    scope = Scope.of(locator)
    result = Look(locator, [row for row in rows if scope.covers(row)])
    if not result.covered:
        return result
    try:
        if scope.root is not None and not _accepted(locator, scope.root, registry):
            result.gone = "matches nothing now" if is_glob(locator) else "does not exist"
        elif not all(_is_file(row) for row in result.covered):
            _discover(result, registry, settings)
    except (VtembedError, OSError) as exc:
        result.failed = _reason(exc)
        return result
    if not result.failed:
        _check_files(result)
    return result


@dataclass
class Plan:
    looks: list[Look]
    gone: list[ManifestRow]

    @property
    def failed(self) -> list[Look]:
        return [look for look in self.looks if look.failed]

    @property
    def problems(self) -> list[tuple[str, str]]:
        return [problem for look in self.looks for problem in look.problems]


def plan(looks: list[Look]) -> Plan:
    """The rows some checked locator covers and nothing found: an item that a failed locator
    covers, or that any locator found, stays."""
    kept = {row.media_id for look in looks if look.failed for row in look.covered}
    present = set().union(*(look.present for look in looks))
    gone: dict[str, ManifestRow] = {}
    for one in looks:
        if one.failed:
            continue
        for row in one.covered:
            if row.media_id in kept or row.media_id in present or row.uri in present:
                continue
            gone.setdefault(row.media_id, row)
    return Plan(looks, sorted(gone.values(), key=lambda row: (row.uri, row.media_id)))


def _accepted(locator: str, root: Path, registry: Registry) -> bool:
    """Whether a local locator still names something (no source takes a missing path)."""
    if root.exists():
        return True
    try:
        registry.source_for(locator)
    except UsageError:
        return False
    return True


def _discover(result: Look, registry: Registry, settings: Settings) -> None:
    found = discover([result.locator], registry, settings)
    found.close()
    for bad in found.failed:
        if bad.locator == result.locator:
            if bad.gone:
                result.gone = bad.reason
            else:
                result.failed = bad.reason
            return
        # One thing under the locator could not be read: it is not gone, just unreadable.
        result.problems.append((bad.locator, bad.reason))
        path = local_path(bad.locator)
        result.present.update({bad.locator, path.as_uri() if path else bad.locator})
    result.present.update(i for item in found.items for i in (item.id, item.uri))


def _check_files(result: Look) -> None:
    for row in result.covered:
        if not _is_file(row) or {row.media_id, row.uri} & result.present:
            continue
        try:
            os.stat(row.label)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            result.problems.append((row.label, f"cannot tell whether it is gone: {_reason(exc)}"))
        result.present.add(row.media_id)


def is_glob(locator: str) -> bool:
    return bool(_GLOB_CHARS & set(locator)) and "://" not in locator


def _is_file(row: ManifestRow) -> bool:
    return row.uri.startswith("file://")


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
