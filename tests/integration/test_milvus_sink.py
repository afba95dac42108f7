"""The Milvus sink on real Milvus Lite (a `.db` folder in this process) and on a real Milvus
server on 127.0.0.1 (the Milvus 2.3 standalone of the PyPI package `milvus`, a subprocess; it has
no nullable fields, so it also covers placeholders): idempotent upserts, one model per collection
prefix, cosine search with filters, the CLI end to end, each on both where it applies."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import milvus_server
from tests import sink_contract as contract
from tests.sink_contract import rec
from vtembed.errors import UsageError
from vtembed.plugins.sinks.milvus import SECTION, MilvusSink
from vtembed.plugins.sinks.milvus_schema import features
from vtembed.settings import load_settings
from vtembed.sink import Sink
from vtembed.store_files import state_location

TOKEN = "tok-3f9a-never-printed"


def rows(sink: Sink) -> int:
    assert isinstance(sink, MilvusSink)
    return sink.rows()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real Milvus server, started once for this module (about 8 s)."""
    yield from milvus_server.for_tests(tmp_path_factory.mktemp("milvus-server"))


@pytest.fixture
def empty_server(server: str) -> str:
    milvus_server.drop_collections(server)
    return server


@pytest.fixture(params=["lite", pytest.param("server", marks=pytest.mark.slow)])
def target(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh Milvus Lite path, or the real server emptied; the lock and state a server target
    keeps under the cache folder go to this test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    if request.param == "lite":
        return str(tmp_path / "out" / "a.db")
    return str(request.getfixturevalue("empty_server"))


@pytest.mark.parametrize("dim", [8, 384])
def test_writes_are_idempotent_and_counted(target: str, dim: int) -> None:
    contract.check_idempotent_writes(MilvusSink, target, dim, rows)
    sink = MilvusSink(target, model_name="m", dim=dim)
    assert sink.collection == "embeddings_m"
    assert sink.describe() == f"milvus:{target}"
    b0 = rec("b", 0, dim)
    huge = dataclasses.replace(b0, id="x" * 32, media={**b0.media, "uri": "u" * 70_000})
    with pytest.raises(UsageError, match="media_uri is 70000 bytes"):
        sink.write([huge])
    assert sink.rows() == 3
    sink.close()
    if target.endswith(".db"):
        state = state_location(MilvusSink, target, None)
        assert state == Path(target).with_name("a.db.state.sqlite")


def test_delete_media_removes_only_that_item(target: str) -> None:
    contract.check_delete_media(MilvusSink, target, rows)


def test_search_scores_are_cosine_best_first_with_filters(target: str) -> None:
    contract.check_search(MilvusSink, target)


def test_missing_values_come_back_missing(target: str) -> None:
    """A record without title, duration, published, guid or embedded_from reads back without
    them: as nulls on Lite, through placeholders on the 2.3 server (which has no nulls)."""
    bare = rec("bare", 0, 8)
    bare = dataclasses.replace(
        bare, media={"id": "bare", "uri": "https://x/bare.mp3", "title": None, "source": "url"}
    )
    sink = MilvusSink(target, model_name="m", dim=8)
    assert sink.write([bare, rec("full", 0, 8)]) == 2
    assert sink.nullable is target.endswith(".db")
    (hit,) = sink.search(bare.embedding, 1, {"media_id": "bare"})
    assert {k: v for k, v in hit.items() if k != "score"} == {
        k: v for k, v in bare.to_json().items() if k != "embedding"
    }
    assert hit["media"] == {
        "id": "bare",
        "uri": "https://x/bare.mp3",
        "title": None,
        "source": "url",
    }
    assert "embedded_from" not in hit
    sink.close()
    again = MilvusSink(target, model_name="m", dim=8)  # read back from the stored schema
    assert again.nullable is sink.nullable
    assert again.search(bare.embedding, 1)[0]["media"]["title"] is None
    again.close()


@pytest.mark.parametrize(
    ("version", "nullable", "scalar_index"),
    [
        ("milvus_lite-3.2.2", True, "INVERTED"),
        ("v2.6.1", True, "INVERTED"),
        ("v2.5.0", True, "INVERTED"),
        ("v2.4.23", False, "INVERTED"),
        ("v2.3.5-lite", False, "Trie"),
        ("3.0.0-beta", True, "INVERTED"),
        ("dev-build", True, "INVERTED"),
    ],
)
def test_features_follow_the_server_version(
    version: str, nullable: bool, scalar_index: str
) -> None:
    assert features(version) == (nullable, scalar_index)


def test_default_lite_index_searches_exactly_and_counts_unflushed_writes(tmp_path: Path) -> None:
    """The default Lite index is IVF_FLAT probed whole: over 3 000 random vectors (128 lists) a
    partial probe misses true neighbours, an exact one finds the numpy top 10 with its scores.
    Writes are flushed only when read, so a count right after several writes sees them all."""
    import numpy as np

    from tests.record_factory import make_record

    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((3000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    records = [make_record(f"m{i % 3}", float(i), v.tolist()) for i, v in enumerate(vectors)]
    sink = MilvusSink(str(tmp_path / "a.db"), model_name="m", dim=64)
    try:
        assert sum(sink.write(records[i : i + 1000]) for i in range(0, 3000, 1000)) == 3000
        assert [sink.count(f"m{i}") for i in range(3)] == [1000, 1000, 1000]
        assert sink.write(records[:10]) == 0
        for query in rng.standard_normal((5, 64)).astype(np.float32):
            scores = vectors @ (query / np.linalg.norm(query))
            best = np.argsort(-scores)[:10]
            hits = sink.search(query.tolist(), 10)
            assert [h["id"] for h in hits] == [records[i].id for i in best]
            assert [h["score"] for h in hits] == pytest.approx(scores[best].tolist(), abs=1e-5)
    finally:
        sink.close()


def test_refuses_another_model_or_dimension(target: str) -> None:
    contract.check_refuses_another_model(MilvusSink, target)
    # Another model under another collection prefix is fine.
    other = load_settings({"milvus": {"collection_prefix": "m3"}}, None, [SECTION])
    MilvusSink(target, model_name="marengo3.0", dim=512, settings=other).close()


def test_refuses_a_collection_it_did_not_make(tmp_path: Path) -> None:
    from milvus_lite.server_manager import server_manager_instance
    from pymilvus import MilvusClient

    path = tmp_path / "a.db"
    client = MilvusClient(str(path))
    client.create_collection("embeddings_m", dimension=8)
    client.close()
    server_manager_instance.release_server(str(path))
    with pytest.raises(UsageError, match="collection embeddings_m was not made by vtembed"):
        MilvusSink(str(path), model_name="m", dim=8)


def test_stored_model_and_one_writer(tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "a.db"
    assert MilvusSink.stored_model(str(path)) is None
    assert not path.exists()  # asking does not create a database
    sink = contract.check_stored_model_and_one_writer(MilvusSink, str(path))
    assert sink.collection == "embeddings_Marengo_retrieval_2_7"
    # Milvus Lite keeps every other process out while this one has the database open.
    run = vtembed("search", "anything", "--sink", f"milvus:{path}", process=True)
    assert run.code == 2, run.text
    assert run.err.strip().splitlines() == [
        f"error: sink milvus:{path} is in use by another process (Milvus Lite opens a database "
        "in one process at a time): wait for it to finish, or use a Milvus server"
    ]
    sink.close()
    old = tmp_path / "old.db"
    old.write_bytes(b"milvus-lite 2 kept a file here")
    with pytest.raises(UsageError, match="is a file, not a Milvus Lite database folder"):
        MilvusSink.stored_model(str(old))


def test_collection_prefix_is_a_setting(tmp_path: Path) -> None:
    path = str(tmp_path / "a.db")
    settings = load_settings({"milvus": {"collection_prefix": "vt"}}, None, [SECTION])
    sink = MilvusSink(path, model_name="m", dim=8, settings=settings)
    sink.write([rec("a", 0)])
    sink.close()
    assert sink.collection == "vt_m"
    assert MilvusSink.stored_model(path, settings) == ("m", 8)
    assert MilvusSink.stored_model(path) is None  # the default prefix holds nothing here
    with pytest.raises(UsageError, match="collection_prefix"):
        load_settings({"milvus": {"collection_prefix": "no spaces"}}, None, [SECTION])


def test_server_uri_same_code_state_under_cache_dir(
    empty_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = empty_server
    monkeypatch.setenv("MILVUS_TOKEN", TOKEN)
    settings = load_settings({"cache_dir": str(tmp_path / "cache")}, None, [SECTION])
    token = settings.milvus.token  # type: ignore[attr-defined]
    assert token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())
    records = [rec("a", s, 16) for s in range(5)]
    sink = MilvusSink(server, model_name="m", dim=16, settings=settings)
    assert TOKEN not in repr(sink.config) and TOKEN not in repr(vars(sink))
    assert sink.write(records) == 5 and sink.write(records) == 0
    state = state_location(MilvusSink, server, settings)
    assert state.parent == tmp_path / "cache" / "stores"
    assert state.name.startswith("milvus-") and state.name.endswith(".state.sqlite")
    sink.close()
    assert MilvusSink.stored_model(server, settings) == ("m", 16)
    handle = MilvusSink.open_for_search(server, model_name="m", dim=16, settings=settings)
    assert handle.count("a") == 5
    assert handle.search(records[3].embedding, 1)[0]["id"] == records[3].id
    handle.close()
    # Another prefix is another collection, with its own state; credentials in the URI are
    # never shown.
    vt = load_settings(
        {"cache_dir": str(tmp_path / "cache"), "milvus": {"collection_prefix": "vt"}},
        None,
        [SECTION],
    )
    port = server.rsplit(":", 1)[1]
    other = MilvusSink(f"http://me:pw-secret@127.0.0.1:{port}", model_name="m", dim=16, settings=vt)
    assert state_location(MilvusSink, server, vt) != state and other.rows() == 0
    assert other.describe() == f"milvus:http://127.0.0.1:{port}"
    other.close()


def test_unreachable_server_is_one_line(tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    wav = tmp_path / "short.wav"
    wav.write_bytes(b"")  # the sink is opened (and fails) before any media is read
    env = {"MILVUS_TOKEN": TOKEN}
    runs = [
        vtembed("ingest", str(wav), "--sink", "milvus:http://127.0.0.1:9", env=env, timeout=120),
        vtembed("search", "hello", "--sink", "milvus:http://127.0.0.1:9", env=env, timeout=120),
    ]
    for run in runs:
        assert run.code == 2, run.text
        errors = [line for line in run.err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "Traceback" not in run.text, run.text
        assert errors[0].startswith("error: sink milvus:http://127.0.0.1:9: cannot connect")
        assert TOKEN not in run.text


@pytest.mark.slow
def test_ingest_twice_then_search(tmp_path: Path, tools: None, vtembed) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "archive.db"

    def stored_rows() -> int:
        assert MilvusSink.stored_model(str(db)) == ("all-MiniLM-L6-v2", 384)
        handle = MilvusSink.open_for_search(str(db), model_name="all-MiniLM-L6-v2", dim=384)
        try:
            return handle.rows()
        finally:
            handle.close()

    contract.check_ingest_twice_then_search(
        vtembed, tmp_path / "media", f"milvus:{db}", stored_rows
    )


def test_ingest_twice_then_search_on_a_server(
    empty_server: str, tmp_path: Path, tools: None, vtembed
) -> None:  # type: ignore[no-untyped-def]
    """The same CLI run on the server; search there needs no wait for the ingest to let go."""

    def stored_rows() -> int:
        assert MilvusSink.stored_model(empty_server) == ("all-MiniLM-L6-v2", 384)
        handle = MilvusSink.open_for_search(empty_server, model_name="all-MiniLM-L6-v2", dim=384)
        try:
            assert not handle.nullable  # the 2.3 server: placeholders, read back as missing
            return handle.rows()
        finally:
            handle.close()

    contract.check_ingest_twice_then_search(
        vtembed, tmp_path / "media", f"milvus:{empty_server}", stored_rows
    )
