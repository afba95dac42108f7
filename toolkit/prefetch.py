"""Run an iterator a few items ahead in its own thread: ffmpeg decodes the next window of audio
while Whisper works on this one, and at most `ahead` windows wait in memory."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_POLL_SEC = 0.2


class _End:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def prefetch(source: Iterator[T], ahead: int) -> Iterator[T]:
    """The items of `source`, produced up to `ahead` in advance; its errors surface here, in
    order. Closing the returned iterator early closes `source` in its thread (ffmpeg exits)."""
    if ahead <= 0:
        yield from source
        return
    ready: queue.Queue[T | _End] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(value: T | _End) -> bool:
        while not stop.is_set():
            try:
                ready.put(value, timeout=_POLL_SEC)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for value in source:
                if not put(value):
                    break
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_End(exc))
            return
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()
        put(_End())

    worker = threading.Thread(target=run, name="vtembed-decode", daemon=True)
    worker.start()
    try:
        while True:
            value = ready.get()
            if isinstance(value, _End):
                if value.error is not None:
                    raise value.error
                return
            yield value
    finally:
        stop.set()
        worker.join(timeout=5)
