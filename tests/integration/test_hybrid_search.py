"""Hybrid search finds the moment that says the exact number, where vectors alone do not; hits
group one moment's records across modalities; text mode and the fallback, on every sink.

Records are built with tests/record_factory.py and embedded by the real local MiniLM model, then
written through the real sinks (JSONL, LanceDB, Milvus Lite); the query is embedded by the same
model through the Python API, as a user's would be. A Milvus collection without BM25 (made on a
Milvus server before 2.5) is made on Milvus Lite by telling the schema the server has none.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tests.record_factory import make_record
from vtembed import Vtembed
from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord, Modality
from vtembed.plugins.embedders import minilm
from vtembed.plugins.sinks import milvus_schema
from vtembed.plugins.sinks.jsonl import JsonlSink
from vtembed.plugins.sinks.lancedb import LanceDbSink
from vtembed.plugins.sinks.milvus import MilvusSink
from vtembed.sink import Sink

MODEL, DIM = minilm.MODEL_NAME, minilm.DIM
QUERY = "flight 2741 delayed"
NUMBER = "Passengers for 2741 should collect their bags at carousel five."
"""The one record that says the number: about luggage, not about a late plane."""
NEAR = [  # about late planes, sharing no word with the query
    "Our plane could not take off on time because of the storm.",
    "The airline postponed the departure by three hours this morning.",
    "Travellers waited at the gate while the aircraft sat on the runway.",
]
OTHER = [
    "My sister cooks pasta in the kitchen with garlic and basil.",
    "The rocket rose into the sky and the crowd cheered.",
    "A man is walking his dog across the street.",
    "The library opens at nine on weekdays.",
]


@pytest.fixture(scope="module")
def encoder(cache_dir: Path) -> minilm.MiniLMEncoder:
    return minilm.MiniLMEncoder(minilm.convert(cache_dir))


@pytest.fixture(scope="module")
def archive(encoder: minilm.MiniLMEncoder) -> list[EmbeddingRecord]:
    """Each text in its own media item (so none group together), plus one moment of the pasta
    item found three ways: its text chunk, the audio segment holding it, a keyframe 2 s on."""
    spec: list[tuple[str, float, float, str, Modality]] = [
        (f"item{i}", 0.0, 5.0, text, "text") for i, text in enumerate([NUMBER, *NEAR, *OTHER])
    ]
    pasta = f"item{1 + len(NEAR)}"
    spec += [(pasta, 0.0, 10.0, OTHER[0], "audio"), (pasta, 12.0, 13.0, "", "image")]
    vectors = encoder.embed([text or "a kitchen with a pot" for *_, text, _ in spec])
    out = []
    for (media, start, end, text, modality), vector in zip(spec, vectors, strict=True):
        base = make_record(media, start, [float(x) for x in vector], model=MODEL, modality=modality)
        out.append(dataclasses.replace(base, end_sec=end, text=text, tokens=len(text.split())))
    return out


def write(sink_cls: type[Sink], target: str, records: list[EmbeddingRecord]) -> str:
    sink = sink_cls(target, model_name=MODEL, dim=DIM)
    try:
        sink.write(records)
    finally:
        sink.close()
    return f"{sink_cls.scheme}:{target}"


@pytest.fixture(scope="module")
def app() -> Vtembed:
    return Vtembed()


@pytest.fixture(params=["jsonl", "lancedb", "milvus-lite"])
def store(request: pytest.FixtureRequest, tmp_path: Path, archive: list[EmbeddingRecord]) -> str:
    if request.param == "jsonl":
        return write(JsonlSink, str(tmp_path / "a.jsonl"), archive)
    if request.param == "lancedb":
        return write(LanceDbSink, str(tmp_path / "a.lance"), archive)
    return write(MilvusSink, str(tmp_path / "a.db"), archive)


def without_bm25(monkeypatch: pytest.MonkeyPatch) -> None:
    """Collections made from now on are made as on a server without BM25 (Milvus before 2.5),
    or by a vtembed from before full-text search: no sparse field."""
    monkeypatch.setattr(milvus_schema, "has_bm25", lambda version: False)


def test_hybrid_puts_the_exact_number_first_where_vectors_do_not(
    app: Vtembed, store: str, cache_dir: Path
) -> None:
    def first(mode: str) -> str:
        found = app.search(QUERY, k=3, mode=mode, sink=store, cache_dir=str(cache_dir))
        assert found.mode == mode and not found.notes
        return found.hits[0].text

    vector = app.search(QUERY, k=8, mode="vector", sink=store, cache_dir=str(cache_dir))
    ranked = [hit.text for hit in vector.hits]
    assert ranked[0] in NEAR and ranked.index(NUMBER) > 0  # vectors find late planes first
    assert first("hybrid") == NUMBER
    assert first("text") == NUMBER


def test_text_mode_finds_only_records_sharing_a_word(
    app: Vtembed, store: str, cache_dir: Path
) -> None:
    found = app.search(
        "carousel", k=5, mode="text", group=False, sink=store, cache_dir=str(cache_dir)
    )
    assert [hit.text for hit in found.hits] == [NUMBER]
    assert found.hits[0].score > 0
    audio = app.search(
        "rocket", k=5, mode="text", modality="audio", sink=store, cache_dir=str(cache_dir)
    )
    assert audio.hits == []  # the only rocket record is a text chunk


def test_one_moment_found_three_ways_is_one_hit(app: Vtembed, store: str, cache_dir: Path) -> None:
    query = "cooking pasta with garlic"
    grouped = app.search(query, k=3, sink=store, cache_dir=str(cache_dir))
    best = grouped.hits[0]
    assert best.grouped and best.text == OTHER[0]
    assert set(best.modalities) == {"text", "audio", "image"} and len(best.records) == 3
    # The image is 2 s after the audio ends: the span covers both.
    assert (best.span_start_sec, best.span_end_sec) == (0.0, 13.0)
    assert best.record is best.records[0]
    assert (best.start_sec, best.end_sec) == (best.record["start_sec"], best.record["end_sec"])
    assert best.score == best.records[0]["score"] == max(r["score"] for r in best.records)
    assert len({hit.media_id for hit in grouped.hits}) == len(grouped.hits) == 3
    shape = best.to_json()
    assert shape["modalities"] == list(best.modalities) and len(shape["records"]) == 3
    assert "embedding" not in json.dumps(shape)

    apart = app.search(query, k=3, group_gap_sec=1.0, sink=store, cache_dir=str(cache_dir))
    assert set(apart.hits[0].modalities) == {"text", "audio"}  # 2 s is more than 1 s

    single = app.search(
        query, k=3, group=False, mode="vector", sink=store, cache_dir=str(cache_dir)
    )
    assert [len(hit.records) for hit in single.hits] == [1, 1, 1]
    assert not single.hits[0].grouped and "records" not in single.hits[0].to_json()
    # As before grouping: cosine scores, and the text chunk and the audio segment holding the
    # same words (embedded from the same transcript) both come first.
    assert single.hits[0].score == pytest.approx(single.hits[1].score)
    assert {single.hits[0].modality, single.hits[1].modality} == {"text", "audio"}


def test_bad_modes_are_usage_errors(app: Vtembed, store: str, cache_dir: Path) -> None:
    with pytest.raises(UsageError, match="mode 'fuzzy'"):
        app.search(QUERY, mode="fuzzy", sink=store, cache_dir=str(cache_dir))
    with pytest.raises(UsageError, match="gap"):
        app.search(QUERY, group_gap_sec=-1, sink=store, cache_dir=str(cache_dir))


def test_a_milvus_collection_without_bm25_falls_back_to_vectors_and_says_so(
    app: Vtembed,
    tmp_path: Path,
    archive: list[EmbeddingRecord],
    cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without_bm25(monkeypatch)
    store = write(MilvusSink, str(tmp_path / "a.db"), archive)
    found = app.search(QUERY, k=3, sink=store, cache_dir=str(cache_dir))
    assert found.mode == "vector" and len(found.notes) == 1
    assert "without a full-text field" in found.notes[0] and "vectors alone" in found.notes[0]
    assert found.hits and found.hits[0].text in NEAR
    with pytest.raises(UsageError, match="without a full-text field"):
        app.search(QUERY, mode="text", sink=store, cache_dir=str(cache_dir))


def test_the_cli_lists_modalities_notes_and_refuses_text_mode(
    tmp_path: Path, archive: list[EmbeddingRecord], monkeypatch: pytest.MonkeyPatch, vtembed
) -> None:  # type: ignore[no-untyped-def]
    store = write(JsonlSink, str(tmp_path / "a.jsonl"), archive)
    run = vtembed("search", "cooking pasta with garlic", "--sink", store, "-k", "2")
    assert run.code == 0, run.text
    head = run.out.splitlines()[0]
    assert "00:00\u201300:13" in head and "(3 records)" in head
    assert {"text", "audio", "image"} <= set(head.replace(",", " ").split())
    as_json = json.loads(vtembed("search", QUERY, "--sink", store, "--json").out)
    assert as_json[0]["text"] == NUMBER and as_json[0]["modalities"] == ["text"]
    assert (as_json[0]["span_start_sec"], as_json[0]["span_end_sec"]) == (0.0, 5.0)
    flat = vtembed("search", QUERY, "--sink", store, "--json", "--no-group", "--mode", "vector")
    assert all("records" not in hit for hit in json.loads(flat.out))

    without_bm25(monkeypatch)
    lite = write(MilvusSink, str(tmp_path / "a.db"), archive)
    hybrid = vtembed("search", QUERY, "--sink", lite, "--json")
    assert hybrid.code == 0 and json.loads(hybrid.out)
    notes = [line for line in hybrid.err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "milvus" in notes[0]
    text = vtembed("search", QUERY, "--sink", lite, "--mode", "text")
    assert text.code == 2 and len(text.err.strip().splitlines()) == 1
    assert "without a full-text field" in text.err


def test_a_lancedb_store_made_before_full_text_search_gets_its_index_at_the_first_search(
    tmp_path: Path, archive: list[EmbeddingRecord]
) -> None:
    target = str(tmp_path / "old.lance")
    write(LanceDbSink, target, archive)
    sink = LanceDbSink(target, model_name=MODEL, dim=DIM)
    sink.table.drop_index("text_idx")  # as a store written before the index existed
    sink.close()
    handle = LanceDbSink.open_for_search(target, model_name=MODEL, dim=DIM)
    try:
        assert [h["text"] for h in handle.text_search("carousel 2741", 3)] == [NUMBER]
        assert "text_idx" in {i.name for i in handle.table.list_indices()}
    finally:
        handle.close()
