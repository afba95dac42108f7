"""Where a record's words came from (`transcript_source`), whether its times are estimates
(`times_interpolated`) and the media's language (`media.language`), stored by every built-in
sink and given back in hits, on real JSONL files, LanceDB and Milvus Lite; and stores made before
those fields existed (built here with the schema of that time) still open, take writes and search.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from tests import milvus_server
from tests.sink_contract import rec
from vtembed.models import EmbeddingRecord
from vtembed.plugins.sinks.flat_record import from_row, to_row
from vtembed.plugins.sinks.jsonl import JsonlSink
from vtembed.plugins.sinks.lancedb import LanceDbSink
from vtembed.plugins.sinks.milvus import MilvusSink
from vtembed.sink import Sink

DIM = 8


def captioned(media: str = "cap", start: float = 0.0) -> EmbeddingRecord:
    """A text record cut from a caption cue of a Spanish item."""
    base = rec(media, start, DIM)
    return dataclasses.replace(
        base,
        media={**base.media, "language": "es"},
        transcript_source="sidecar",
        times_interpolated=True,
    )


def whispered(media: str = "wh", start: float = 0.0) -> EmbeddingRecord:
    """Whisper's words, times as Whisper gave them, no language known."""
    return dataclasses.replace(rec(media, start, DIM), transcript_source="whisper")


def as_hit(record: EmbeddingRecord) -> dict[str, object]:
    return {k: v for k, v in record.to_json().items() if k != "embedding"}


def without_score(hit: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in hit.items() if k != "score"}


SINKS = [(JsonlSink, "a.jsonl"), (LanceDbSink, "a.lance"), (MilvusSink, "a.db")]


@pytest.mark.parametrize(("sink_cls", "name"), SINKS, ids=["jsonl", "lancedb", "milvus"])
def test_hits_carry_the_fields_exactly_as_the_jsonl_record(
    sink_cls: type[Sink], name: str, tmp_path: Path
) -> None:
    records = [captioned(), whispered(), rec("plain", 0, DIM)]
    sink = sink_cls(str(tmp_path / name), model_name="m", dim=DIM)
    try:
        assert sink.write(records) == 3
    finally:
        sink.close()
    handle = sink_cls.open_for_search(str(tmp_path / name), model_name="m", dim=DIM)
    try:
        for record in records:
            (hit,) = handle.search(record.embedding, 1, {"media_id": record.media["id"]})
            assert without_score(hit) == as_hit(record)
        (words,) = handle.text_search("words", 3, {"media_id": "cap"})
    finally:
        handle.close()
    assert words["transcript_source"] == "sidecar" and words["times_interpolated"] is True
    assert words["media"]["language"] == "es"


def test_a_row_leaves_out_what_it_does_not_hold() -> None:
    plain = rec("plain", 0, DIM)
    row = to_row(plain)
    assert (row["media_language"], row["transcript_source"], row["times_interpolated"]) == (
        None,
        None,
        False,
    )
    assert from_row(row) == as_hit(plain)
    old = {k: v for k, v in row.items() if k not in ("media_language", "transcript_source")}
    del old["times_interpolated"]
    assert from_row(old) == as_hit(plain)  # a row of a store made before the columns
    assert from_row(to_row(captioned()))["times_interpolated"] is True


OLD_LANCEDB_COLUMNS = [
    ("id", pa.string()),
    ("media_id", pa.string()),
    ("media_uri", pa.string()),
    ("media_title", pa.string()),
    ("media_source", pa.string()),
    ("media_duration_sec", pa.float64()),
    ("media_published", pa.string()),
    ("media_guid", pa.string()),
    ("modality", pa.string()),
    ("start_sec", pa.float64()),
    ("end_sec", pa.float64()),
    ("text", pa.string()),
    ("tokens", pa.int64()),
    ("embedded_from", pa.string()),
    ("model_name", pa.string()),
    ("dim", pa.int64()),
]
"""The record table's columns before the provenance columns (lancedb_tables.record_schema)."""


def old_lancedb(path: Path, records: list[EmbeddingRecord]) -> None:
    """A database as the LanceDB sink made it before: old columns, its meta table, a text index."""
    import lancedb
    from lancedb.index import FTS

    schema = pa.schema([*OLD_LANCEDB_COLUMNS, ("vector", pa.list_(pa.float32(), DIM))])
    rows = []
    for record in records:
        row = to_row(record)
        rows.append({name: row[name] for name in schema.names})
    db = lancedb.connect(str(path))
    table = db.create_table("embeddings_m", data=pa.Table.from_pylist(rows, schema=schema))
    table.create_index("text", config=FTS(), replace=True)
    meta = [{"model_name": "m", "dim": DIM, "table_name": "embeddings_m"}]
    db.create_table("vtembed_meta", data=meta)


