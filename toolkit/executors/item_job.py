"""The embedding and writing half of every executor, one copy of each rule.

An executor's transcribing side (a Whisper thread, the event loop itself, or Ray actors) hands
each item's `Part`s and then its `Ended` or `ItemFailed` to `ItemJobs`, which holds one `ItemJob`
per item in progress. Here, and nowhere else:

- inputs go to the embedder in calls of `Stages.batch_size`, at most `in_flight` at once across
  items, and are counted in the summary (a dry run counts them and sends nothing);
- an item's records go to the store as its calls answer, batch by batch in the order the inputs
  were given (so nothing is held for the length of a file), and the store switches the item
  over only once all of them are stored (`Store.complete`), or takes them back out if it fails
  (`Store.abandon`);
- items are marked done or failed in the resume manifest in the order they end (the order
  given, unless the executor transcribes several side by side);
- one item's failure (`guarded`, `failure_message`) never stops the others, and its first error
  is the one reported;
- each item's end is reported (`done:` or its error line, then the end of its progress bar).

The depth is the executor's choice: the overlapped pipeline keeps feeding while calls are in
flight; one item at a time (`ItemJobs.one`: no overlap, and the Ray driver) waits until the item
is written before the next is transcribed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator, Sequence

from vtembed.embedder import Embeddable
from vtembed.errors import MediaError, Stopped, UsageError
from vtembed.models import AudioSegment, MediaItem
from vtembed.pipeline import Ended, ItemFailed, Message, Part, Planned, Stages
from vtembed.records import build_records
from vtembed.summary import RunSummary

log = logging.getLogger(__name__)


class ItemJobs:
    def __init__(self, stages: Stages, summary: RunSummary, in_flight: int) -> None:
        self.stages = stages
        self.summary = summary
        self._in_flight = asyncio.Semaphore(in_flight)
        self._jobs: dict[str, ItemJob] = {}
        self._last: asyncio.Task[None] | None = None

    async def take(self, message: Message, more_coming: bool) -> None:
        """One message of an item. A part's inputs wait for a full batch unless nothing more is
        coming soon (`more_coming` false: the embedder would sit idle), so calls are full while
        Whisper is ahead and prompt while it is the bottleneck."""
        item = message.item
        job = self._jobs.get(item.id)
        if job is None:
            job = self._jobs[item.id] = ItemJob(item, self.stages, self.summary)
        if isinstance(message, Part):
            job.media_sec = message.media_sec
            if message.source is not None:  # a part of text and sound (not of pictures)
                job.source, job.language = message.source, message.language
            job.pending.extend(message.inputs)
            await job.send(not more_coming, self._in_flight)
            return
        await job.send(True, self._in_flight)
        if isinstance(message, Ended):
            job.ended(message.duration_sec)
        else:
            job.fail(message.error)
        del self._jobs[item.id]
        self._last = asyncio.create_task(_finish_after(self._last, job))

    async def drain(self) -> None:
        """Wait until every item that has ended is written (or failed)."""
        if self._last is not None:
            await self._last

    async def one(self, messages: Iterable[Message]) -> None:
        """A whole item at a time: its messages, then its end, before the caller goes on."""
        for message in messages:
            await self.take(message, more_coming=False)
        await self.drain()


class ItemJob:
    """One item's inputs as they arrive, their vectors as calls return, and how it ends. It
    holds only the batches in flight (and answered ones waiting for an earlier one): each is
    stored as soon as every batch before it is."""

    def __init__(self, item: MediaItem, stages: Stages, summary: RunSummary) -> None:
        self.item = item
        self.stages = stages
        self.summary = summary
        self.batches: dict[int, tuple[Embeddable, ...]] = {}
        """Batches not yet stored, by number, without their audio samples."""
        self.sent = 0
        self.stored = 0
        """How many batches, in order, are stored (or dropped, once the item has failed)."""
        self.pending: list[Embeddable] = []
        """Inputs handed out but not yet in a call."""
        self.vectors: dict[int, list[list[float]]] = {}
        self.error: str | None = None
        self.duration_sec = 0.0
        self.media_sec = 0.0
        self.source: str | None = None
        self.language: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, inputs: Sequence[Embeddable]) -> int:
        """Take a batch of inputs; returns its number, under which its vectors go. The job keeps
        them without their audio samples (the records need only times and text): a long item's
        sound is held only by the calls in flight."""
        seq = self.sent
        if not self.stages.settings.dry_run:  # a dry run stores nothing, so keeps nothing
            self.batches[seq] = tuple(_without_samples(x) for x in inputs)
        self.sent += 1
        self.summary.count_requests(inputs)
        return seq

    async def send(self, everything: bool, in_flight: asyncio.Semaphore) -> None:
        """Pending inputs in calls of the batch size: the full ones, and with `everything` the
        rest too. A dry run, or an item that has failed, sends nothing."""
        size = self.stages.batch_size
        batch = self.pending
        while len(batch) >= size or (everything and batch):
            inputs = batch[:size]  # with their samples, for the call; the job keeps neither
            seq = self.add(inputs)
            del batch[:size]
            if not self.stages.settings.dry_run and not self.error:
                await in_flight.acquire()
                self._tasks.add(asyncio.create_task(self._embed(seq, inputs, in_flight)))

    async def _embed(
        self, seq: int, inputs: list[Embeddable], in_flight: asyncio.Semaphore
    ) -> None:
        try:
            self.vectors[seq] = await self.stages.embed_inputs(inputs)
            self._store_ready()
        except Exception as exc:
            self.fail(failure_message(exc, self.item))
        finally:
            in_flight.release()

    def _store_ready(self) -> None:
        """Store the answered batches that every earlier batch is stored before."""
        while self.stored in self.vectors and self.error is None:
            seq = self.stored
            batch = self.batches.pop(seq)
            planned = Planned(self.item, self.media_sec, batch, self.source, self.language)
            records = build_records(planned, self.vectors.pop(seq), self.stages.embedder)
            self.stages.store.put(self.item, records)
            self.stored += 1

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
                records, new = self.stages.store.complete(self.item)
                self.summary.records_written += new
                self.stages.reporter.info(f"done: {label} ({records} records)")
            self.summary.audio_seconds += self.duration_sec
            self.summary.ok += 1
        except Exception as exc:
            self._failed(failure_message(exc, self.item))
        finally:
            self.stages.reporter.item_end(label)

    def _failed(self, message: str) -> None:
        self.stages.reporter.error(self.item.label, message)
        if not self.stages.settings.dry_run:
            self.stages.store.abandon(self.item, message)
        self.summary.add_error(self.item.label, message)


async def _finish_after(previous: asyncio.Task[None] | None, job: ItemJob) -> None:
    """Items are written in the order they ended, whatever order their embeddings end."""
    await job.wait()
    if previous is not None:
        await previous
    job.finish()


def guarded(item: MediaItem, messages: Iterator[Part | Ended]) -> Iterator[Message]:
    """An item's messages, with a failure turned into `ItemFailed` so the next item goes on. A
    stopped item (Ctrl-C) just ends: it is neither written nor marked failed."""
    try:
        yield from messages
    except Stopped:
        return
    except Exception as exc:
        yield ItemFailed(item, failure_message(exc, item))


def failure_message(exc: Exception, item: MediaItem) -> str:
    """What the item's error line says: our own errors as they are, others with their type."""
    if isinstance(exc, MediaError | UsageError | OSError):
        return str(exc)
    log.debug("unexpected failure on %s", item.label, exc_info=exc)
    return f"{type(exc).__name__}: {exc}"


def _without_samples(source: Embeddable) -> Embeddable:
    return source.without_samples() if isinstance(source, AudioSegment) else source
