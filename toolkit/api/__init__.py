"""vtembed's Python API: what the CLI, `vtembed serve` and the tests call.

    import vtembed
    summary = vtembed.ingest(["examples/media/"], sink="jsonl:out/e.jsonl")
    for hit in vtembed.search("a man walks his dog", sink="jsonl:out/e.jsonl", k=3).hits:
        print(hit.score, hit.media_uri, hit.start_sec)

The functions build a `Vtembed` for the call (plugins loaded from the entry points, plus
`plugins=[...]` modules; settings from `config=`, the environment and keyword arguments); hold
one `Vtembed` to make many calls with the same plugins. See docs/python.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vtembed.api.app import Vtembed
from vtembed.api.checks import Check
from vtembed.api.plugins import PluginRow
from vtembed.api.pruning import PrunePlan, PruneResult
from vtembed.api.searching import Hit, SearchResult
from vtembed.api.shot_list import ShotsResult
from vtembed.api.transcript import TranscribeResult
from vtembed.progress import Reporter
from vtembed.summary import RunSummary

__all__ = [
    "Check",
    "Hit",
    "PluginRow",
    "PrunePlan",
    "PruneResult",
    "RunSummary",
    "SearchResult",
    "ShotsResult",
    "TranscribeResult",
    "Vtembed",
    "doctor",
    "ingest",
    "prune",
    "search",
    "shots",
    "transcribe",
]

Config = Path | str | None


def ingest(
    locators: Sequence[str],
    *,
    reporter: Reporter | None = None,
    config: Config = None,
    plugins: Sequence[str] = (),
    **settings: Any,
) -> RunSummary:
    """Transcribe, chunk, embed and store the media the locators name; see `Vtembed.ingest`."""
    return Vtembed(config=config, plugins=plugins).ingest(locators, reporter=reporter, **settings)


def search(
    query: str,
    *,
    k: int = 10,
    modality: str = "all",
    media: str | None = None,
    mode: str = "hybrid",
    group: bool = True,
    group_gap_sec: float = 3.0,
    config: Config = None,
    plugins: Sequence[str] = (),
    **settings: Any,
) -> SearchResult:
    """The stored moments nearest to the query; see `Vtembed.search`."""
    app = Vtembed(config=config, plugins=plugins)
    return app.search(
        query, k=k, modality=modality, media=media, mode=mode, group=group,
        group_gap_sec=group_gap_sec, **settings,
    )  # fmt: skip


def transcribe(
    file: Path | str, *, config: Config = None, plugins: Sequence[str] = (), **settings: Any
) -> TranscribeResult:
    """One file's timestamped transcript; see `Vtembed.transcribe`."""
    return Vtembed(config=config, plugins=plugins).transcribe(file, **settings)


def shots(
    file: Path | str,
    *,
    keyframes: Path | str | None = None,
    config: Config = None,
    plugins: Sequence[str] = (),
    **settings: Any,
) -> ShotsResult:
    """One file's shots and keyframe times; see `Vtembed.shots`."""
    return Vtembed(config=config, plugins=plugins).shots(file, keyframes=keyframes, **settings)


def prune(
    locators: Sequence[str],
    *,
    dry_run: bool = False,
    confirm: Callable[[PrunePlan], bool] | None = None,
    config: Config = None,
    plugins: Sequence[str] = (),
    **settings: Any,
) -> PruneResult:
    """Remove what is gone from the locators; see `Vtembed.prune`."""
    app = Vtembed(config=config, plugins=plugins)
    return app.prune(locators, dry_run=dry_run, confirm=confirm, **settings)


def doctor(*, config: Config = None, plugins: Sequence[str] = (), **settings: Any) -> list[Check]:
    """What a run needs, checked; see `Vtembed.doctor`."""
    return Vtembed(config=config, plugins=plugins).doctor(**settings)