def test_an_old_lancedb_table_is_searched_as_it_is_and_upgraded_by_a_writer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.lance"
    before, cap = rec("before", 0, DIM), captioned()
    old_lancedb(path, [before])
    reader = LanceDbSink.open_for_search(str(path), model_name="m", dim=DIM)
    assert "transcript_source" not in reader.table.schema.names  # reading changes nothing
    (hit,) = reader.search(before.embedding, 1)
    assert without_score(hit) == as_hit(before)
    assert without_score(reader.text_search("words", 1)[0]) == as_hit(before)
    reader.close()

    writer = LanceDbSink(str(path), model_name="m", dim=DIM)
    names = writer.table.schema.names
    assert {"media_language", "transcript_source", "times_interpolated"} <= set(names)
    assert writer.write([cap, before]) == 1
    writer.close()

    after = LanceDbSink.open_for_search(str(path), model_name="m", dim=DIM)
    try:
        (old_hit,) = after.search(before.embedding, 1, {"media_id": "before"})
        (new_hit,) = after.search(cap.embedding, 1)
        fts = {h["id"]: h for h in after.text_search("words", 5)}
    finally:
        after.close()
    assert without_score(old_hit) == as_hit(before)  # its nulls read as absent
    assert without_score(new_hit) == as_hit(cap)
    assert without_score(fts[cap.id]) == as_hit(cap)
    assert LanceDbSink(str(path), model_name="m", dim=DIM).count("before") == 1  # opens again


def old_milvus_lite(path: Path, records: list[EmbeddingRecord]) -> None:
    """A Milvus Lite collection with the fields the sink made before the provenance fields."""
    from milvus_lite.server_manager import server_manager_instance
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    varchar = {
        "id": 64, "media_id": 4096, "media_uri": 65535, "media_title": 4096, "media_source": 256,
        "media_published": 64, "media_guid": 4096, "modality": 16, "text": 65535,
        "embedded_from": 64, "model_name": 256,
    }  # fmt: skip
    nullable = {"media_uri", "media_title", "media_source", "media_duration_sec"}
    nullable |= {"media_published", "media_guid", "embedded_from"}
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    for name, limit in varchar.items():
        extra = {"enable_analyzer": True} if name == "text" else {}
        schema.add_field(
            name, DataType.VARCHAR, max_length=limit, is_primary=name == "id",
            nullable=name in nullable, **extra,
        )  # fmt: skip
    for name in ("media_duration_sec", "start_sec", "end_sec"):
        schema.add_field(name, DataType.DOUBLE, nullable=name in nullable)
    for name in ("tokens", "dim"):
        schema.add_field(name, DataType.INT64)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    schema.add_field("text_sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="text_bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["text_sparse"],
        )
    )
    params = MilvusClient.prepare_index_params()
    params.add_index(field_name="vector", metric_type="COSINE", index_type="IVF_FLAT")
    params.add_index(field_name="media_id", index_type="INVERTED")
    params.add_index(
        field_name="text_sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25"
    )
    client = MilvusClient(str(path))
    client.create_collection(
        "embeddings_m",
        schema=schema,
        index_params=params,
        properties={"vtembed.model_name": "m", "vtembed.dim": str(DIM)},
    )
    fields = {*varchar, "media_duration_sec", "start_sec", "end_sec", "tokens", "dim", "vector"}
    client.insert(
        "embeddings_m", [{k: v for k, v in to_row(r).items() if k in fields} for r in records]
    )
    client.flush("embeddings_m")
    client.close()
    server_manager_instance.release_server(str(path))


