"""Run the stages on a Ray cluster: Whisper work in actors, embedding and writing on the driver.

Each actor (one per worker process, `ray.workers`; by default as many as the cluster's CPUs
allow at `whisper.cpu_threads` threads each) holds its own Whisper model and does the heavy part
of an item: open, probe, decode, transcribe. Items are handed to actors with Ray's own
`ray.wait`, a couple in flight per actor so none idles while the driver works. The driver plans,
embeds (an async embedder keeps its connection pool for the whole run) and writes through the
same `ItemJobs` as the in-process executor without overlap, so records and resume are the same.

Ray's own console output (dashboard, worker logs, banners) is kept out of vtembed's; a Ray
started here is shut down at the end, and Ctrl-C stops actors with it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ray
from ray.exceptions import RayError

from vtembed.errors import UsageError
from vtembed.executors import running
from vtembed.executors.item_job import ItemJobs, guarded
from vtembed.executors.ray_dispatch import Dispatch, WorkerDied, first_line
from vtembed.executors.ray_windows import WindowsHeard
from vtembed.executors.ray_worker import (
    PROGRESS_GROUP,
    Job,
    Outcome,
    Progress,
    TranscribeWorker,
    WorkerSetup,
)
from vtembed.item_windows import ItemWindow
from vtembed.media import SAMPLE_RATE
from vtembed.models import MediaItem
from vtembed.pipeline import ItemFailed, Stages
from vtembed.settings import Settings
from vtembed.summary import RunSummary

CONNECT_TIMEOUT_SEC = 5.0
ASK_TIMEOUT_SEC = 0.5
DEFAULT_PORTS = {"ray://": 10001, "": 6379}


class RayExecutor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self, items: list[MediaItem], stages: Stages, summary: RunSummary) -> None:
        started = time.monotonic()
        with ray_session(self.settings.ray.address):
            threads, workers, cpus_each = sizing(self.settings)
            gpus = self.settings.ray.gpus_per_worker
            stages.reporter.info(
                f"ray: {_count(workers, 'Whisper worker')} ({_count(threads, 'thread')}"
                f"{f', {gpus:g} GPU' if gpus else ''} each) "
                f"on {_cpus(ray.cluster_resources()):g} CPUs of {_count(_alive(), 'node')}"
            )
            actor = ray.remote(**actor_options(cpus_each, gpus))(TranscribeWorker)
            keep_out = (stages.embedder.settings_section, type(stages.store.sink).settings_section)
            setup = ray.put(WorkerSetup.of(self.settings, stages.sources, keep_out, threads))
            driver = _Driver(stages, ItemJobs(stages, summary, in_flight=1))
            # Items with a kept transcript need no Whisper: the driver plans them itself.
            kept, rest = [], []
            for item in items:
                ready = stages.reuse is not None and stages.reuse.transcript(item) is not None
                (kept if ready else rest).append(item)
            with running(stages, summary, len(items), started) as runner:
                for item in kept:
                    runner.run(driver.jobs.one(guarded(item, stages.at_once(item))))
                work: Dispatch[Job] = Dispatch(
                    lambda: actor.remote(setup), workers, rest, while_waiting=driver.ask,
                    eager=self.settings.ray.split_files,
                )  # fmt: skip
                for job, result in work:
                    outcome = driver.settled(job, result)
                    if outcome is not None and outcome.windows:
                        work.put_first(outcome.windows)  # a long item: heard by several
                    elif outcome is not None:
                        runner.run(driver.finish(outcome))
                        if isinstance(job, ItemWindow) and outcome.transcribed is None:
                            work.drop(lambda j: isinstance(j, ItemWindow) and not driver.wanted(j))


class _Driver:
    """The driver's part of each item: progress from the actors, a long item's windows
    joined, then plan, embed, write and account through `ItemJobs`, one item at a time, as
    without overlap in this process."""

    def __init__(self, stages: Stages, jobs: ItemJobs) -> None:
        self.stages = stages
        self.jobs = jobs
        self.started: set[str] = set()
        self.ended: set[str] = set()
        self.windows = WindowsHeard()
        self.heard: dict[str, dict[float, float]] = {}  # label -> window start -> seconds heard

    def settled(self, job: Job, result: Outcome | WorkerDied) -> Outcome | None:
        """What the job's result means for its item: its outcome (a transcript, a failure, or
        the windows it was split into), or None while the item's other windows are out."""
        item = job.item if isinstance(job, ItemWindow) else job
        outcome = result if isinstance(result, Outcome) else _died(item, result)
        if not isinstance(job, ItemWindow):
            if outcome.windows:
                self.windows.expect(outcome)
                self._begin(item.label, outcome.windows[-1].end_sample / SAMPLE_RATE)
                self.stages.reporter.info(
                    f"    {item.label}: {len(outcome.windows)} Whisper windows, heard side by side"
                )
            return outcome
        done = outcome.transcribed
        if done is not None:  # the whole window counts as heard now
            reached = done.duration_sec - job.start_sec
            self._heard(Progress(item.label, done.info.duration_sec, job.start_sec, reached))
        return self.windows.settle(job, outcome)

    def wanted(self, window: ItemWindow) -> bool:
        return self.windows.wanted(window)

    def ask(self, actors: list[Any]) -> None:
        """Where each actor's item (or window) has got to (actors answer from a group of their
        own while Whisper runs); an actor slow to answer is skipped this time."""
        calls = [actor.progress.remote() for actor in actors]
        ready, _ = ray.wait(calls, num_returns=len(calls), timeout=ASK_TIMEOUT_SEC)
        for call in ready:
            try:
                now = ray.get(call)
            except RayError:
                continue
            if now is not None:
                self._heard(now)

    def _heard(self, now: Progress) -> None:
        """An item's progress is the sum over its windows, which run side by side."""
        if now.label in self.ended:
            return
        self._begin(now.label, now.duration_sec)
        windows = self.heard.setdefault(now.label, {})
        windows[now.since_sec] = max(windows.get(now.since_sec, 0.0), now.heard_sec)
        if now.heard_sec:
            self.stages.reporter.item_progress(now.label, sum(windows.values()))

    def _begin(self, label: str, duration_sec: float) -> None:
        if label not in self.started:
            self.started.add(label)
            self.stages.reporter.item_start(label, duration_sec)

    async def finish(self, outcome: Outcome) -> None:
        """From the worker's transcript (or its one-line failure) on, the item goes the way of
        every other: planned, embedded, written or failed by `ItemJobs`."""
        if outcome.worker_broken:
            raise UsageError(f"a Ray worker could not start: {outcome.error}")
        item, done = outcome.item, outcome.transcribed
        if done is not None:
            self._begin(item.label, done.info.duration_sec)
        for warning in outcome.warnings:
            self.stages.reporter.warn(item.label, warning)
        self.ended.add(item.label)
        self.heard.pop(item.label, None)
        if done is None:
            await self.jobs.one([ItemFailed(item, outcome.error)])
        else:
            await self.jobs.one(guarded(item, self.stages.from_transcript(done)))


