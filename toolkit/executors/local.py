"""Run the stages item by item on this machine, one item's failure never stopping the others.

One event loop lives for the whole run (an `asyncio.Runner`), so async embedders keep their
connection pools between items.
"""

from __future__ import annotations

import asyncio
import logging
import time

from vtembed.errors import MediaError, UsageError
from vtembed.models import MediaItem
from vtembed.pipeline import Stages
from vtembed.summary import RunSummary

log = logging.getLogger(__name__)


class LocalExecutor:
    def run(self, items: list[MediaItem], stages: Stages, summary: RunSummary) -> None:
        started = time.monotonic()
        stages.reporter.start(len(items))
        try:
            with asyncio.Runner() as runner:
                for item in items:
                    self._one(item, stages, summary, runner)
                runner.run(stages.embedder.aclose())
        finally:
            stages.reporter.finish()
            summary.wall_seconds = time.monotonic() - started

    def _one(
        self, item: MediaItem, stages: Stages, summary: RunSummary, runner: asyncio.Runner
    ) -> None:
        try:
            planned = stages.plan(stages.transcribe(item))
            summary.count_requests(planned.inputs)
            if stages.settings.dry_run:
                summary.audio_seconds += planned.duration_sec
                summary.ok += 1
                return
            records = runner.run(stages.embed(planned))
            summary.records_written += stages.write(item, records)
            stages.reporter.info(f"done: {item.label} ({len(records)} records)")
            summary.audio_seconds += planned.duration_sec
            summary.ok += 1
        except (MediaError, UsageError, OSError) as exc:
            self._failed(item, str(exc), stages, summary)
        except Exception as exc:
            log.debug("unexpected failure on %s", item.label, exc_info=True)
            self._failed(item, f"{type(exc).__name__}: {exc}", stages, summary)
        finally:
            stages.reporter.item_end(item.label)

    @staticmethod
    def _failed(item: MediaItem, message: str, stages: Stages, summary: RunSummary) -> None:
        stages.reporter.error(item.label, message)
        stages.state.mark_failed(item, message)
        summary.add_error(item.label, message)
