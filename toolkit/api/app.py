"""The application: plugins loaded once, settings made per call, every command's entry point.

The CLI, `vtembed serve`, a notebook and the tests all hold one of these (as datasette's faces
hold a `Datasette`), so there is one path from a request to the work. Nothing here prints:
progress goes to the reporter a caller passes, results come back as typed values, and user
mistakes are raised as `vtembed.errors.UsageError` before any work starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vtembed.plugin_manager import VtembedPluginManager, build_manager
from vtembed.registry import Registry, build_registry
from vtembed.settings import Settings, load_settings

if TYPE_CHECKING:
    from vtembed.api.checks import Check
    from vtembed.api.plugins import PluginRow
    from vtembed.api.pruning import PrunePlan, PruneResult
    from vtembed.api.searching import SearchResult
    from vtembed.api.shot_list import ShotsResult
    from vtembed.api.transcript import TranscribeResult
    from vtembed.assets import KeptTranscript
    from vtembed.progress import Reporter
    from vtembed.summary import RunSummary
    from vtembed.testing import Report


class Vtembed:
    """`Vtembed(config="my.toml", plugins=["my_plugin"])`; each method takes settings as
    keyword arguments (`sink="lancedb:a.lance"`, `whisper__model="/models/small.en"`), on top
    of the environment, `.env`, the config file and the shipped defaults."""

    def __init__(
        self,
        *,
        config: Path | str | None = None,
        plugins: Sequence[str] = (),
        pm: VtembedPluginManager | None = None,
    ) -> None:
        self.pm = pm if pm is not None else build_manager(list(plugins))
        self.registry: Registry = build_registry(self.pm)
        self.config = Path(config) if config is not None else None

    def settings(self, *, sources: bool = True, **overrides: Any) -> Settings:
        """Settings for one call; a None value means "not given". `a__b=x` sets `[a] b`.
        `sources=False` leaves the sources' tables out (a search finds no media)."""
        nested: dict[str, Any] = {}
        for key, value in overrides.items():
            if value is None:
                continue
            section, _, name = key.partition("__")
            if name:
                nested.setdefault(section, {})[name] = value
            else:
                nested[key] = value
        sections = self.registry.settings_sections(sources=sources)
        left_out = {s.name for s in self.registry.settings_sections()} - {s.name for s in sections}
        return load_settings(nested, self.config, sections, other_sections=left_out)

    def ingest(
        self, locators: Sequence[str], *, reporter: Reporter | None = None, **settings: Any
    ) -> RunSummary:
        """Transcribe, chunk, embed and store; a rerun does only what is new or changed."""
        from vtembed.api.ingesting import ingest

        return ingest(self, list(locators), self.settings(**settings), reporter)

    def reembed(
        self, from_sink: str, *, reporter: Reporter | None = None, **settings: Any
    ) -> RunSummary:
        """Another model's store (`sink=`) from what `from_sink` kept: no Whisper is run."""
        from vtembed.api.reembedding import reembed

        return reembed(self, from_sink, self.settings(**settings), reporter)

    def transcript(self, media: str, **settings: Any) -> KeptTranscript:
        """The transcript an ingest kept for `media` (its path, URI or media id) in `sink=`."""
        from vtembed.api.kept_transcripts import kept_transcript

        return kept_transcript(self, media, self.settings(**settings))

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        modality: str = "all",
        media: str | None = None,
        mode: str = "hybrid",
        group: bool = True,
        group_gap_sec: float = 3.0,
        **settings: Any,
    ) -> SearchResult:
        """The stored moments nearest to the query, best first: `mode` "hybrid" (vector and
        full-text rankings fused; vector alone, with a note, where the sink has no full-text
        search), "vector" or "text"; `group` joins one item's records within `group_gap_sec`
        seconds into one hit (see docs/search.md)."""
        from vtembed.api.searching import search

        chosen = self.settings(sources=False, **settings)
        return search(
            self, query, chosen, k=k, modality=modality, media=media, mode=mode, group=group,
            group_gap_sec=group_gap_sec,
        )  # fmt: skip

    def transcribe(self, file: Path | str, **settings: Any) -> TranscribeResult:
        """The timestamped transcript of one file, embedding nothing."""
        from vtembed.api.transcript import transcribe

        return transcribe(Path(file), self.settings(**settings))

    def shots(
        self, file: Path | str, *, keyframes: Path | str | None = None, **settings: Any
    ) -> ShotsResult:
        """The shots of one file, cut at scene changes, with their keyframe times; with
        `keyframes=DIR`, each shot's keyframe and thumbnail JPEGs are written there."""
        from vtembed.api.shot_list import shots

        folder = Path(keyframes) if keyframes is not None else None
        return shots(Path(file), self.settings(**settings), keyframes_dir=folder)

    def prune(
        self,
        locators: Sequence[str],
        *,
        dry_run: bool = False,
        confirm: Callable[[PrunePlan], bool] | None = None,
        **settings: Any,
    ) -> PruneResult:
        """Remove the records and state of media gone from the locators; `confirm` sees what
        would go and says yes or no (None: yes)."""
        from vtembed.api.pruning import prune

        chosen = self.settings(limit=0, since="", **settings)
        return prune(self, list(locators), chosen, dry_run=dry_run, confirm=confirm)

    def doctor(self, **settings: Any) -> list[Check]:
        """What a run needs, each checked: (what, None if fine else what to do)."""
        from vtembed.api.checks import doctor

        return doctor(self, self.settings(**settings))

    def plugins(self) -> list[PluginRow]:
        """Every loaded plugin with what it registered and where it came from."""
        from vtembed.api.plugins import plugin_rows

        return plugin_rows(self)

    def check_plugin(self, spec: str, *, locator: str | None = None, **settings: Any) -> Report:
        """Run the contract suite of `vtembed.testing` that fits the class `MODULE:CLASS`."""
        from vtembed.api.plugin_check import check_plugin

        return check_plugin(spec, self.settings(**settings), locator=locator)
