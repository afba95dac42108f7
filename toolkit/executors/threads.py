"""Run the stages in this process (`executor = "threads"`): items in threads of their own (as
many at once as Whisper runs calls, `pipeline.items_at_once`), embedding and writing on an event
loop in the main thread, joined by a bounded queue.

Whisper is the slowest stage and the only one that needs the cores for long, so it never waits:
while it transcribes a window, the inputs of earlier windows (and items) are being embedded and
finished items written, and the next item is opened and decoded beside it. Each item's messages
arrive in its own order (so its records do); items may end in another order than given. The
queue of transcribed parts and the number of embedder calls in flight are bounded (`[pipeline]`
settings), so a fast transcriber and a slow endpoint cannot pile up memory.

With `pipeline.overlap = false` the same pipeline runs at depth 1: no Whisper thread, each item
transcribed whole, planned, embedded one call at a time and written before the next begins. It
plans from the whole transcript on purpose, as the Ray driver does: comparing its records with
the overlapped run's checks the window-by-window planner against the plain one.
What happens after transcription is `ItemJobs`, the same for both.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Iterator
from contextlib import closing

from vtembed.executors import running
from vtembed.executors.item_job import ItemJobs, guarded
from vtembed.models import MediaItem
from vtembed.pipeline import Message, Stages
from vtembed.settings import Settings
from vtembed.summary import RunSummary
from vtembed.whisper_device import device_for
from vtembed.whisper_workers import sizing

_POLL_SEC = 0.2
STOP_WAIT_SEC = 30.0


class ThreadExecutor:
    def run(self, items: list[MediaItem], stages: Stages, summary: RunSummary) -> None:
        with running(stages, summary, len(items)) as runner:
            if stages.settings.pipeline.overlap:
                runner.run(_overlapped(items, stages, summary))
                return
            jobs = ItemJobs(stages, summary, in_flight=1)
            for item in items:
                runner.run(jobs.one(guarded(item, stages.at_once(item))))


async def _overlapped(items: list[MediaItem], stages: Stages, summary: RunSummary) -> None:
    settings = stages.settings.pipeline
    loop = asyncio.get_running_loop()
    parts: asyncio.Queue[Message | None] = asyncio.Queue(settings.parts_waiting)
    stop = threading.Event()
    todo = _Shared(items)
    producers = [
        threading.Thread(
            target=_produce, args=(stages, todo, parts, loop, stop), name=f"vtembed-item-{n}"
        )
        for n in range(min(items_at_once(stages.settings), len(items)) or 1)
    ]
    for producer in producers:
        producer.daemon = True
        producer.start()
    jobs = ItemJobs(stages, summary, settings.batches_in_flight)
    try:
        ended = 0
        while ended < len(producers):
            message = await parts.get()
            if message is None:
                ended += 1
                continue
            await jobs.take(message, more_coming=not parts.empty())
        await jobs.drain()
    finally:
        # On Ctrl-C, Whisper stops at its next segment; waiting for that (a second or two)
        # lets its native threads end before the interpreter exits, which would abort.
        stop.set()
        for producer in producers:
            producer.join(timeout=STOP_WAIT_SEC)


def items_at_once(settings: Settings) -> int:
    """`pipeline.items_at_once`, or with 0 as many as Whisper runs calls at once: while one
    item is opened, probed and its first window decoded, another keeps Whisper busy."""
    if settings.pipeline.items_at_once:
        return settings.pipeline.items_at_once
    return sizing(settings.whisper, device_for(settings.whisper).device).workers


class _Shared:
    """The run's items, handed out one at a time, in order, to whichever thread asks."""

    def __init__(self, items: list[MediaItem]) -> None:
        self._items = iter(items)
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[MediaItem]:
        while True:
            with self._lock:
                item = next(self._items, None)
            if item is None:
                return
            yield item


def _produce(
    stages: Stages,
    items: Iterable[MediaItem],
    parts: asyncio.Queue[Message | None],
    loop: asyncio.AbstractEventLoop,
    stop: threading.Event,
) -> None:
    """An item thread: the messages of each item it takes, window by window, then None."""
    try:
        for item in items:
            if stop.is_set():
                return
            # Closed at once when the run stops, not whenever it is collected: the item's
            # picture thread and ffmpeg processes end with it.
            with closing(guarded(item, stages.stream(item, stop))) as messages:
                for message in messages:
                    if not _put(message, parts, loop, stop):
                        return
    finally:
        _put(None, parts, loop, stop)


def _put(
    message: Message | None,
    parts: asyncio.Queue[Message | None],
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
