"""Run an iterator a few items ahead in its own thread, with at most `ahead` items made ahead.

ffmpeg decodes the next window of audio while Whisper works on this one (`prefetch`), and an
item's picture side (shots, keyframes, OCR) runs beside its transcription (`Ahead`, which the
Whisper thread asks between two of its segments for what is ready, without waiting). Either
way the producer's errors surface in the consumer, in order, and closing stops the producer
(its iterator is closed in its own thread: ffmpeg exits).

`ahead` counts the item being made as well as those waiting: the producer starts the next item
only when there is room for it. Otherwise a producer whose items are large (a window of PCM holds
19 MB per 5 minutes) held one more than asked, finished and blocked on a full queue; on a long
file that was a steady difference in peak memory from a short one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

from vtembed.errors import Stopped

T = TypeVar("T")
_POLL_SEC = 0.2
JOIN_SEC = 5.0


class _End:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class Ahead(Generic[T]):
    """The items of `source`, produced in a thread named `name`; `stop` (the run's) ends the
    producer as `close` does, at its next item."""

    def __init__(
        self,
        source: Iterator[T],
        ahead: int,
        name: str = "vtembed-decode",
        stop: threading.Event | None = None,
    ) -> None:
        self._source = source
        self._ready: queue.Queue[T | _End] = queue.Queue(maxsize=max(1, ahead))
        self._room = threading.Semaphore(max(1, ahead))  # items made or being made, not taken
        self._stop = threading.Event()
        self._run_stop = stop
        self._ended = False
        self._worker = threading.Thread(target=self._run, name=name, daemon=True)
        self._worker.start()

    def _stopping(self) -> bool:
        return self._stop.is_set() or (self._run_stop is not None and self._run_stop.is_set())

    def _put(self, value: T | _End) -> bool:
        while not self._stopping():
            try:
                self._ready.put(value, timeout=_POLL_SEC)
                return True
            except queue.Full:
                continue
        return False

    def _wait_for_room(self) -> bool:
        while not self._stopping():
            if self._room.acquire(timeout=_POLL_SEC):
                return True
        return False

    def _run(self) -> None:
        try:
            while self._wait_for_room():
                try:
                    value = next(self._source)
                except StopIteration:
                    break
                if not self._put(value):
                    break
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(_End(exc))
            return
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()
        self._put(_End())

    def _take(self, value: T | _End) -> T | None:
        if isinstance(value, _End):
            self._ended = True
            if value.error is not None:
                raise value.error
            return None
        self._room.release()
        return value

    def ready(self) -> list[T]:
        """What is produced by now, without waiting (empty once the source is done)."""
        found: list[T] = []
        while not self._ended:
            try:
                value = self._take(self._ready.get_nowait())
            except queue.Empty:
                break
            if value is not None:
                found.append(value)
        return found

    def __iter__(self) -> Iterator[T]:
        """The rest, waiting for each; `Stopped` once the run's stop has ended the producer."""
        while not self._ended:
            try:
                value = self._take(self._ready.get(timeout=_POLL_SEC))
            except queue.Empty:
                if self._stopping() and not self._worker.is_alive() and self._ready.empty():
                    raise Stopped from None
                continue
            if value is not None:
                yield value

    def close(self) -> None:
        """Stop the producer and wait (briefly) for its thread to end."""
        self._stop.set()
        self._worker.join(timeout=JOIN_SEC)

    @property
    def alive(self) -> bool:
        return self._worker.is_alive()


def prefetch(source: Iterator[T], ahead: int) -> Iterator[T]:
    """The items of `source`, produced up to `ahead` in advance; its errors surface here, in
    order. Closing the returned iterator early closes `source` in its thread (ffmpeg exits)."""
    if ahead <= 0:
        yield from source
        return
    running = Ahead(source, ahead)
    try:
        yield from running
    finally:
        running.close()
