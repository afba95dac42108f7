"""Hand jobs (items, or windows of long ones) to Ray actors and give back each job with its
result, as results come in.

Ray does the scheduling; this only keeps every actor fed (`depth` calls queued on each, so none
idles while the driver embeds and writes) and keeps a dead actor from taking more than one job
down: an actor runs its calls in order, so the first of its calls that fails is the one it died
on; its later calls are given to a fresh actor instead of being failed.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any, Generic, TypeVar

import ray
from ray.exceptions import RayActorError

T = TypeVar("T")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class WorkerDied:
    """What an item gets when the actor working on it died (a crash, the OOM killer, a lost
    node) instead of returning."""

    reason: str
    at_start: bool = False
    """The actor never started: its class or arguments did not load on the worker."""


class Dispatch(Generic[T]):
    """Iterate for `(job, result)` of every job, in the order results arrive; `result` is what
    the actor's `transcribe(job)` returned, or `WorkerDied`. While iterating, `put_first` adds
    jobs (a long item's windows) ahead of the rest and `drop` takes queued ones back.
    `while_waiting(actors)` is called every `wait_sec` that passes with no result (to ask the
    actors how far they have got). Actors are started as jobs need them, or all at once if
    `eager` (when `put_first` will multiply the jobs)."""

    def __init__(
        self,
        start_worker: Callable[[], Any],
        workers: int,
        jobs: list[T],
        depth: int = 2,
        while_waiting: Callable[[list[Any]], None] | None = None,
        wait_sec: float = 1.0,
        eager: bool = False,
    ) -> None:
        self._start_worker = start_worker
        self._workers = max(1, workers)
        self._depth = depth
        self._while_waiting = while_waiting
        self._wait_sec = wait_sec
        self._todo: deque[T] = deque(jobs)
        self._order = count()
        self._pending: dict[Any, tuple[int, T, Any]] = {}  # ObjectRef -> (sequence, job, actor)
        self._actors: list[Any] = []
        if eager and jobs:  # an actor takes seconds to start: not only once the jobs multiply
            self._actors = [start_worker() for _ in range(self._workers)]

    def put_first(self, jobs: Iterable[T]) -> None:
        """Queue `jobs` ahead of every other waiting job, starting actors for them if fewer
        than `workers` run."""
        self._todo.extendleft(reversed(list(jobs)))
        self._feed_all()

    def drop(self, unwanted: Callable[[T], bool]) -> None:
        """Forget the queued jobs `unwanted` picks (those already given to an actor still run)."""
        kept = [job for job in self._todo if not unwanted(job)]
        self._todo.clear()  # in place: a dead actor's settling may hold the queue
        self._todo.extend(kept)

    def __iter__(self) -> Iterator[tuple[T, Any]]:
        self._feed_all()
        while self._pending:
            timeout = self._wait_sec if self._while_waiting else None
            ready, _ = ray.wait(list(self._pending), num_returns=1, timeout=timeout)
            if not ready:
                if self._while_waiting:
                    self._while_waiting(self._actors)
                continue
            seq, job, actor = self._pending.pop(ready[0])
            try:
                result = ray.get(ready[0])
            except RayActorError as exc:
                self._actors.remove(actor)
                yield from _buried(actor, (seq, job, ready[0], exc), self._pending, self._todo)
                self._feed_all()
                continue
            self._feed_all()
            yield job, result

    def _feed_all(self) -> None:
        """Round by round, one job to each actor with room, so that jobs put first (a long
        item's windows) go to different actors rather than `depth` of them to the first."""
        while self._todo and len(self._actors) < self._workers:
            self._actors.append(self._start_worker())
        for level in range(1, self._depth + 1):
            for actor in self._actors:
                if self._todo and self._queued_on(actor) < level:
                    job = self._todo.popleft()
                    self._pending[actor.transcribe.remote(job)] = (next(self._order), job, actor)

    def _queued_on(self, actor: Any) -> int:
        return sum(1 for _, _, a in self._pending.values() if a is actor)


def _buried(
    actor: Any,
    failed: tuple[int, T, Any, RayActorError],
    pending: dict[Any, tuple[int, T, Any]],
    todo: deque[T],
) -> Iterator[tuple[T, Any]]:
    """Settle a dead actor's calls: results it finished are kept, the first failed call is the
    item it died on, and the calls it never started go back to the front of the queue."""
    seq, item, ref, exc = failed
    calls = sorted(
        [(s, i, r) for r, (s, i, a) in pending.items() if a is actor] + [(seq, item, ref)],
        key=lambda call: call[0],
    )
    blamed = False
    unstarted: list[T] = []
    for _, call_item, call_ref in calls:
        pending.pop(call_ref, None)
        if blamed:
            unstarted.append(call_item)
            continue
        try:
            yield call_item, ray.get(call_ref)
        except RayActorError as died:
            blamed = True
            yield call_item, _death(died if call_ref is not ref else exc)
    todo.extendleft(reversed(unstarted))


def _death(exc: RayActorError) -> WorkerDied:
    if exc.actor_init_failed:  # the cause is the traceback's last line
        lines = _ANSI.sub("", str(exc)).strip().splitlines() or [type(exc).__name__]
        return WorkerDied(lines[-1], at_start=True)
    return WorkerDied(first_line(exc))


def first_line(exc: BaseException) -> str:
    """Ray's errors run to many lines (tracebacks, advice); an error line takes the first."""
    text = _ANSI.sub("", str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__
