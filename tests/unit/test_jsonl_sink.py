"""The JSONL sink: idempotent, never torn, one model per file, one writer at a time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.record_factory import make_record
from vtembed.errors import MediaError, UsageError
from vtembed.manifest import Manifest
from vtembed.models import EmbeddingRecord, MediaItem
from vtembed.plugins.sinks.jsonl import JsonlSink
from vtembed.store import Store
from vtembed.store_files import state_location


def rec(media: str, start: float, model: str = "m", dim: int = 3) -> EmbeddingRecord:
    return make_record(media, start, [0.1] * dim, model=model)


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_writes_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "out" / "e.jsonl"
    sink = JsonlSink(str(path), model_name="m", dim=3)
    assert sink.write([rec("a", 0), rec("a", 1)]) == 2
    assert sink.write([rec("a", 1), rec("b", 0)]) == 1
    sink.close()
    again = JsonlSink(str(path), model_name="m", dim=3)
    assert again.write([rec("a", 0)]) == 0
    assert again.count("a") == 2 and again.count("b") == 1
    assert len(lines(path)) == 3
    assert lines(path)[0]["media"]["id"] == "a"


def test_torn_last_line_is_cut_on_open(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    sink = JsonlSink(str(path), model_name="m", dim=3)
    sink.write([rec("a", 0), rec("a", 1)])
    sink.close()
    whole = path.read_bytes()
    path.write_bytes(whole + whole[: len(whole) // 3])  # a kill in the middle of a write
    again = JsonlSink(str(path), model_name="m", dim=3)
    assert path.read_bytes() == whole
    assert again.count("a") == 2


def test_delete_media_removes_only_that_item(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    sink = JsonlSink(str(path), model_name="m", dim=3)
    sink.write([rec("a", 0), rec("b", 0), rec("a", 1)])
    assert sink.delete_media("a") == 2
    assert [r["media"]["id"] for r in lines(path)] == ["b"]
    assert sink.count("a") == 0
    assert sink.write([rec("a", 0)]) == 1


def test_refuses_another_model_or_dimension(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    sink = JsonlSink(str(path), model_name="m", dim=3)
    sink.write([rec("a", 0)])
    sink.close()
    with pytest.raises(UsageError, match=r"holds m \(3 dims\)"):
        JsonlSink(str(path), model_name="other", dim=3)
    path.with_name("e.jsonl.meta.json").unlink()  # the records themselves still say which model
    with pytest.raises(UsageError, match="holds m"):
        JsonlSink(str(path), model_name="m", dim=4)


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    first = Store.open(JsonlSink, str(path), model_name="m", dim=3)
    with pytest.raises(UsageError, match="in use"):
        Store.open(JsonlSink, str(path), model_name="m", dim=3)
    first.close()
    Store.open(JsonlSink, str(path), model_name="m", dim=3).close()


def test_state_trusts_the_sink_not_its_memory(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    item = MediaItem(id="a", uri="file:///a", title="a", source="local", fingerprint="1:1")
    sink = JsonlSink(str(path), model_name="m", dim=3)
    state = Manifest(state_location(JsonlSink, str(path), None), "m")
    sink.write([rec("a", 0), rec("a", 1)])
    state.mark_done(item, 2)
    assert state.is_done(item, sink)
    changed = MediaItem(id="a", uri="file:///a", title="a", source="local", fingerprint="2:2")
    assert not state.is_done(changed, sink)
    sink.close()
    path.unlink()  # the records are gone: the state must not claim them
    reopened = JsonlSink(str(path), model_name="m", dim=3)
    assert not state.is_done(item, reopened)
    state.mark_failed(item, "boom")
    assert not state.is_done(item, reopened)


def test_float32_vectors_are_written_short_and_read_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    rng = np.random.default_rng(3)
    narrow = rng.standard_normal(384).astype(np.float32)
    wide = [0.1, 1 / 3, -2.5e-300]  # float64 values no float32 holds
    sink = JsonlSink(str(path), model_name="m", dim=384)
    sink.write([make_record("a", 0, narrow.tolist())])
    sink.close()
    line = path.read_text()
    assert np.array_equal(np.asarray(json.loads(line)["embedding"], dtype=np.float32), narrow)
    digits = [len(x.strip("-").replace("0.", "", 1)) for x in line.split("[")[1].split(",")]
    assert max(digits) <= 12 < len(repr(float(narrow[0])))  # float32's digits, not float64's
    other = tmp_path / "wide.jsonl"
    sink = JsonlSink(str(other), model_name="m", dim=3)
    sink.write([make_record("b", 0, wide)])
    sink.close()
    assert lines(other)[0]["embedding"] == wide


def test_a_vector_with_nan_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    sink = JsonlSink(str(path), model_name="m", dim=2)
    bad = make_record("a", 1, [0.5, float("nan")])
    with pytest.raises(MediaError, match=f"record {bad.id}: its embedding holds NaN"):
        sink.write([make_record("a", 0, [0.5, 0.5]), bad])
    assert not path.exists() and sink.count("a") == 0
