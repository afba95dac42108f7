"""kill -9 mid-item and rerun: every record exactly once, on every sink, the third-party CSV one
included. Records stream to the sink while an item is embedded, so the kill lands after some of
an item's records are stored and before it is done; the rerun's switch-over must take out what
the killed attempt left, and store what it did not.

The kill waits for the host's manifest to hold its first record ids (the same signal for every
sink): at that moment a write is stored and, with two records per write, its item is not done.
A video's kill also waits for its first keyframe, so the pictures are cut off half-way too.
"""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import media_factory as mf
from tests.conftest import as_at_a_terminal, records

pytestmark = pytest.mark.slow  # runs Whisper

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "vtembed-example-plugin"
MODEL, DIM = "all-MiniLM-L6-v2", 384
ENV = {
    "VTEMBED_EMBED_BATCH_SIZE": "2",
    "VTEMBED_PIPELINE__RECORDS_PER_WRITE": "2",
    # Whisper's calls and the items side by side (the defaults on 2 cores, said outright).
    "VTEMBED_WHISPER__WORKERS": "2",
    "VTEMBED_PIPELINE__ITEMS_AT_ONCE": "2",
    "PYTHONPATH": str(EXAMPLE),
}


def _jsonl_ids(target: Path) -> list[str]:
    return [r["id"] for r in records(target)]


def _lancedb_ids(target: Path) -> list[str]:
    from vtembed.plugins.sinks.lancedb import LanceDbSink

    handle = LanceDbSink.open_for_search(str(target), model_name=MODEL, dim=DIM)
    try:
        return [] if handle.table is None else handle.table.to_arrow().column("id").to_pylist()
    finally:
        handle.close()


def _milvus_ids(target: Path) -> list[str]:
    from vtembed.plugins.sinks.milvus import MilvusSink
    from vtembed.plugins.sinks.milvus_schema import MAX_QUERY_ROWS

    handle = MilvusSink.open_for_search(str(target), model_name=MODEL, dim=DIM)
    try:
        if not handle.exists:
            return []
        rows = handle.client.query(
            handle.collection, filter='id != ""', output_fields=["id"], limit=MAX_QUERY_ROWS
        )
        return [row["id"] for row in rows]
    finally:
        handle.close()


def _csv_ids(target: Path) -> list[str]:
    if not target.exists():
        return []
    with target.open(encoding="utf-8") as f:
        return [row[0] for row in csv.reader(f)]


SINKS: dict[str, tuple[str, Callable[[Path], list[str]]]] = {
    "jsonl": ("e.jsonl", _jsonl_ids),
    "lancedb": ("e.lance", _lancedb_ids),
    "milvus": ("e.db", _milvus_ids),
    "csv": ("e.csv", _csv_ids),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Path:
    root = tmp_path_factory.mktemp("kill") / "media"
    texts = [mf.SPEECH_TEXT, mf.LONG_PARAGRAPHS[0], mf.OTHER_TEXT, mf.LONG_PARAGRAPHS[2]]
    for i, text in enumerate(texts):
        mf.speech_media(root, f"clip {i}", "wav", text=text)
    return root


@pytest.fixture(scope="module")
def reference(folder: Path, tmp_path_factory: pytest.TempPathFactory, vtembed) -> list[str]:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("ref") / "e.jsonl"
    run = vtembed("ingest", str(folder), "--sink", f"jsonl:{out}", env=ENV)
    assert run.code == 0, run.text
    return sorted(_jsonl_ids(out))


def _stored_ids_in_manifest(state: Path) -> int:
    if not state.exists():
        return 0
    try:
        with sqlite3.connect(f"{state.as_uri()}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT COUNT(*) FROM record_ids").fetchone()[0])
    except sqlite3.Error:  # not made yet
        return 0


