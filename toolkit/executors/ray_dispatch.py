"""Hand items to Ray actors and give back each item with its result, as results come in.

Ray does the scheduling; this only keeps every actor fed (`depth` calls queued on each, so none
idles while the driver embeds and writes) and keeps a dead actor from taking more than one item
down: an actor runs its calls in order, so the first of its calls that fails is the one it died
on; its later calls are given to a fresh actor instead of being failed.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any, TypeVar

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


def dispatch(
    start_worker: Callable[[], Any],
    workers: int,
    items: list[T],
    depth: int = 2,
    while_waiting: Callable[[list[Any]], None] | None = None,
    wait_sec: float = 1.0,
) -> Iterator[tuple[T, Any]]:
    """Yield `(item, result)` for every item, in the order results arrive; `result` is what the
    actor's `transcribe(item)` returned, or `WorkerDied`. `while_waiting(actors)` is called every
    `wait_sec` that passes with no result (to ask the actors how far they have got)."""
    todo: deque[T] = deque(items)
    order = count()
    pending: dict[Any, tuple[int, T, Any]] = {}  # ObjectRef -> (sequence, item, actor)
    actors: list[Any] = []

    def feed(actor: Any) -> None:
        while todo and sum(1 for _, _, a in pending.values() if a is actor) < depth:
            item = todo.popleft()
            pending[actor.transcribe.remote(item)] = (next(order), item, actor)

    def start() -> None:
        actors.append(start_worker())
        feed(actors[-1])

    for _ in range(min(workers, len(items)) or 1):
        start()
    while pending:
        timeout = wait_sec if while_waiting else None
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=timeout)
        if not ready:
            if while_waiting:
                while_waiting(actors)
            continue
        seq, item, actor = pending.pop(ready[0])
        try:
            result = ray.get(ready[0])
        except RayActorError as exc:
            actors.remove(actor)
            yield from _buried(actor, (seq, item, ready[0], exc), pending, todo)
            if todo:
                start()
            continue
        feed(actor)
        yield item, result


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
