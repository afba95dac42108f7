"""The overlapped pipeline writes exactly what one-stage-at-a-time writes.

Whisper hands out a long file's chunks and segments window by window while earlier ones are
embedded; the records (ids, texts, times) must not depend on that. Their order in the file does:
records are stored as their embeddings come back, so the two are compared in time order.
Vectors agree up to float noise: the embedder sees the same inputs in differently composed
batches.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from tests import media_factory as mf
from tests.conftest import as_at_a_terminal, records

pytestmark = pytest.mark.slow  # runs Whisper or starts servers


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Path:
    root = tmp_path_factory.mktemp("overlap")
    mf.long_speech_wav(root / "a long talk.wav", 1.5)  # several 20 s windows
    mf.speech_media(root, "short", "mp4", text="A dog crosses the street with its owner.")
    mf.not_media(root / "broken.mp4")
    mf.speech_media(root, "after the broken one", "mp3", text="Rain falls on the old harbour.")
    return root


def _ingest(vtembed, folder: Path, out: Path, overlap: bool) -> tuple[int, list[dict]]:  # type: ignore[no-untyped-def]
    run = vtembed(
        "ingest",
        str(folder),
        "--sink",
        f"jsonl:{out}",
        env={
            "VTEMBED_PIPELINE__OVERLAP": str(overlap).lower(),
            "VTEMBED_WHISPER__WINDOW_SEC": "20",
            "VTEMBED_PIPELINE__PARTS_WAITING": "1",  # the tightest back-pressure
            "VTEMBED_PIPELINE__BATCHES_IN_FLIGHT": "1",
            "VTEMBED_EMBED_BATCH_SIZE": "3",
        },
    )
    assert "Traceback" not in run.err, run.err
    return run.code, records(out)


def _without_vector(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "embedding"}


def _in_time_order(found: list[dict]) -> list[dict]:
    return sorted(found, key=lambda r: (r["media"]["id"], r["modality"], r["start_sec"]))


def test_overlapped_records_equal_one_stage_at_a_time(  # type: ignore[no-untyped-def]
    folder: Path, tmp_path: Path, vtembed
) -> None:
    code_seq, sequential = _ingest(vtembed, folder, tmp_path / "seq.jsonl", overlap=False)
    code_ovl, overlapped = _ingest(vtembed, folder, tmp_path / "ovl.jsonl", overlap=True)
    sequential, overlapped = _in_time_order(sequential), _in_time_order(overlapped)
    assert code_seq == code_ovl == 1  # the broken file fails alone in both
    assert [_without_vector(r) for r in overlapped] == [_without_vector(r) for r in sequential]
    for a, b in zip(overlapped, sequential, strict=True):  # batches differ, so float noise only
        assert float(np.dot(a["embedding"], b["embedding"])) > 0.9999
    titles = {r["media"]["title"] for r in overlapped}
    assert len(titles) == 3
    long_talk = [r for r in overlapped if r["media"]["title"].startswith("a long talk")]
    assert max(r["end_sec"] for r in long_talk) > 80  # past several window edges


def test_ctrl_c_while_whisper_works_exits_130(
    folder: Path, tmp_path: Path, cache_dir: Path
) -> None:
    """Whisper runs in a thread with native threads of its own: Ctrl-C mid-window must still end
    with exit 130 and the usual line, not an abort from the interpreter's exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")}
    env.update(VTEMBED_CACHE_DIR=str(cache_dir), VTEMBED_WHISPER__WINDOW_SEC="60")
    argv = [sys.executable, "-m", "vtembed", "ingest", str(folder / "a long talk.wav")]
    argv += ["--sink", f"jsonl:{tmp_path / 'e.jsonl'}", "--progress", "plain"]
    proc = subprocess.Popen(
        argv, env=env, stderr=subprocess.PIPE, text=True, preexec_fn=as_at_a_terminal
    )
    assert proc.stderr is not None
    lines: list[str] = []
    started = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "transcribed up to" in line or line.startswith("[1/1]"):
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert started.wait(120), "".join(lines)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    reader.join(timeout=10)
    err = "".join(lines)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "terminate called" not in err and "Traceback" not in err
