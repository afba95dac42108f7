"""Sinks declare what they offer beyond storing (`capabilities`); the host reads the declaration,
and a declaration that names an unknown capability or a method the class lacks fails as the
class is made."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fake_sinks import CountingSink, ListingSink
from vtembed import dry_run
from vtembed.models import EmbeddingRecord, record_id
from vtembed.plugins.sinks.jsonl import JsonlSink
from vtembed.plugins.sinks.lancedb import LanceDbSink
from vtembed.plugins.sinks.milvus import MilvusSink
from vtembed.settings import Settings
from vtembed.sink import Sink


def record(media: str, start: float) -> EmbeddingRecord:
    return EmbeddingRecord(
        id=record_id(media, "text", start, start + 1, "contract-model"),
        media={"id": media, "uri": f"file:///{media}", "title": media, "source": "t"},
        modality="text",
        start_sec=start,
        end_sec=start + 1,
        text=f"words of {media}",
        tokens=3,
        model_name="contract-model",
        dim=8,
        embedding=[float(start + 1)] + [0.5] * 7,
    )


_Counting, _Listing = CountingSink, ListingSink


def test_the_built_in_sinks_declare_what_they_offer() -> None:
    assert JsonlSink.capabilities == {"search", "text_search", "stored_model", "media_counts"}
    assert LanceDbSink.capabilities == {"search", "text_search", "stored_model", "media_counts"}
    assert MilvusSink.capabilities == {"search", "text_search", "stored_model"}
    assert _Counting.capabilities == frozenset()
    assert not _Counting.declares("search") and _Listing.declares("media_counts")
    with pytest.raises(ValueError, match="unknown sink capability"):
        _Counting.declares("serach")


def test_a_method_alone_declares_nothing() -> None:
    """Implementing `search` without declaring it is not detected as a capability."""

    class Quiet(_Counting):
        scheme = "quiet"

        def search(self, vector, k, filters=None):  # type: ignore[no-untyped-def]
            return []

    assert not Quiet.declares("search")


def test_a_declaration_without_its_method_or_misspelt_fails_as_the_class_is_made() -> None:
    with pytest.raises(TypeError, match="declares 'search' but does not implement search"):

        class NoSearch(_Counting):
            scheme = "nosearch"
            capabilities = frozenset({"search"})

    with pytest.raises(TypeError, match="unknown capabilities"):

        class Misspelt(_Counting):
            scheme = "misspelt"
            capabilities = frozenset({"serach"})


def test_jsonl_lists_its_media_without_opening_the_store(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    assert JsonlSink.media_counts(str(path)) == {} and not path.exists()
    sink = JsonlSink(str(path), model_name="contract-model", dim=8)
    try:
        sink.write([record("a", 0), record("a", 1), record("b", 0)])
    finally:
        sink.close()
    with open(path, "ab") as f:
        f.write(b'{"torn')  # a writer's half-written line is not counted
    assert JsonlSink.media_counts(str(path)) == {"a": 2, "b": 1}


def test_lancedb_lists_its_media(tmp_path: Path) -> None:
    target = str(tmp_path / "a.lance")
    assert LanceDbSink.media_counts(target) == {}
    sink = LanceDbSink(target, model_name="contract-model", dim=8)
    try:
        sink.write([record("a", 0), record("b", 0), record("b", 1)])
    finally:
        sink.close()
    assert LanceDbSink.media_counts(target) == {"a": 1, "b": 2}


def test_a_dry_run_asks_a_listing_sink_whether_its_store_holds_anything(tmp_path: Path) -> None:
    def opened() -> Sink:
        store = dry_run.open_store(
            _Listing, str(tmp_path), model_name="m", dim=4, settings=Settings()
        )
        return store.sink

    _Listing.held = {}
    assert isinstance(opened(), dry_run.NothingStored)
    _Listing.held = {"a": 3}
    assert type(opened()) is _Listing
