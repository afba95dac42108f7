"""Run a command as its own process and measure it the way a user would feel it: wall time from
spawn to exit (start-up and model loading included) and the peak resident memory of the process
tree, read from the kernel's accounting when the child is reaped (`wait4`), not by polling.

Every `vtembed` run here gets the same clean environment: no VTEMBED_*/TWELVELABS_* variables
from the shell (they would change what is measured) and a model cache under benchmarks/.cache/,
warmed once before anything is timed so no figure includes converting MiniLM.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.inputs import speech_input

ROOT = Path(__file__).resolve().parents[1]
MODEL_CACHE = ROOT / "benchmarks" / ".cache" / "models"
QUICK_SUFFIX = "-quick"


@dataclass(frozen=True)
class Measured:
    wall_sec: float
    cpu_sec: float  # user + system of the process tree: what the work costs, whatever the load
    peak_rss_mib: float
    stdout: str
    stderr: str


def run_measured(argv: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run `argv` to completion; a non-zero exit stops the benchmark with its last error line."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        lines = [ln for ln in stderr.splitlines() if ln.strip()] or ["(no output)"]
        raise SystemExit(f"{' '.join(argv[:6])} …: exit code {proc.returncode}: {lines[-1]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(wall, cpu, usage.ru_maxrss / 1024, stdout, stderr)


def alternate(repeat: int, *runs: Callable[[int], Measured]) -> list[Measured]:
    """Run each of `runs` `repeat` times, taking turns, and keep each one's fastest run: on a
    shared machine a burst of load from elsewhere then slows all of them alike, and the fastest
    of a few runs is the one least disturbed. `runs` are called with the round number."""
    rounds = [[run(i) for run in runs] for i in range(repeat)]
    return [min(column, key=lambda m: m.wall_sec) for column in zip(*rounds, strict=True)]


def bench_env(**extra: str) -> dict[str, str]:
    """The shell's environment without vtembed or TwelveLabs settings, plus `extra`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VTEMBED_", "TWELVELABS_"))}
    return {**clean, "VTEMBED_CACHE_DIR": str(MODEL_CACHE), **extra}


def ingest_argv(media: Path, out: Path, *flags: str) -> list[str]:
    """`vtembed ingest MEDIA` into the JSONL file `out`, quietly, plus `flags`."""
    argv = [sys.executable, "-m", "vtembed", "ingest", str(media), "--sink", f"jsonl:{out}"]
    return [*argv, "--progress", "none", *flags]


def fresh_ingest(
    media: Path, work: Path, name: str, env: dict[str, str], *flags: str
) -> Callable[[int], Measured]:
    """`vtembed ingest MEDIA` for `alternate`: round n writes WORK/NAME-n.jsonl, a fresh sink each
    round, so nothing is done yet."""

    def run(n: int) -> Measured:
        return run_measured(ingest_argv(media, work / f"{name}-{n}.jsonl", *flags), env)

    return run


def warm_up(workdir: Path) -> None:
    """One untimed ingest: converts the embedding model into the cache and pages the models in."""
    run_measured(ingest_argv(speech_input(0.5).path, workdir / "warm-up.jsonl"), bench_env())


def load_average() -> float:
    """The 1-minute load average: the machine is shared, so every figure carries it."""
    return round(os.getloadavg()[0], 2)


def result_name(name: str, quick: bool) -> str:
    """Quick runs write NAME-quick.json, which the README table never reads."""
    return name + QUICK_SUFFIX if quick else name
