"""One item's way through embedding and writing: its inputs as they arrive, their vectors as
calls return, and how it ends (written, failed, or counted by a dry run).

An item is written whole or not at all: its records are built only once every part has its
vectors, so a failure anywhere in the item leaves the store as it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from vtembed.embedder import Embeddable
from vtembed.errors import MediaError, UsageError
from vtembed.models import AudioSegment, MediaItem
from vtembed.pipeline import Planned, Stages, audio_after_text, build_records
from vtembed.summary import RunSummary

log = logging.getLogger(__name__)


class ItemJob:
    def __init__(self, item: MediaItem, stages: Stages, summary: RunSummary) -> None:
        self.item = item
        self.stages = stages
        self.summary = summary
        self.inputs: list[tuple[Embeddable, ...]] = []
        self.pending: list[Embeddable] = []
        """Inputs handed out but not yet in a batch (the overlapped executor fills batches)."""
        self.vectors: dict[int, list[list[float]]] = {}
        self.error: str | None = None
        self.duration_sec = 0.0
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, inputs: Sequence[Embeddable]) -> int:
        """Take a batch of inputs; returns its number, under which its vectors go. The job keeps
        them without their audio samples (the records need only times and text): a long item's
        sound is held only by the calls in flight."""
        self.inputs.append(tuple(_without_samples(x) for x in inputs))
        self.summary.count_requests(inputs)
        return len(self.inputs) - 1

    async def embed_planned(self, planned: Planned) -> None:
        """The whole item in one go (no overlap): its inputs, their vectors, its end."""
        self.add(planned.inputs)
        if not self.stages.settings.dry_run:
            self.vectors[0] = await self.stages.embed_inputs(planned.inputs)
        self.ended(planned.duration_sec)

    def track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)

    def ended(self, duration_sec: float) -> None:
        self.duration_sec = duration_sec

    def fail(self, message: str) -> None:
        """The first failure is the item's; calls still running for it are cancelled."""
        if self.error is None:
            self.error = message
        current = asyncio.current_task() if self._tasks else None
        for task in self._tasks:
            if task is not current:
                task.cancel()

    async def wait(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def finish(self) -> None:
        """Write the item's records and mark it done, or report why it failed."""
        label = self.item.label
        try:
            if self.error is not None:
                self._failed(self.error)
                return
            if not self.stages.settings.dry_run:
                records = self._write()
                self.stages.reporter.info(f"done: {label} ({records} records)")
            self.summary.audio_seconds += self.duration_sec
            self.summary.ok += 1
        except Exception as exc:
            self._failed(failure_message(exc, self.item))
        finally:
            self.stages.reporter.item_end(label)

    def _write(self) -> int:
        pairs: list[tuple[Embeddable, list[float]]] = []
        for seq, batch in enumerate(self.inputs):
            vectors = self.vectors.get(seq, [])
            if len(vectors) != len(batch):
                raise RuntimeError(
                    f"embedder returned {len(vectors)} vectors for {len(batch)} inputs"
                )
            pairs.extend(zip(batch, vectors, strict=True))
        pairs.sort(key=lambda pair: audio_after_text(pair[0]))  # stable: keeps time order
        planned = Planned(self.item, self.duration_sec, tuple(source for source, _ in pairs))
        records = build_records(planned, [vector for _, vector in pairs], self.stages.embedder)
        self.summary.records_written += self.stages.write(self.item, records)
        return len(records)

    def _failed(self, message: str) -> None:
        self.stages.reporter.error(self.item.label, message)
        self.stages.state.mark_failed(self.item, message)
        self.summary.add_error(self.item.label, message)


def _without_samples(source: Embeddable) -> Embeddable:
    return source.without_samples() if isinstance(source, AudioSegment) else source


def failure_message(exc: Exception, item: MediaItem) -> str:
    """What the item's error line says: our own errors as they are, others with their type."""
    if isinstance(exc, MediaError | UsageError | OSError):
        return str(exc)
    log.debug("unexpected failure on %s", item.label, exc_info=exc)
    return f"{type(exc).__name__}: {exc}"
