"""Ctrl-C at any moment of start-up (imports, plugin loading, settings, model loading) ends with
exit 130 and one line, never a traceback. Only a process shows this."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import as_at_a_terminal

ROOT = Path(__file__).resolve().parents[2]


def _interpreter_start_sec(env: dict[str, str]) -> float:
    """How long Python itself takes to start here: before that no code of vtembed's runs, and
    a Ctrl-C is the interpreter's to answer."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return time.monotonic() - started


@pytest.mark.parametrize("after_sec", [0.01, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.9])
def test_ctrl_c_during_start_up_exits_130(
    after_sec: float, tmp_path: Path, cache_dir: Path
) -> None:
    """`after_sec` counts from when the interpreter has started (measured just before)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")}
    env["VTEMBED_CACHE_DIR"] = str(cache_dir)
    wait = _interpreter_start_sec(env) + after_sec
    argv = [sys.executable, "-m", "vtembed", "ingest", str(ROOT / "examples" / "media")]
    argv += ["--sink", f"jsonl:{tmp_path / 'e.jsonl'}", "--progress", "plain"]
    proc = subprocess.Popen(
        argv,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_at_a_terminal,
    )
    time.sleep(wait)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip(f"the run ended before the signal came ({after_sec} s): nothing to interrupt")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Traceback" not in out, err
    assert err.strip().splitlines()[-1].startswith("interrupted"), err
