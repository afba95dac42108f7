"""The Whisper side of a Ray run: one actor per worker process opens, decodes and transcribes items.

An actor is built once and keeps its Whisper model and sources for every item it is given. It is
rebuilt from plain data: the run's settings class is made at run time (with the plugins' tables)
and does not pickle by reference, so the driver sends the settings as a dict, the tables' model
classes and the source classes, all importable on a worker that has vtembed installed. Embedder
and sink tables stay on the driver: a worker never needs an API key.

The actor returns an `Outcome` for every item, never raises for one: the driver must know which
item failed and why, in one line, and a failure must not look like a dead worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import ray

from vtembed.errors import UsageError
from vtembed.executors.item_job import failure_message
from vtembed.item_windows import ItemWindow
from vtembed.malloc_tuning import map_large_buffers
from vtembed.models import MediaInfo, MediaItem
from vtembed.pipeline import Stages, Transcribed
from vtembed.settings import PluginSection, Settings, load_settings
from vtembed.source import Source
from vtembed.transcriber import Transcriber

PROGRESS_GROUP = "progress"


@dataclass(frozen=True)
class WorkerSetup:
    """What an actor needs to rebuild its own settings, sources and Whisper model."""

    settings: dict[str, Any]
    tables: list[PluginSection]
    sources: dict[str, type[Source]]
    kept_out: tuple[str, ...] = ()
    """The tables left on the driver: valid names (the worker inherits their `VTEMBED_*`
    variables), not loaded here."""

    @classmethod
    def of(
        cls,
        settings: Settings,
        sources: dict[str, Source],
        keep_out: Iterable[PluginSection | None],
        cpu_threads: int,
    ) -> WorkerSetup:
        """`keep_out`: tables workers must not get (the embedder's and the sink's: keys)."""
        private = {table.name for table in keep_out if table is not None}
        private -= {t.name for s in sources.values() if (t := getattr(s, "settings_section", None))}
        base = set(Settings.model_fields)
        tables = [
            PluginSection(name, spec.annotation)
            for name, spec in type(settings).model_fields.items()
            if name not in base and name not in private and isinstance(spec.annotation, type)
        ]
        data = settings.model_dump(exclude=private)
        data["whisper"]["cpu_threads"] = cpu_threads
        # An actor reserves `cpu_threads` CPUs: one Whisper call at a time fills them (more
        # actors, not more calls per actor, use a larger cluster), unless the user said more.
        data["whisper"]["workers"] = settings.whisper.workers or 1
        kinds = {name: type(source) for name, source in sources.items()}
        return cls(data, tables, kinds, tuple(sorted(private)))


@dataclass(frozen=True)
class Outcome:
    """One item's (or window's) result: its transcript, the windows to transcribe it in
    instead, or the one-line reason it failed."""

    item: MediaItem
    transcribed: Transcribed | None = None
    error: str = ""
    warnings: tuple[str, ...] = ()
    worker_broken: bool = False
    """The actor could not be built (say, no Whisper model on that node): not the item's fault."""
    windows: tuple[ItemWindow, ...] = ()
    """A long item, not transcribed: its windows, to be transcribed each on its own, next."""


Job = MediaItem | ItemWindow
"""What an actor is given: an item, or one window of a long one."""


class TranscribeWorker:
    """A plain class (tests build one directly); the executor makes it a Ray actor with
    `ray.remote(concurrency_groups={PROGRESS_GROUP: 1})`."""

    def __init__(self, setup: WorkerSetup) -> None:
        self.problem = ""
        self.reporter = _Collector()
        map_large_buffers()  # the actor's process decodes and transcribes: see malloc_tuning
        try:
            settings = load_settings(
                setup.settings, None, setup.tables, other_sections=setup.kept_out
            )
            self.stages = Stages(
                settings=settings,
                sources={name: cls(settings) for name, cls in setup.sources.items()},
                transcriber=Transcriber(settings.whisper, settings.cache_dir),
                # Only `transcribe` runs here; it uses neither the embedder, the sink nor state.
                embedder=None,  # type: ignore[arg-type]
                store=None,  # type: ignore[arg-type]
                reporter=self.reporter,
            )
        except Exception as exc:  # reported with the first item, as a usage error on the driver
            self.problem = (
                str(exc) if isinstance(exc, UsageError) else f"{type(exc).__name__}: {exc}"
            )

    def transcribe(self, job: Job) -> Outcome:
        """A short item's transcript; a long one's windows (not transcribed: the driver hands
        them out, to this actor and others; `ray.split_files`); one window's transcript."""
        item = job.item if isinstance(job, ItemWindow) else job
        if self.problem:
            return Outcome(item, error=self.problem, worker_broken=True)
        try:
            if isinstance(job, ItemWindow):
                self.reporter.since = job.start_sec
                return self._done(item, self.stages.hear(item, self.stages.open(item), job))
            info, ready = self.stages.begin(item)
            if ready is None and self._may_split(info):
                windows = tuple(self.stages.item_windows(item, info))
                if windows:
                    return Outcome(item, windows=windows, warnings=self.reporter.taken())
            return self._done(item, ready or self.stages.hear(item, info))
        except Exception as exc:
            error = failure_message(exc, item)
            if isinstance(job, ItemWindow):
                error = f"{error} (in its {job.describe()})"
            return Outcome(item, error=error, warnings=self.reporter.taken())
        finally:
            self.reporter.current, self.reporter.since = None, 0.0

    def _may_split(self, info: MediaInfo) -> bool:
        settings = self.stages.settings
        return settings.ray.split_files and info.duration_sec > settings.whisper.window_sec

    def _done(self, item: MediaItem, done: Transcribed) -> Outcome:
        return Outcome(item, transcribed=done, warnings=self.reporter.taken())

    @ray.method(concurrency_group=PROGRESS_GROUP)
    def progress(self) -> Progress | None:
        """How far the item (or window) at hand has got; answered from a concurrency group of
        its own, so the driver can ask while `transcribe` runs."""
        return self.reporter.current


@dataclass(frozen=True)
class Progress:
    label: str
    duration_sec: float
    """The item's length, as probed."""
    since_sec: float
    """Where the window at hand starts (0: the whole item)."""
    heard_sec: float
    """Seconds transcribed from `since_sec` on."""


@dataclass
class _Collector:
    """The reporter an actor's stages talk to: keeps the item's warnings for the driver to show
    and where its transcription has got to, for the driver to ask."""

    warnings: list[str] = field(default_factory=list)
    current: Progress | None = None
    since: float = 0.0

    def taken(self) -> tuple[str, ...]:
        found = tuple(self.warnings)
        self.warnings.clear()
        return found

    def warn(self, label: str, message: str) -> None:
        if message not in self.warnings:  # a long item's split pass and its Whisper pass alike
            self.warnings.append(message)

    def item_start(self, label: str, duration_sec: float) -> None:
        self.current = Progress(label, duration_sec, self.since, 0.0)

    def item_progress(self, label: str, done_sec: float) -> None:
        if self.current is not None:
            self.current = replace(self.current, heard_sec=max(0.0, done_sec - self.since))

    def start(self, total_items: int) -> None: ...
    def item_end(self, label: str) -> None: ...
    def error(self, label: str, message: str) -> None: ...
    def info(self, message: str) -> None: ...
    def finish(self) -> None: ...
