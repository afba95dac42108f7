"""`ingest --dry-run` plans against the store as it is and leaves it as it was: it creates no
store, writes no records and records nothing in the resume manifest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests import media_factory as mf
from tests.conftest import records
from tests.record_factory import make_record
from vtembed.plugins.sinks.lancedb import LanceDbSink

pytestmark = pytest.mark.slow  # runs Whisper or starts servers


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("store", ["jsonl:out/x.jsonl", "milvus:out/a.db", "lancedb:out/a.lance"])
def test_a_dry_run_creates_no_store(store: str, tmp_path: Path, tools: None, vtembed) -> None:  # type: ignore[no-untyped-def]
    """Opening a sink for writing creates its store (a Lite folder, a LanceDB directory, a
    JSONL lock file): a dry run into a path that holds nothing must leave nothing there."""
    mf.speech_media(tmp_path / "in", "a talk", "wav", text=mf.DEMO_TEXT)
    scheme, _, target = store.partition(":")
    run = vtembed(
        "ingest", str(tmp_path / "in"), "--dry-run", "--sink", f"{scheme}:{tmp_path / target}"
    )
    assert run.code == 0, run.text
    assert run.summary["items"]["ok"] == 1 and run.summary["requests"]["text"] >= 1
    assert not (tmp_path / "out").exists(), sorted(p.name for p in (tmp_path / "out").iterdir())


def test_a_dry_run_counts_what_is_done_and_records_nothing(
    tmp_path: Path, tools: None, vtembed
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "in"
    mf.speech_media(folder, "first talk", "wav", text=mf.DEMO_TEXT)
    out = tmp_path / "out.jsonl"
    sink = f"jsonl:{out}"
    assert vtembed("ingest", str(folder), "--sink", sink).code == 0
    state = out.with_name(out.name + ".state.sqlite")
    written, manifest = records(out), _digest(state)
    mf.speech_media(folder, "second talk", "wav", text="A second talk about the sea.")
    broken = mf.not_media(folder / "broken.wav")

    run = vtembed("ingest", str(folder), "--dry-run", "--sink", sink)
    assert run.code == 1, run.text
    assert run.summary["items"] == {"ok": 1, "failed": 1, "skipped": 0, "done_before": 1}
    assert str(broken) in run.err
    assert records(out) == written and _digest(state) == manifest

    # The real run after it still finds the new talk to do, and records the broken file.
    real = vtembed("ingest", str(folder), "--sink", sink)
    assert real.summary["items"] == {"ok": 1, "failed": 1, "skipped": 0, "done_before": 1}
    assert _digest(state) != manifest and len(records(out)) > len(written)


def test_a_dry_run_refuses_a_store_of_another_model(tmp_path: Path, tools: None, vtembed) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "in"
    mf.speech_media(folder, "a talk", "wav", text=mf.DEMO_TEXT)
    lance = tmp_path / "a.lance"
    marengo = LanceDbSink(str(lance), model_name="Marengo-retrieval-2.7", dim=1024)
    try:
        marengo.write([make_record("old", 0, [1.0] * 1024, model="Marengo-retrieval-2.7")])
    finally:
        marengo.close()
    run = vtembed("ingest", str(folder), "--dry-run", "--sink", f"lancedb:{lance}")
    assert run.code == 2 and "Traceback" not in run.text, run.text
    assert "holds Marengo-retrieval-2.7 (1024 dims), not all-MiniLM-L6-v2 (384 dims)" in run.err
