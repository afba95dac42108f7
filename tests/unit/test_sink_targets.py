"""A sink target of the wrong kind (a folder for a file store, a store's own lock or state file,
a path under a file) is one usage error before any work, and asking creates nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from vtembed.dry_run import NothingStored
from vtembed.errors import UsageError
from vtembed.plugins.sinks.jsonl import JsonlSink
from vtembed.plugins.sinks.lancedb import LanceDbSink
from vtembed.plugins.sinks.milvus import MilvusSink
from vtembed.sink import Sink


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _refused(sink_cls: type[Sink], target: str, folder: Path) -> str:
    """The one-line message for target; the folder is left exactly as it was."""
    before = _tree(folder)
    with pytest.raises(UsageError) as caught:
        sink_cls.check_target(target)
    message = str(caught.value)
    assert "\n" not in message and f"sink {sink_cls.scheme}:{target}" in message, message
    assert _tree(folder) == before
    return message


def _accepted(sink_cls: type[Sink], target: str, folder: Path) -> None:
    before = _tree(folder)
    sink_cls.check_target(target)
    assert _tree(folder) == before


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder, holding a folder, a file, and a JSONL store with its lock."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "notes.txt").write_text("not a folder")
    (tmp_path / "x.jsonl").write_text("")
    (tmp_path / "x.jsonl.lock").write_text("")
    return tmp_path


def test_jsonl_refuses_a_folder(work: Path) -> None:
    assert _refused(JsonlSink, "out/", work) == (
        "sink jsonl:out/: out is a folder; give a file path such as out/embeddings.jsonl"
    )
    assert _refused(JsonlSink, "out", work) == (
        "sink jsonl:out: out is a folder; give a file path such as out/embeddings.jsonl"
    )
    assert _refused(JsonlSink, "new/", work) == (
        "sink jsonl:new/: new names a folder; give a file path such as new/embeddings.jsonl"
    )
    assert not (work / "new").exists()


# Each local store with a name its own lock and state files would have beside it.
STORES = [(JsonlSink, "x.jsonl"), (LanceDbSink, "db"), (MilvusSink, "a.db")]
SIDECARS = [(".state.sqlite", "resume state"), (".lock", "lock file")]


@pytest.mark.parametrize(("sink_cls", "store"), STORES)
@pytest.mark.parametrize(("suffix", "what"), SIDECARS)
def test_a_local_store_refuses_a_stores_own_file(
    work: Path, sink_cls: type[Sink], store: str, suffix: str, what: str
) -> None:
    scheme = sink_cls.scheme
    for owner in (store, f"out/{store}"):  # x.jsonl is there, out/x.jsonl is not: both refused
        assert _refused(sink_cls, owner + suffix, work) == (
            f"sink {scheme}:{owner}{suffix}: that is the {what} of the store {owner}, not a "
            f"store; give the store's own path ({scheme}:{owner})"
        )


def test_jsonl_refuses_its_model_file(work: Path) -> None:
    assert "the model file of the store x.jsonl" in _refused(JsonlSink, "x.jsonl.meta.json", work)


@pytest.mark.parametrize(("sink_cls", "store"), STORES)
def test_a_local_store_refuses_a_path_under_a_file(
    work: Path, sink_cls: type[Sink], store: str
) -> None:
    target = f"notes.txt/deeper/{store}"
    assert _refused(sink_cls, target, work) == (
        f"sink {sink_cls.scheme}:{target}: notes.txt is a file, not a folder"
    )


def test_jsonl_accepts_a_new_or_existing_file(work: Path) -> None:
    for target in ("x.jsonl", "out/e.jsonl", "new/deeper/e.jsonl", str(work / "x.jsonl")):
        _accepted(JsonlSink, target, work)


def test_lancedb_refuses_a_file(work: Path) -> None:
    assert _refused(LanceDbSink, "notes.txt", work) == (
        "sink lancedb:notes.txt: notes.txt is a file, not a database folder"
    )


def test_lancedb_accepts_a_folder_whatever_else_it_holds(work: Path) -> None:
    (work / "out" / "readme.txt").write_text("LanceDB keeps its tables beside other files")
    for target in ("out", "out/", "new/db", str(work / "out")):
        _accepted(LanceDbSink, target, work)


def test_milvus_lite_refuses_a_file_and_a_foreign_folder(work: Path) -> None:
    (work / "old.db").write_bytes(b"milvus-lite 2 kept a file here")
    (work / "photos.db").mkdir()
    (work / "photos.db" / "cat.jpg").write_bytes(b"")
    assert _refused(MilvusSink, "old.db", work) == (
        f"sink milvus:old.db: {work / 'old.db'} is a file, not a Milvus Lite database folder "
        "(files made by milvus-lite 2 cannot be opened by milvus-lite 3: ingest into a new path)"
    )
    assert _refused(MilvusSink, "photos.db", work) == (
        f"sink milvus:photos.db: {work / 'photos.db'} is a folder that is not a Milvus Lite "
        "database (it holds other files): give a new path"
    )
    assert "ending in .db" in _refused(MilvusSink, "archive", work)


def test_milvus_accepts_a_lite_database_an_empty_folder_and_any_server(work: Path) -> None:
    lite = work / "a.db"  # the layout milvus-lite 3 makes (tests/integration opens real ones)
    (lite / "collections").mkdir(parents=True)
    (lite / "LOCK").write_bytes(b"")
    (work / "empty.db").mkdir()
    for target in ("a.db", "empty.db", "new.db", "out/new.db"):
        _accepted(MilvusSink, target, work)
    for uri in ("http://localhost:19530", "https://user:pw@milvus.example:443", "tcp://h:1"):
        _accepted(MilvusSink, uri, work)


def test_a_sink_built_directly_refuses_before_making_its_lock(work: Path) -> None:
    (work / "photos.db").mkdir()
    (work / "photos.db" / "cat.jpg").write_bytes(b"")
    before = _tree(work)
    with pytest.raises(UsageError, match="out is a folder"):
        JsonlSink("out", model_name="m", dim=3)
    with pytest.raises(UsageError, match="is a file, not a database folder"):
        LanceDbSink("notes.txt", model_name="m", dim=3)
    with pytest.raises(UsageError, match="not a Milvus Lite database"):
        MilvusSink("photos.db", model_name="m", dim=3)
    assert _tree(work) == before  # no out.lock, notes.txt.lock, photos.db.lock, Lite files


def test_by_default_every_target_may_do(work: Path) -> None:
    # The dry run's stand-in sink keeps the default check, as a third-party sink would.
    for target in ("out", "notes.txt", "x.jsonl.lock", ""):
        _accepted(NothingStored, target, work)
    assert NothingStored("jsonl", "out", model_name="m", dim=3).target == "out"
