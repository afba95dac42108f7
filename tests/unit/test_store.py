"""The host's store wrapper keeps each rule once for every sink: records stream in, a changed
item is switched over only when complete, a failed write is taken back out, a killed attempt's
leftovers go at the next switch, one writer, one model (even for a sink that cannot say)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pytest

from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord, MediaItem
from vtembed.plugins.sinks.jsonl import JsonlSink
from vtembed.plugins.sinks.milvus import SECTION, MilvusSink
from vtembed.settings import load_settings
from vtembed.sink import Sink
from vtembed.store import Store
from vtembed.store_files import state_location
from vtembed.testing.sink_rules import record

ROOT = Path(__file__).resolve().parents[2]
MODEL, DIM = "contract-model", 8


def item(fingerprint: str, media: str = "a") -> MediaItem:
    return MediaItem(media, f"file:///{media}", media, "local", fingerprint=fingerprint)


def version(fingerprint: str, starts: Sequence[int], media: str = "a") -> list[EmbeddingRecord]:
    return [record(media, float(s), s, fingerprint=fingerprint) for s in starts]


def jsonl_store(path: Path, model: str = MODEL, dim: int = DIM) -> Store:
    return Store.open(JsonlSink, str(path), model_name=model, dim=dim, records_per_write=1)


def stored_ids(path: Path) -> list[str]:
    import json

    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def test_records_stream_in_and_old_ones_go_only_at_the_switch(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    store = jsonl_store(path)
    try:
        v1, v2 = version("v1", [0, 1, 2]), version("v2", [0, 1, 2, 3])
        store.put(item("v1"), v1[:2])
        assert store.sink.count("a") == 2  # in the store before the item is complete
        store.put(item("v1"), v1[2:])
        assert store.complete(item("v1")) == (3, 3)
        assert store.is_done(item("v1"))
        # The file changed: its new records stream in beside the old ones ...
        store.put(item("v2"), v2[:2])
        assert sorted(stored_ids(path)) == sorted(r.id for r in v1 + v2[:2])
        assert not store.is_done(item("v1")), "an item being rewritten is not done"
        store.put(item("v2"), v2[2:])
        # ... and the old ones go only once all of them are stored.
        assert store.complete(item("v2")) == (4, 4)
        assert sorted(stored_ids(path)) == sorted(r.id for r in v2)
        assert store.is_done(item("v2")) and not store.is_done(item("v1"))
    finally:
        store.close()


def test_a_failed_write_leaves_the_last_complete_version(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    store = jsonl_store(path)
    try:
        v1 = version("v1", [0, 1])
        store.put(item("v1"), v1)
        store.complete(item("v1"))
        store.put(item("v2"), version("v2", [0, 1, 2]))
        store.abandon(item("v2"), "embedder failed")
        assert sorted(stored_ids(path)) == sorted(r.id for r in v1)
        # A new item that fails leaves nothing.
        store.put(item("n1", "b"), version("n1", [0, 1], "b"))
        store.abandon(item("n1", "b"), "embedder failed")
        assert store.sink.count("b") == 0
        rows = {row.media_id: row.status for row in store.manifest.rows()}
        assert rows == {"a": "failed", "b": "failed"}
    finally:
        store.close()


def test_a_killed_attempts_records_go_at_the_next_switch(tmp_path: Path) -> None:
    """A run killed mid-item stored some records (ids the rerun may not make again, if the
    transcript comes out differently); the rerun's switch-over removes them: exactly once."""
    path = tmp_path / "e.jsonl"
    killed = jsonl_store(path)
    killed.put(item("v1"), version("v1", [0, 1, 2, 5]))
    killed.close()  # no complete, no abandon: as a kill -9 leaves it
    rerun = jsonl_store(path)
    try:
        assert not rerun.is_done(item("v1"))
        again = version("v1", [0, 1, 2])
        rerun.put(item("v1"), again)
        rerun.complete(item("v1"))
        assert sorted(stored_ids(path)) == sorted(r.id for r in again)
    finally:
        rerun.close()


