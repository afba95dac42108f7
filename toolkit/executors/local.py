"""Run the stages on this machine: Whisper in one thread, embedding and writing on an event loop
in the main thread, joined by a bounded queue.

Whisper is the slowest stage and the only one that needs the cores for long, so it never waits:
while it transcribes a window, the inputs of earlier windows (and items) are being embedded and
finished items written. The queue of transcribed parts and the number of embedder calls in flight
are bounded (`[pipeline]` settings), so a fast transcriber and a slow endpoint cannot pile up
memory. Items are written in the order they were given, one item's failure never stops the
others, and with `pipeline.overlap = false` the same stages run one after another instead.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator

from vtembed.embedder import Embeddable
from vtembed.errors import Stopped
from vtembed.executors.item_job import ItemJob, failure_message
from vtembed.models import MediaItem
from vtembed.pipeline import Ended, Part, Stages
from vtembed.summary import RunSummary

log = logging.getLogger(__name__)
_POLL_SEC = 0.2
STOP_WAIT_SEC = 30.0


class LocalExecutor:
    def run(self, items: list[MediaItem], stages: Stages, summary: RunSummary) -> None:
        started = time.monotonic()
        stages.reporter.start(len(items))
        try:
            with asyncio.Runner() as runner:
                if stages.settings.pipeline.overlap:
                    runner.run(_Overlapped(stages, summary).run(items))
                else:
                    for item in items:
                        runner.run(_one_at_a_time(item, stages, summary))
                runner.run(stages.embedder.aclose())
        finally:
            stages.reporter.finish()
            summary.wall_seconds = time.monotonic() - started


async def _one_at_a_time(item: MediaItem, stages: Stages, summary: RunSummary) -> None:
    job = ItemJob(item, stages, summary)
    try:
        await job.embed_planned(stages.plan(stages.transcribe(item)))
    except Exception as exc:
        job.fail(failure_message(exc, item))
    job.finish()


class _Overlapped:
    def __init__(self, stages: Stages, summary: RunSummary) -> None:
        self.stages = stages
        self.summary = summary
        self.settings = stages.settings.pipeline

    async def run(self, items: list[MediaItem]) -> None:
        loop = asyncio.get_running_loop()
        parts: asyncio.Queue[Part | Ended | _Failed | None] = asyncio.Queue(
            self.settings.parts_waiting
        )
        stop = threading.Event()
        producer = threading.Thread(
            target=self._produce, args=(items, parts, loop, stop), name="vtembed-whisper"
        )
        producer.daemon = True
        producer.start()
        try:
            await self._consume(parts)
        finally:
            # On Ctrl-C, Whisper stops at its next segment; waiting for that (a second or two)
            # lets its native threads end before the interpreter exits, which would abort.
            stop.set()
            producer.join(timeout=STOP_WAIT_SEC)

    def _produce(
        self,
        items: list[MediaItem],
        parts: asyncio.Queue[Part | Ended | _Failed | None],
        loop: asyncio.AbstractEventLoop,
        stop: threading.Event,
    ) -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                for message in _guarded(self.stages, item, stop):
                    if not _put(message, parts, loop, stop):
                        return
        finally:
            _put(None, parts, loop, stop)

    async def _consume(self, parts: asyncio.Queue[Part | Ended | _Failed | None]) -> None:
        """Inputs wait in a per-item batch until it is full or no other part is queued (then
        the embedder would sit idle), so calls are full while Whisper is ahead and prompt
        while it is the bottleneck."""
        in_flight = asyncio.Semaphore(self.settings.batches_in_flight)
        jobs: dict[str, ItemJob] = {}
        previous: asyncio.Task[None] | None = None
        size = max(1, min(self.stages.settings.embed_batch_size, self.stages.embedder.batch_size))

        async def send(job: ItemJob, everything: bool) -> None:
            batch = job.pending
            while len(batch) >= size or (everything and batch):
                inputs = batch[:size]  # with their samples, for the call; the job keeps neither
                seq = job.add(inputs)
                del batch[:size]
                if not self.stages.settings.dry_run and not job.error:
                    await in_flight.acquire()
                    job.track(asyncio.create_task(self._embed(job, seq, inputs, in_flight)))

        while (message := await parts.get()) is not None:
            job = jobs.get(message.item.id)
            if job is None:
                job = jobs[message.item.id] = ItemJob(message.item, self.stages, self.summary)
            if isinstance(message, Part):
                job.pending.extend(message.inputs)
                await send(job, everything=parts.empty())
                continue
            await send(job, everything=True)
            if isinstance(message, Ended):
                job.ended(message.duration_sec)
            else:
                job.fail(message.error)
            del jobs[message.item.id]
            previous = asyncio.create_task(_finish_after(previous, job))
        if previous is not None:
            await previous

    async def _embed(
        self, job: ItemJob, seq: int, inputs: list[Embeddable], in_flight: asyncio.Semaphore
    ) -> None:
        try:
            job.vectors[seq] = await self.stages.embed_inputs(inputs)
        except Exception as exc:
            job.fail(failure_message(exc, job.item))
        finally:
            in_flight.release()


class _Failed:
    def __init__(self, item: MediaItem, error: str) -> None:
        self.item = item
        self.error = error


def _guarded(
    stages: Stages, item: MediaItem, stop: threading.Event
) -> Iterator[Part | Ended | _Failed]:
    """The item's stream, with a failure turned into a message so the next item goes on."""
    try:
        yield from stages.stream(item, stop)
    except Stopped:
        return
    except Exception as exc:
        yield _Failed(item, failure_message(exc, item))


def _put(
    message: Part | Ended | _Failed | None,
    parts: asyncio.Queue[Part | Ended | _Failed | None],
    loop: asyncio.AbstractEventLoop,
    stop: threading.Event,
) -> bool:
    """Hand a message to the event loop, waiting while the queue is full (back-pressure);
    False once the run is stopping."""
    try:
        done = asyncio.run_coroutine_threadsafe(parts.put(message), loop)
    except RuntimeError:  # the loop is closed: the run ended
        return False
    while not stop.is_set():
        try:
            done.result(timeout=_POLL_SEC)
            return True
        except TimeoutError:
            continue
    done.cancel()
    return False


async def _finish_after(previous: asyncio.Task[None] | None, job: ItemJob) -> None:
    """Items are written in the order they were given, whatever order their embeddings end."""
    await job.wait()
    if previous is not None:
        await previous
    job.finish()