def _died(item: MediaItem, died: WorkerDied) -> Outcome:
    if died.at_start:
        raise UsageError(
            f"Ray workers cannot start: {died.reason} (every node needs vtembed and its "
            "dependencies installed, at the driver's version)"
        )
    return Outcome(item, error=f"the Ray worker transcribing it died ({died.reason})")


def actor_options(cpus: float, gpus: float) -> dict[str, Any]:
    """What each Whisper actor asks Ray for. With `num_gpus` 0 Ray hides the GPUs from the
    actor, so its `whisper.device = auto` picks the CPU; with more, Ray gives it that share."""
    return {"num_cpus": cpus, "num_gpus": gpus, "concurrency_groups": {PROGRESS_GROUP: 1}}


def sizing(settings: Settings) -> tuple[int, int, float]:
    """Whisper threads per actor, actors, and the CPUs each reserves (never more than the
    cluster has, so no actor waits forever for room)."""
    nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
    largest = max((_cpus(r) for r in nodes), default=1.0) or 1.0
    total = _cpus(ray.cluster_resources()) or largest
    threads = settings.whisper.cpu_threads or 1
    workers = settings.ray.workers or max(1, int(total // threads))
    gpus = settings.ray.gpus_per_worker
    if gpus:
        workers = gpu_workers(workers, gpus, [float(r.get("GPU", 0.0)) for r in nodes])
    return threads, workers, min(float(threads), largest, total / workers)


def gpu_workers(workers: int, gpus_per_worker: float, node_gpus: list[float]) -> int:
    """`workers`, fewer if the nodes' GPUs hold fewer actors of `gpus_per_worker` each: an
    actor Ray cannot place would hold its items forever. None fits: a UsageError."""
    fits = sum(int(gpus // gpus_per_worker + 1e-9) for gpus in node_gpus)
    if fits < 1:
        raise UsageError(
            f"ray.gpus_per_worker is {gpus_per_worker:g}, but no node of the Ray cluster has "
            f"that many GPUs ({sum(node_gpus):g} in all): lower it, or set it to 0 for CPUs"
        )
    return min(workers, fits)


def _cpus(resources: dict[str, Any]) -> float:
    return float(resources.get("CPU", 0.0))


def _alive() -> int:
    return sum(1 for n in ray.nodes() if n.get("Alive"))


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


@contextmanager
def ray_session(address: str) -> Iterator[None]:
    """Join the cluster at `address` (empty: `RAY_ADDRESS`, else a new local Ray; "auto": the
    cluster `ray start` began on this machine); leave it at the end (a Ray started here stops).

    Empty never means Ray's own guess: that follows a file a stopped `ray start` leaves behind
    and then waits minutes for a cluster that is gone."""
    if ray.is_initialized():  # a program that embeds vtembed brought its own Ray
        yield
        return
    target = address or os.environ.get("RAY_ADDRESS", "") or "local"
    check_reachable(target)
    try:
        with warnings.catch_warnings():  # the Ray Client warns before it raises
            warnings.simplefilter("ignore")
            ray.init(
                address=target,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
    except (ConnectionError, RuntimeError) as exc:
        if "InvalidAuthToken" in f"{exc} {exc.__cause__}":
            raise UsageError(
                f"the Ray cluster at {target} wants a token: set RAY_AUTH_MODE=token, with the "
                "token in ~/.ray/auth_token or RAY_AUTH_TOKEN"
            ) from None
        where = "a local Ray" if target == "local" else f"the Ray cluster at {target}"
        hint = ""
        if target.startswith("ray://") and not os.environ.get("RAY_AUTH_MODE"):
            hint = " (a cluster that wants a token fails so too: set RAY_AUTH_MODE=token)"
        raise UsageError(f"cannot start or reach {where}: {first_line(exc)}{hint}") from None
    try:
        yield
    finally:
        ray.shutdown()


def check_reachable(address: str) -> None:
    """A cluster that cannot be reached is a usage error now; Ray itself would retry for
    minutes before giving up."""
    if address == "local":
        return
    if address == "auto":
        found = _auto_address()
        if found:
            _connect(found, f"{found} (found by ray address auto)")
        return
    scheme = "ray://" if address.startswith("ray://") else ""
    rest = address.removeprefix(scheme).split("/", 1)[0]
    host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", "")
    try:
        number = int(port) if port else DEFAULT_PORTS[scheme]
    except ValueError:
        raise UsageError(f"ray address {address!r}: the port is not a number") from None
    _connect(f"{host}:{number}", address)


def _connect(host_port: str, named: str) -> None:
    host, _, port = host_port.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), CONNECT_TIMEOUT_SEC).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise UsageError(f"cannot reach the Ray cluster at {named}: {reason}") from None


def _auto_address() -> str:
    """The host:port Ray's "auto" leads to ("" when this Ray cannot say), checked before Ray
    tries it."""
    try:
        from ray._private.services import canonicalize_bootstrap_address
    except ImportError:
        return ""
    try:
        return canonicalize_bootstrap_address("auto") or ""
    except ConnectionError:
        raise UsageError(
            "no running Ray cluster found on this machine (ray address auto): start one with "
            "`ray start --head`, or leave the address empty to start a local Ray"
        ) from None
