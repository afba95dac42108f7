"""How many Whisper calls run at once, on how many threads, and that their results come back in
the order given whatever order they end in."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator

import pytest

from vtembed.settings import WhisperSettings
from vtembed.whisper_workers import (
    MAX_AUTO_WORKERS,
    OrderedCalls,
    WhisperSizing,
    describe_sizing,
    sizing,
)

WAIT_SEC = 20.0  # only ever reached when a call that should run beside another does not


def _results(
    calls: OrderedCalls, call: Callable[[int], int], inputs: Iterable[int]
) -> Iterator[int]:
    """Each call's result in turn, read as Transcriber reads a window's: when the caller gets
    to it."""
    for _value, future in calls.ahead(call, inputs):
        yield future.result()


@pytest.mark.parametrize(
    ("settings", "device", "cores", "expected"),
    [
        ({}, "cpu", 2, WhisperSizing(2, 1)),  # this project's machines: a call per core
        ({}, "cpu", 1, WhisperSizing(1, 1)),
        ({}, "cpu", 16, WhisperSizing(MAX_AUTO_WORKERS, 4)),  # the cores shared out
        ({"workers": 1}, "cpu", 2, WhisperSizing(1, 2)),  # one call gets both cores
        ({"workers": 3, "cpu_threads": 2}, "cpu", 2, WhisperSizing(3, 2)),  # as the user said
        ({}, "cuda", 2, WhisperSizing(1, 0)),  # a GPU's batch fills it: one call
        ({"workers": 2}, "cuda", 2, WhisperSizing(2, 0)),
    ],
)
def test_sizing(settings: dict, device: str, cores: int, expected: WhisperSizing) -> None:
    assert sizing(WhisperSettings(**settings), device, cores) == expected


def test_results_come_in_order_though_calls_end_out_of_order() -> None:
    second_done = threading.Event()

    def call(n: int) -> int:
        if n == 0:  # the first call ends only after the second: they ran side by side
            assert second_done.wait(WAIT_SEC), "the second call never ran beside the first"
        if n == 1:
            second_done.set()
        return n * 10

    calls = OrderedCalls(2)
    try:
        assert list(_results(calls, call, range(5))) == [0, 10, 20, 30, 40]
    finally:
        calls.close()


def test_no_more_calls_run_than_workers() -> None:
    running, most = 0, 0
    lock = threading.Lock()
    both = threading.Barrier(2, timeout=WAIT_SEC)

    def call(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        both.wait()  # each call waits for a partner: two always run together
        with lock:
            running -= 1
        return n

    calls = OrderedCalls(2)
    try:
        assert list(_results(calls, call, range(8))) == list(range(8))
    finally:
        calls.close()
    assert most == 2


def test_inputs_are_taken_only_a_few_ahead_of_the_caller() -> None:
    """A long file's windows are decoded as they are needed, not all at once."""
    taken: list[int] = []

    def inputs() -> Iterator[int]:
        for n in range(100):
            taken.append(n)
            yield n

    calls = OrderedCalls(2)
    try:
        results = _results(calls, lambda n: n, inputs())
        assert next(results) == 0
        assert len(taken) <= 2  # the workers' inputs, none waiting behind them
        results.close()
    finally:
        calls.close()


def test_a_failed_call_raises_at_its_turn_and_later_calls_are_dropped() -> None:
    started: list[int] = []
    release = threading.Event()

    def call(n: int) -> int:
        started.append(n)
        if n == 1:
            raise ValueError("window 1 is broken")
        if n >= 2:
            release.wait(WAIT_SEC)
        return n

    calls = OrderedCalls(1)  # one worker: later calls wait in the queue behind the running one
    try:
        results = _results(calls, call, range(10))
        assert next(results) == 0
        with pytest.raises(ValueError, match="window 1 is broken"):
            next(results)
        release.set()
    finally:
        calls.close()
    assert max(started) <= 2  # what was queued behind the failure never ran


@pytest.mark.parametrize(
    ("settings", "device", "line"),
    [
        ({}, "cpu", "calls at once of"),
        ({"batch_size": 1, "workers": 1}, "cpu", "1 call of"),
        ({"batch_size": 1}, "cpu", "one speech chunk at a time"),
        ({"vad": False}, "cpu", "one speech chunk at a time"),  # batches need VAD's chunks
        ({}, "cuda", "1 call, batches of 4"),
    ],
)
def test_the_start_line_says_how_whisper_runs(settings: dict, device: str, line: str) -> None:
    assert line in describe_sizing(WhisperSettings(**settings), device)
