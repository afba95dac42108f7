"""Executors run the pipeline's stages over items; `settings.executor` chooses one.

They differ only in where transcription happens (a thread of this process, or Ray actors);
what follows it is `item_job.ItemJobs` for both, and the frame of a run is `running`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from vtembed.errors import UsageError
from vtembed.models import MediaItem
from vtembed.pipeline import Stages
from vtembed.settings import Settings
from vtembed.summary import RunSummary


class Executor(Protocol):
    def run(self, items: list[MediaItem], stages: Stages, summary: RunSummary) -> None: ...


def make_executor(settings: Settings) -> Executor:
    """The configured executor; Ray is imported only when chosen (it is an optional extra)."""
    if settings.executor == "ray":
        try:
            from vtembed.executors.ray import RayExecutor
        except ModuleNotFoundError as exc:
            if exc.name != "ray":
                raise
            raise UsageError("--executor ray needs Ray: pip install 'vtembed[ray]'") from None
        return RayExecutor(settings)
    from vtembed.executors.threads import ThreadExecutor

    return ThreadExecutor()


@contextmanager
def running(
    stages: Stages, summary: RunSummary, items: int, started: float | None = None
) -> Iterator[asyncio.Runner]:
    """A run's frame: progress starts and always finishes, the summary gets the wall time
    (from `started`, when the executor had work before this), and the embedder's connections
    close on the one event loop the run's async work shares."""
    started = time.monotonic() if started is None else started
    stages.reporter.start(items)
    try:
        with asyncio.Runner() as runner:
            yield runner
            runner.run(stages.embedder.aclose())
    finally:
        stages.reporter.finish()
        summary.wall_seconds = time.monotonic() - started