def _kill_after_first_batch(spec: str, folder: Path, state: Path, cache_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")}
    env.update(ENV, VTEMBED_CACHE_DIR=str(cache_dir), VTEMBED_PLUGINS="vtembed_example_plugin")
    argv = [sys.executable, "-m", "vtembed", "ingest", str(folder), "--sink", spec]
    proc = subprocess.Popen(
        [*argv, "--progress", "plain"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_at_a_terminal,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if _stored_ids_in_manifest(state) > 0:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()


@pytest.mark.parametrize("scheme", list(SINKS))
def test_kill_9_mid_item_then_rerun_stores_each_record_once(
    scheme: str, folder: Path, reference: list[str], tmp_path: Path, cache_dir: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    name, stored_ids = SINKS[scheme]
    target = tmp_path / name
    spec = f"{scheme}:{target}"
    state = tmp_path / f"{name}.state.sqlite"
    _kill_after_first_batch(spec, folder, state, cache_dir)
    partial = stored_ids(target)
    assert 0 < len(partial) < len(reference), (len(partial), len(reference))
    env = {**ENV, "VTEMBED_PLUGINS": "vtembed_example_plugin"}
    run = vtembed("ingest", str(folder), "--sink", spec, env=env, process=True)
    assert run.code == 0, run.text
    final = stored_ids(target)
    assert max(Counter(final).values()) == 1, "a record is stored twice"
    assert sorted(final) == reference
    again = vtembed("ingest", str(folder), "--sink", spec, env=env, process=True)
    assert again.code == 0 and again.summary["records_written"] == 0, again.text
    assert sorted(stored_ids(target)) == reference


@pytest.fixture(scope="module")
def video_folder(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Path:
    root = tmp_path_factory.mktemp("kill-video") / "media"
    mf.shots_video(root, "slides", size="1280x720", speech=mf.LONG_PARAGRAPHS[1])
    mf.speech_media(root, "talk", "wav", text=mf.OTHER_TEXT)
    return root


def test_kill_9_while_keyframes_are_written_then_rerun_stores_every_modality_once(
    video_folder: Path, tmp_path: Path, cache_dir: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    """The kill lands once the video's first thumbnail is written and some records are stored:
    the rerun stores each text, audio and image record once, and keyframes once per shot."""
    reference_out = tmp_path / "ref" / "e.jsonl"
    run = vtembed("ingest", str(video_folder), "--sink", f"jsonl:{reference_out}", env=ENV)
    assert run.code == 0, run.text
    reference = sorted(_jsonl_ids(reference_out))
    modalities = Counter(r["modality"] for r in records(reference_out))
    assert modalities["image"] >= 3 and modalities["text"] and modalities["audio"], modalities

    target = tmp_path / "e.lance"
    frames = tmp_path / "e.lance.frames"
    state = tmp_path / "e.lance.state.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")}
    env.update(ENV, VTEMBED_CACHE_DIR=str(cache_dir))
    argv = [sys.executable, "-m", "vtembed", "ingest", str(video_folder), "--sink"]
    proc = subprocess.Popen(
        [*argv, f"lancedb:{target}", "--progress", "plain"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_at_a_terminal,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if any(frames.glob("*/*.thumb.jpg")) and _stored_ids_in_manifest(state) > 0:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert 0 < len(_lancedb_ids(target)) < len(reference)

    rerun = vtembed("ingest", str(video_folder), "--sink", f"lancedb:{target}", process=True)
    assert rerun.code == 0, rerun.text
    final = _lancedb_ids(target)
    assert max(Counter(final).values()) == 1, "a record is stored twice"
    assert sorted(final) == reference
    shots = {p.name for p in frames.glob("*/*.thumb.jpg")}
    reference_shots = {
        p.name for p in (reference_out.parent / "e.jsonl.frames").glob("*/*.thumb.jpg")
    }
    assert shots == reference_shots
    # The kept assets: one transcript per item, a shot list for the video, each whole (it
    # reads back) and no temporary file a kill left behind.
    from vtembed.assets import AssetStore

    kept, reference_kept = (
        AssetStore(folder) for folder in (tmp_path / "e.lance.assets", reference_out.parent
                                          / "e.jsonl.assets")
    )  # fmt: skip
    assert kept.media_ids() == reference_kept.media_ids() and len(kept.media_ids()) == 2
    for media_id in kept.media_ids():
        transcript, expected = kept.transcript(media_id), reference_kept.transcript(media_id)
        assert transcript is not None and expected is not None
        assert transcript.transcript().text == expected.transcript().text
    assert sum(kept.shots(m) is not None for m in kept.media_ids()) == 1
    assert not list((tmp_path / "e.lance.assets").glob("*/.*")), "a half-written asset is left"
