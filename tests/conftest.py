"""Shared fixtures: generated media (real espeak-ng + ffmpeg) and a way to run the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import media_factory as mf


@pytest.fixture(scope="session")
def tools() -> None:
    missing = mf.missing_tools()
    if missing:
        pytest.fail(f"missing tools {missing}: run `make test`, which installs them", pytrace=False)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vtembed-cache")


@dataclass
class Run:
    code: int
    out: str
    err: str
    summary: dict

    @property
    def text(self) -> str:
        return self.out + self.err


def as_at_a_terminal() -> None:
    """`preexec_fn` for a CLI a test interrupts as Ctrl-C would: SIGINT at its default. A shell
    without job control starts background commands with SIGINT ignored (`make test &` in a
    script, say), and Python then installs no KeyboardInterrupt handler, so the run would
    never see the signal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def vtembed(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Run the installed CLI in a subprocess, as a user would; returns a `Run`."""
    summaries = tmp_path_factory.mktemp("summaries")
    counter = iter(range(10_000))

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> Run:
        summary = summaries / f"s{next(counter)}.json"
        full_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")},
            "VTEMBED_CACHE_DIR": str(cache_dir),
            **(env or {}),
        }
        argv = [sys.executable, "-m", "vtembed", *args]
        if "ingest" in args:
            argv += ["--summary-json", str(summary), "--progress", "plain"]
        proc = subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=timeout)
        data = json.loads(summary.read_text()) if summary.exists() else {}
        return Run(proc.returncode, proc.stdout, proc.stderr, data)

    return run
