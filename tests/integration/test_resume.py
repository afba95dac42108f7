"""Resume: a killed run completes on rerun with every record exactly once; changes are redone."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests import media_factory as mf
from tests.conftest import as_at_a_terminal, records

pytestmark = pytest.mark.slow  # runs Whisper or starts servers


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Path:
    root = tmp_path_factory.mktemp("resume") / "media"
    for i, text in enumerate([mf.SPEECH_TEXT, mf.DEMO_TEXT, mf.OTHER_TEXT, mf.SPEECH_TEXT]):
        mf.speech_media(root, f"clip {i}", "mp4", text=text, video=False)
    return root


@pytest.fixture(scope="module")
def reference(folder: Path, tmp_path_factory: pytest.TempPathFactory, vtembed) -> list[dict]:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("ref") / "e.jsonl"
    run = vtembed("ingest", str(folder), "--sink", f"jsonl:{out}")
    assert run.code == 0, run.text
    return records(out)


def _ids(recs: list[dict]) -> list[str]:
    return sorted(r["id"] for r in recs)


def _start_and_wait_for_first_record(folder: Path, out: Path, cache_dir: Path) -> subprocess.Popen:
    """Start a real ingest and return once its first records are on disk (mid-run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")}
    env["VTEMBED_CACHE_DIR"] = str(cache_dir)
    argv = [
        sys.executable,
        "-m",
        "vtembed",
        "ingest",
        str(folder),
        "--sink",
        f"jsonl:{out}",
        "--progress",
        "plain",
    ]
    proc = subprocess.Popen(
        argv,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_at_a_terminal,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.stat().st_size > 0:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    return proc


def test_kill_9_mid_run_then_rerun(
    folder: Path, reference: list[dict], tmp_path: Path, cache_dir: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "e.jsonl"
    proc = _start_and_wait_for_first_record(folder, out, cache_dir)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    partial = records(out)
    assert 0 < len(partial) < len(reference)
    run = vtembed("ingest", str(folder), "--sink", f"jsonl:{out}")
    assert run.code == 0, run.text
    final = records(out)
    assert max(Counter(r["id"] for r in final).values()) == 1
    assert _ids(final) == _ids(reference)
    assert {r["id"]: r["text"] for r in final} == {r["id"]: r["text"] for r in reference}


def test_changed_file_is_redone_and_old_records_replaced(
    tmp_path: Path, tools: None, vtembed
) -> None:  # type: ignore[no-untyped-def]
    media = tmp_path / "media"
    path = mf.speech_media(media, "talk", "wav", text=mf.DEMO_TEXT)
    keep = mf.speech_media(media, "other", "wav", text=mf.OTHER_TEXT)
    out = tmp_path / "e.jsonl"
    assert vtembed("ingest", str(media), "--sink", f"jsonl:{out}").code == 0
    other_before = [r for r in records(out) if r["media"]["title"] == "other"]
    mf.speech_media(media, "talk", "wav", text=mf.SPEECH_TEXT)  # new content, same name
    run = vtembed("ingest", str(media), "--sink", f"jsonl:{out}")
    assert run.code == 0, run.text
    assert run.summary["items"]["ok"] == 1 and run.summary["items"]["done_before"] == 1
    talk = " ".join(
        r["text"] for r in records(out) if r["media"]["title"] == "talk" and r["modality"] == "text"
    )
    assert "red car" not in talk.lower() and "sun came up" in talk.lower()
    assert [r for r in records(out) if r["media"]["title"] == "other"] == other_before
    assert path.exists() and keep.exists()


def test_deleted_output_is_not_claimed_by_state(tmp_path: Path, tools: None, vtembed) -> None:  # type: ignore[no-untyped-def]
    media = tmp_path / "media"
    mf.speech_media(media, "talk", "wav", text=mf.DEMO_TEXT)
    out = tmp_path / "e.jsonl"
    first = vtembed("ingest", str(media), "--sink", f"jsonl:{out}")
    count = len(records(out))
    out.unlink()
    again = vtembed("ingest", str(media), "--sink", f"jsonl:{out}")
    assert first.code == again.code == 0
    assert again.summary["items"]["ok"] == 1 and len(records(out)) == count > 0
    moved = tmp_path / "moved.jsonl"
    shutil.copy(out, moved)
    assert len(records(moved)) == count


def test_ctrl_c_exits_130_and_rerun_completes(
    folder: Path, reference: list[dict], tmp_path: Path, cache_dir: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "e.jsonl"
    proc = _start_and_wait_for_first_record(folder, out, cache_dir)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    partial = records(out)
    assert max(Counter(r["id"] for r in partial).values()) == 1
    run = vtembed("ingest", str(folder), "--sink", f"jsonl:{out}")
    assert run.code == 0, run.text
    assert _ids(records(out)) == _ids(reference)