def test_an_old_milvus_collection_takes_writes_without_the_fields_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.db"
    before, cap = rec("before", 0, DIM), captioned()
    old_milvus_lite(path, [before])
    reader = MilvusSink.open_for_search(str(path), model_name="m", dim=DIM)
    try:
        (hit,) = reader.search(before.embedding, 1)
        assert without_score(hit) == as_hit(before)
    finally:
        reader.close()

    writer = MilvusSink(str(path), model_name="m", dim=DIM)
    with caplog.at_level(logging.WARNING, logger="vtembed.plugins.sinks.milvus"):
        assert writer.write([cap]) == 1
        assert writer.write([captioned("cap", 1.0), before]) == 1
    writer.close()
    notes = [r.getMessage() for r in caplog.records if r.name == "vtembed.plugins.sinks.milvus"]
    assert len(notes) == 1, notes
    assert "made without media_language, transcript_source, times_interpolated" in notes[0]
    assert "new collection" in notes[0]

    again = MilvusSink.open_for_search(str(path), model_name="m", dim=DIM)
    try:
        (new_hit,) = again.search(cap.embedding, 1)
        (old_hit,) = again.search(before.embedding, 1, {"media_id": "before"})
        fts = again.text_search("words", 5, {"media_id": "cap"})
    finally:
        again.close()
    plain_cap = dataclasses.replace(cap, transcript_source=None, times_interpolated=False)
    plain_cap = dataclasses.replace(
        plain_cap, media={k: v for k, v in plain_cap.media.items() if k != "language"}
    )
    assert without_score(new_hit) == as_hit(plain_cap)  # stored without what it cannot hold
    assert without_score(old_hit) == as_hit(before)
    assert len(fts) == 2 and all("transcript_source" not in h for h in fts)


def test_an_old_milvus_collection_with_no_provenance_to_drop_is_quiet(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.db"
    old_milvus_lite(path, [])
    writer = MilvusSink(str(path), model_name="m", dim=DIM)
    with caplog.at_level(logging.WARNING, logger="vtembed.plugins.sinks.milvus"):
        assert writer.write([rec("plain", 0, DIM)]) == 1
    writer.close()
    assert not [r for r in caplog.records if r.name == "vtembed.plugins.sinks.milvus"]


@pytest.mark.parametrize(("sink_cls", "name"), SINKS, ids=["jsonl", "lancedb", "milvus"])
def test_api_search_hits_say_where_the_words_came_from(
    sink_cls: type[Sink], name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through `vtembed.Vtembed().search` (full-text mode: no query embedding needed), grouped
    and ungrouped hits, typed and as JSON."""
    import vtembed

    monkeypatch.setenv("VTEMBED_CACHE_DIR", str(tmp_path / "cache"))
    model, dim = "all-MiniLM-L6-v2", 384
    told = dataclasses.replace(
        rec("cap", 0, dim, model=model),
        media={**rec("cap", 0, dim).media, "language": "es"},
        transcript_source="feed",
        times_interpolated=True,
        text="the lighthouse keeper spoke",
    )
    plain = dataclasses.replace(rec("plain", 0, dim, model=model), text="the lighthouse stood")
    target = str(tmp_path / name)
    sink = sink_cls(target, model_name=model, dim=dim)
    try:
        sink.write([told, plain])
    finally:
        sink.close()
    app = vtembed.Vtembed()
    for group in (False, True):
        found = app.search(
            "lighthouse", sink=f"{sink_cls.scheme}:{target}", mode="text", group=group
        )
        hits = {h.media_id: h for h in found.hits}
        assert set(hits) == {"cap", "plain"}
        cap, bare = hits["cap"], hits["plain"]
        assert (cap.transcript_source, cap.times_interpolated, cap.language) == ("feed", True, "es")
        assert (bare.transcript_source, bare.times_interpolated, bare.language) == (
            None,
            False,
            None,
        )
        shown = cap.to_json()
        assert shown["transcript_source"] == "feed" and shown["times_interpolated"] is True
        assert shown["media"]["language"] == "es"
        assert not {"transcript_source", "times_interpolated"} & set(bare.to_json())
        assert "language" not in bare.to_json()["media"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Milvus 2.3 server of the PyPI package `milvus` (no nullable fields: placeholders)."""
    yield from milvus_server.for_tests(tmp_path_factory.mktemp("milvus-server"))


@pytest.mark.slow
def test_a_server_without_nulls_keeps_the_fields_through_placeholders(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    milvus_server.drop_collections(server)
    records = [captioned(), whispered(), rec("plain", 0, DIM)]
    sink = MilvusSink(server, model_name="m", dim=DIM)
    try:
        assert sink.write(records) == 3
        assert not sink.nullable
        raw = sink.client.query(
            sink.collection,
            filter='media_id == "plain"',
            output_fields=["*"],
            limit=1,
            consistency_level="Strong",
        )
        assert (raw[0]["media_language"], raw[0]["transcript_source"]) == ("", "")
        assert raw[0]["times_interpolated"] is False
    finally:
        sink.close()
    handle = MilvusSink.open_for_search(server, model_name="m", dim=DIM)
    try:
        for record in records:
            (hit,) = handle.search(record.embedding, 1, {"media_id": record.media["id"]})
            assert without_score(hit) == as_hit(record)
    finally:
        handle.close()
    milvus_server.drop_collections(server)
