"""Executors run the pipeline's stages over items; `settings.executor` chooses one."""

from __future__ import annotations

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
    from vtembed.executors.local import LocalExecutor

    return LocalExecutor()
