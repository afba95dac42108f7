"""The LanceDB sink: the sink contract (idempotent upserts, one model per database, cosine search
with filters, the CLI end to end), then what is LanceDB's own: table names, the vector index and
compaction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests import sink_contract as contract
from tests.record_factory import make_record
from tests.sink_contract import rec
from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord
from vtembed.plugins.sinks.lancedb import SECTION, LanceDbSink, table_name
from vtembed.plugins.sinks.lancedb_index import SMALL_FRAGMENTS, vector_index
from vtembed.settings import load_settings
from vtembed.sink import Sink
from vtembed.store_files import state_location


def rows(sink: Sink) -> int:
    assert isinstance(sink, LanceDbSink)
    return 0 if sink.table is None else sink.table.count_rows()


@pytest.mark.parametrize("dim", [8, 384])
def test_writes_are_idempotent_and_counted(tmp_path: Path, dim: int) -> None:
    path = tmp_path / "out" / "a.lance"
    contract.check_idempotent_writes(LanceDbSink, str(path), dim, rows)
    sink = LanceDbSink(str(path), model_name="m", dim=dim)
    assert sink.table_name == table_name("embeddings", "m") == "embeddings_m"
    assert sink.table.schema.field("vector").type.list_size == dim
    assert state_location(LanceDbSink, str(path), None) == path.with_name("a.lance.state.sqlite")
    sink.close()
    with pytest.raises(UsageError, match="table_prefix"):
        load_settings({"lancedb": {"table_prefix": "no spaces"}}, None, [SECTION])


def test_delete_media_removes_only_that_item(tmp_path: Path) -> None:
    contract.check_delete_media(LanceDbSink, str(tmp_path / "a.lance"), rows)


def test_search_scores_are_cosine_best_first_with_filters(tmp_path: Path) -> None:
    contract.check_search(LanceDbSink, str(tmp_path / "a.lance"))


def test_refuses_another_model_or_dimension(tmp_path: Path) -> None:
    contract.check_refuses_another_model(LanceDbSink, str(tmp_path / "a.lance"))


def test_stored_model_and_one_writer(tmp_path: Path) -> None:
    sink = contract.check_stored_model_and_one_writer(LanceDbSink, str(tmp_path / "a.lance"))
    assert sink.table_name == "embeddings_Marengo_retrieval_2_7"
    sink.close()


def test_table_prefix_is_a_setting(tmp_path: Path) -> None:
    settings = load_settings({"lancedb": {"table_prefix": "vt"}}, None, [SECTION])
    sink = LanceDbSink(str(tmp_path / "a.lance"), model_name="m", dim=8, settings=settings)
    sink.write([rec("a", 0)])
    sink.close()
    again = LanceDbSink(str(tmp_path / "a.lance"), model_name="m", dim=8)  # the db remembers
    assert again.table_name == "vt_m" and again.count("a") == 1
    again.close()


@pytest.mark.slow
def test_ingest_twice_then_search(tmp_path: Path, tools: None, vtembed) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "a.lance"

    def stored_rows() -> int:
        assert LanceDbSink.stored_model(str(db)) == ("all-MiniLM-L6-v2", 384)
        handle = LanceDbSink.open_for_search(str(db), model_name="all-MiniLM-L6-v2", dim=384)
        try:
            return rows(handle)
        finally:
            handle.close()

    contract.check_ingest_twice_then_search(
        vtembed, tmp_path / "media", f"lancedb:{db}", stored_rows
    )


def indexed_sink(path: Path, **index: object) -> LanceDbSink:
    """A sink whose index thresholds are small enough for a test (16-dim rows)."""
    settings = load_settings({"lancedb": index}, None, [SECTION])
    return LanceDbSink(str(path), model_name="m", dim=16, settings=settings)


def batch(start: int, stop: int) -> list[EmbeddingRecord]:
    """Rows start..stop-1: 100 per media item, text and audio alternating."""
    modality = ("text", "audio")
    return [rec(f"m{i // 100}", i % 100, 16, modality=modality[i % 2]) for i in range(start, stop)]


def exact_top(records: list[EmbeddingRecord], query: list[float], k: int) -> list[str]:
    matrix = np.array([r.embedding for r in records])
    scores = matrix @ np.array(query) / np.linalg.norm(matrix, axis=1) / np.linalg.norm(query)
    return [records[i].id for i in np.argsort(-scores)[:k]]


def assert_exact_search(sink: LanceDbSink, records: list[EmbeddingRecord]) -> None:
    """The nearest record first with score 1, the same top 10 as a numpy scan, exact scores."""
    by_id = {r.id: r for r in records}
    for target in records[::397]:
        hits = sink.search(target.embedding, 10)
        assert hits[0]["id"] == target.id and hits[0]["score"] == pytest.approx(1.0, abs=1e-5)
        assert [h["id"] for h in hits] == exact_top(records, target.embedding, 10)
        for hit in hits:
            expected = float(np.dot(by_id[hit["id"]].embedding, target.embedding))
            assert hit["score"] == pytest.approx(expected, abs=1e-5)
        audio = sink.search(target.embedding, 10, {"modality": "audio"})
        wanted = [r for r in records if r.modality == "audio"]
        assert [h["id"] for h in audio] == exact_top(wanted, target.embedding, 10)


def test_index_is_built_once_the_table_crosses_the_threshold(tmp_path: Path) -> None:
    sink = indexed_sink(tmp_path / "a.lance", index_min_rows=2000, index_refresh_rows=500)
    records = batch(0, 1900)
    for start in range(0, 1900, 500):
        sink.write(records[start : start + 500])
    assert vector_index(sink.table) is None
    assert "ANNSubIndex" not in sink.query(records[0].embedding, 10).explain_plan()
    records += batch(1900, 2100)
    assert sink.write(records[1900:]) == 200
    index = vector_index(sink.table)
    assert index.name == "vector_idx_2100" and index.num_unindexed_rows == 0
    sink.close()
    handle = LanceDbSink.open_for_search(str(tmp_path / "a.lance"), model_name="m", dim=16)
    assert "ANNSubIndex" in handle.query(records[0].embedding, 10).explain_plan()
    indexes = {i.name for i in handle.table.list_indices()}
    # text_idx: the full-text index (BM25 on `text`) the first write made, for hybrid search.
    assert indexes == {"vector_idx_2100", "modality_idx", "media_id_idx", "text_idx"}
    plan = handle.query(records[0].embedding, 10, {"modality": "audio"}).explain_plan()
    assert "ScalarIndexQuery" in plan
    assert_exact_search(handle, records)
    assert handle.count("m3") == 100


def test_new_rows_are_searched_before_and_after_the_index_takes_them_in(tmp_path: Path) -> None:
    sink = indexed_sink(
        tmp_path / "a.lance", index_min_rows=1000, index_refresh_rows=400, index_retrain_growth=3
    )
    records = batch(0, 1000)
    sink.write(records)
    records += batch(1000, 1300)
    sink.write(records[1000:])  # below index_refresh_rows: searched by a flat scan beside the index
    assert vector_index(sink.table).num_unindexed_rows == 300
    assert_exact_search(sink, records)
    records += batch(1300, 1450)
    sink.write(records[1300:])  # 450 unindexed: added to the index, which is not retrained
    index = vector_index(sink.table)
    assert (index.name, index.num_unindexed_rows, index.num_segments) == ("vector_idx_1000", 0, 2)
    assert_exact_search(sink, records)
    records += batch(1450, 3100)
    sink.write(records[1450:])  # grown 3.1 times: retrained on every row, the old index dropped
    assert [i.name for i in sink.table.list_indices() if i.name.startswith("vector")] == [
        "vector_idx_3100"
    ]
    assert_exact_search(sink, records)
    # Re-writing stored records (an upsert) leaves one row each, still found.
    assert sink.write(records[:500]) == 0 and rows(sink) == 3100
    assert_exact_search(sink, records)
    sink.close()


def test_index_settings(tmp_path: Path) -> None:
    sink = indexed_sink(tmp_path / "a.lance", index_min_rows=0)
    sink.write(batch(0, 1200))
    assert vector_index(sink.table) is None  # 0: never
    sink.close()
    flat = indexed_sink(tmp_path / "b.lance", index_min_rows=500, index_type="IVF_FLAT")
    flat.write(batch(0, 600))
    assert vector_index(flat.table).index_type == "IvfFlat"
    flat.close()
    with pytest.raises(UsageError, match="index_type"):
        load_settings({"lancedb": {"index_type": "HNSW"}}, None, [SECTION])
    with pytest.raises(UsageError, match="index_retrain_growth"):
        load_settings({"lancedb": {"index_retrain_growth": 1}}, None, [SECTION])


def test_small_writes_are_compacted(tmp_path: Path) -> None:
    """One file per write would make every search open them all; they are merged as they pile up."""
    sink = indexed_sink(tmp_path / "a.lance", index_min_rows=0)
    records = batch(0, 400)
    for start in range(0, 400, 5):
        sink.write(records[start : start + 5])
    fragments = sink.table.stats()["fragment_stats"]["num_fragments"]
    assert fragments < SMALL_FRAGMENTS and rows(sink) == 400
    assert_exact_search(sink, records)
    sink.close()


def test_a_vector_of_the_wrong_length_is_refused(tmp_path: Path) -> None:
    sink = LanceDbSink(str(tmp_path / "a.lance"), model_name="m", dim=8)
    short = make_record("a", 1, [0.5, 0.5, 0.5])
    with pytest.raises(UsageError, match=rf"record {short.id} has 3 dims, not 8"):
        sink.write([rec("a", 0), short])
    assert rows(sink) == 0
    sink.close()
