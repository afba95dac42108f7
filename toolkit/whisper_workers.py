"""Several Whisper calls at once on one loaded model, their results handed back in order.

One faster-whisper call leaves part of a CPU idle: Silero VAD, the mel features and the word
alignment run on one thread while CTranslate2's matrix work waits, and the other way round. Two
calls on different windows (of one long file, or of two short ones) fill each other's gaps:
on 2 cores, two workers of one thread each transcribed a 10-minute file in 0.75 times the time of
one worker with both threads (docs/whisper.md has the figures). CTranslate2 runs that many calls
in parallel when the model is loaded with `num_workers` of them; each gets `cpu_threads`.

A window's words never depend on another window's (`condition_on_previous_text` is off and each
window is its own call), so the results are the same whatever the number of workers; only the
order they come back in is kept by hand here.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from vtembed.settings import WhisperSettings

T = TypeVar("T")
R = TypeVar("R")
MAX_AUTO_WORKERS = 4
"""`workers = 0` takes one worker per core up to this: each worker holds its own batch of beams
(about 300 MiB at batch 4, beam 5 on tiny.en), and beyond a few, threads per call do as well."""


@dataclass(frozen=True)
class WhisperSizing:
    workers: int
    """Calls at once (CTranslate2's `num_workers`)."""
    cpu_threads: int
    """Threads each call uses (0: CTranslate2's own choice)."""


def sizing(settings: WhisperSettings, device: str, cores: int | None = None) -> WhisperSizing:
    """How many Whisper calls run at once and on how many threads each. A GPU takes one call
    (its batch already fills it); on a CPU `workers = 0` means one per core (at most
    `MAX_AUTO_WORKERS`), and `cpu_threads = 0` shares the cores out between them."""
    cores = max(1, cores or os.cpu_count() or 1)
    if device != "cpu":
        return WhisperSizing(settings.workers or 1, settings.cpu_threads)
    workers = settings.workers or min(cores, MAX_AUTO_WORKERS)
    return WhisperSizing(workers, settings.cpu_threads or max(1, cores // workers))


class OrderedCalls:
    """A pool of `workers` threads; `ahead` runs a function over an iterable on it, at most
    `workers` calls at once, and hands back the calls in the iterable's order.

    Several `ahead`s may run at once (two items transcribed side by side): they share the pool,
    so no more than `workers` calls ever run."""

    def __init__(self, workers: int, name: str = "vtembed-whisper-call") -> None:
        self.workers = max(1, workers)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=name)
        self._closed = threading.Event()

    def ahead(self, call: Callable[[T], R], inputs: Iterable[T]) -> Iterator[tuple[T, Future[R]]]:
        """Each input with its call's future, in order, once the call is submitted; the next
        input is submitted as the caller asks for the next pair, so at most `workers` calls
        (the one the caller holds, whose results it may read as they come, among them) are
        running or waiting at once.
        Closing the iterator early cancels the calls not yet started; those running finish on
        their own (`call` should watch for a stop of its own)."""
        pending: deque[tuple[T, Future[R]]] = deque()
        try:
            for value in inputs:
                pending.append((value, self._pool.submit(call, value)))
                if len(pending) >= self.workers:  # none queued behind them: memory stays flat
                    yield pending.popleft()
            while pending:
                yield pending.popleft()
        finally:
            for _value, future in pending:
                future.cancel()

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            self._pool.shutdown(wait=False, cancel_futures=True)


@functools.lru_cache(maxsize=4)
def shared_calls(workers: int) -> OrderedCalls:
    """One pool per process and size, like the loaded model it feeds: a program (or a test
    session) that ingests many times does not leave a pool of idle threads behind each run."""
    return OrderedCalls(workers)


def describe_sizing(settings: WhisperSettings, device: str) -> str:
    """How Whisper will run, for the start line: `2 calls at once of 1 thread, batches of 4`."""
    size = sizing(settings, device)
    threads = f"{size.cpu_threads} thread{'s' if size.cpu_threads != 1 else ''}"
    calls = "1 call" if size.workers == 1 else f"{size.workers} calls at once"
    each = f" of {threads}" if size.cpu_threads else ""
    batches = "one speech chunk at a time"
    if settings.batched:
        batches = f"batches of {settings.batch_size}"
    return f"{calls}{each}, {batches}"