def test_ids_go_once_per_batch_and_once_per_store(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    store = jsonl_store(path)
    try:
        (a0,) = version("v1", [0])
        store.put(item("v1"), [a0, a0])
        store.put(item("v1"), [a0])
        assert store.complete(item("v1")) == (1, 1)
    finally:
        store.close()
    assert len(stored_ids(path)) == 1


def test_records_wait_for_a_full_write(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    store = Store.open(JsonlSink, str(path), model_name=MODEL, dim=DIM, records_per_write=3)
    try:
        v1 = version("v1", [0, 1, 2, 3, 4])
        store.put(item("v1"), v1[:2])
        assert store.sink.count("a") == 0
        store.put(item("v1"), v1[2:4])
        assert store.sink.count("a") == 4  # one write of the four waiting
        store.put(item("v1"), v1[4:])
        assert store.complete(item("v1")) == (5, 5)
        store.put(item("v2", "b"), version("v2", [0], "b"))
        store.abandon(item("v2", "b"), "failed before its first write")
        assert store.sink.count("b") == 0
    finally:
        store.close()


def test_one_writer_per_store_and_the_lock_goes_with_the_store(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    first = jsonl_store(path)
    with pytest.raises(UsageError, match=f"sink jsonl:{path} is in use by another vtembed run"):
        jsonl_store(path)
    first.close()
    jsonl_store(path).close()
    assert (tmp_path / "e.jsonl.lock").exists() and (tmp_path / "e.jsonl.state.sqlite").exists()


@pytest.fixture
def example_plugin(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "vtembed-example-plugin"))
    import vtembed_example_plugin

    return vtembed_example_plugin


def test_a_sink_that_cannot_name_its_model_still_holds_one(
    tmp_path: Path, example_plugin: ModuleType
) -> None:
    """The example CSV sink stores no vectors and cannot say which model it holds: the
    manifest remembers, so the host refuses another model or dimension for it."""
    csv_sink: type[Sink] = example_plugin.CsvSink
    target = str(tmp_path / "rows.csv")
    store = Store.open(csv_sink, target, model_name=MODEL, dim=DIM)
    store.put(item("v1"), version("v1", [0]))
    store.complete(item("v1"))
    store.close()
    for model, dim in (("other-model", DIM), (MODEL, 16)):
        with pytest.raises(UsageError, match=f"holds {MODEL} \\({DIM} dims\\), not {model}"):
            Store.open(csv_sink, target, model_name=model, dim=dim)
    # Emptied (its item pruned), the store may take another model.
    store = Store.open(csv_sink, target, model_name=MODEL, dim=DIM)
    store.sink.delete_media("a")
    store.close()
    Store.open(csv_sink, target, model_name="other-model", dim=16).close()


def test_a_manifest_from_before_it_kept_the_model_still_refuses_another(
    tmp_path: Path, example_plugin: ModuleType
) -> None:
    csv_sink: type[Sink] = example_plugin.CsvSink
    target = str(tmp_path / "rows.csv")
    store = Store.open(csv_sink, target, model_name=MODEL, dim=DIM)
    store.put(item("v1"), version("v1", [0]))
    store.complete(item("v1"))
    store.close()
    with sqlite3.connect(tmp_path / "rows.csv.state.sqlite") as db:
        db.execute("DROP TABLE store_model")  # as a manifest written before it existed
    with pytest.raises(UsageError, match=f"holds {MODEL}, not other-model"):
        Store.open(csv_sink, target, model_name="other-model", dim=DIM)


def test_a_remote_stores_files_are_in_the_cache_named_without_credentials(
    tmp_path: Path,
) -> None:
    settings = load_settings({"cache_dir": str(tmp_path / "cache")}, None, [SECTION])
    with_secret = state_location(MilvusSink, "http://me:pw-secret@127.0.0.1:19530", settings)
    plain = state_location(MilvusSink, "http://127.0.0.1:19530", settings)
    assert with_secret == plain, "the credentials choose another store"
    assert plain.parent == tmp_path / "cache" / "stores" and "secret" not in str(plain)
    assert plain.name.startswith("milvus-") and plain.name.endswith(".state.sqlite")
    lite = state_location(MilvusSink, str(tmp_path / "a.db"), settings)
    assert lite == tmp_path / "a.db.state.sqlite"


def test_the_example_csv_sink_recovers_what_a_kill_leaves(
    tmp_path: Path, example_plugin: ModuleType
) -> None:
    """A kill after rows were appended (the old SQLite index never heard of them, so a rerun
    appended them again), or in the middle of a row: the file is the truth, read at open."""
    csv_sink: type[Sink] = example_plugin.CsvSink
    target = tmp_path / "rows.csv"
    row = 'r1,a,file:///a,text,0.0,1.0,"hello, world"\r\n'
    target.write_text(row + row + 'r2,a,file:///a,text,1.0,2.0,"cut sh', encoding="utf-8")
    sink = csv_sink(str(target), model_name=MODEL, dim=DIM)
    try:
        assert sink.count("a") == 1
        assert target.read_bytes() == row.encode()
        assert csv_sink.media_counts(str(target)) == {"a": 1}
    finally:
        sink.close()
