"""`vtembed.prefetch.Ahead`: the thread an item's picture side runs in beside Whisper. It makes
at most `ahead` items in front of the consumer (the one it is making counts), hands what is
ready without waiting, raises the producer's error in the consumer, and ends when closed or
when the run's stop is set, closing its source in its own thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from vtembed.errors import Stopped
from vtembed.prefetch import Ahead

WAIT_SEC = 10.0


class Counting:
    """An endless source that says how many items it made and whether it was closed."""

    def __init__(self) -> None:
        self.made = 0
        self.closed = threading.Event()
        self.go_on = threading.Event()
        self.go_on.set()

    def __iter__(self) -> Iterator[int]:
        try:
            while True:
                self.go_on.wait()
                self.made += 1
                yield self.made
        finally:
            self.closed.set()


def _until(check, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_SEC
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_it_never_runs_more_than_ahead_items_in_front() -> None:
    source = Counting()
    running = Ahead(iter(source), 3, "test-ahead")
    try:
        _until(lambda: source.made >= 3, "the producer did not fill its queue")
        time.sleep(0.5)  # room to run away, if it could
        assert source.made == 3  # three waiting, none started before there is room
        assert running.ready() == [1, 2, 3]
        _until(lambda: source.made >= 6, "taking made room")
        time.sleep(0.5)
        assert source.made == 6
    finally:
        running.close()
    assert source.closed.is_set() and not running.alive


def test_ready_does_not_wait_and_iterating_gives_the_rest() -> None:
    source = Counting()
    source.go_on.clear()  # nothing is made yet
    running = Ahead(iter(source), 2, "test-ahead")
    try:
        assert running.ready() == []
        source.go_on.set()
        got: list[int] = []
        for value in running:
            got.append(value)
            if len(got) == 5:
                break
        assert got == [1, 2, 3, 4, 5]
    finally:
        running.close()


def test_the_producers_error_is_raised_in_the_consumer_after_what_came_before() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise RuntimeError("video stream cannot be decoded")

    running = Ahead(failing(), 4, "test-ahead")
    try:
        _until(lambda: not running.alive, "the producer did not end")
        with pytest.raises(RuntimeError, match="cannot be decoded"):
            running.ready()
    finally:
        running.close()
    values = Ahead(failing(), 4, "test-ahead")
    got: list[int] = []
    with pytest.raises(RuntimeError):
        got.extend(values)
    assert got == [1]


def test_the_runs_stop_ends_the_thread_and_closes_the_source() -> None:
    source = Counting()
    stop = threading.Event()
    running = Ahead(iter(source), 1, "test-ahead", stop)
    _until(lambda: source.made >= 1, "the producer did not start")  # then it waits for room
    stop.set()  # Ctrl-C: nobody takes anything any more
    _until(lambda: not running.alive, "the producer thread did not end")
    assert source.closed.is_set()
    running.close()


def test_waiting_for_the_rest_ends_with_stopped_when_the_run_stops() -> None:
    source = Counting()
    source.go_on.clear()  # the producer is slow: the consumer waits
    stop = threading.Event()
    running = Ahead(iter(source), 1, "test-ahead", stop)
    stop.set()
    source.go_on.set()
    with pytest.raises(Stopped):
        list(running)
    running.close()
