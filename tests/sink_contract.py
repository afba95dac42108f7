"""What every database sink promises, as checks that a sink's own tests call with its class, a
fresh target and a way to count its rows: the same records and assertions for each sink, so
LanceDB, Milvus and the next one are held to one contract.

Plain module, no tests inside; each check opens and closes its own handles.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests import media_factory as mf
from tests.record_factory import make_record
from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord
from vtembed.sink import Sink
from vtembed.store import Store

RNG = np.random.default_rng(11)
QUOTED_ID = 'it\'s "q" \\'
"""A media id with both quote characters and a backslash: filters must quote it right."""

Rows = Callable[[Sink], int]
"""How many records a handle's store holds (each sink knows its own way to ask)."""


def unit(dim: int) -> list[float]:
    v = RNG.normal(size=dim)
    return (v / np.linalg.norm(v)).astype(np.float32).tolist()


def rec(
    media: str, start: float, dim: int = 8, model: str = "m", modality: str = "text"
) -> EmbeddingRecord:
    return make_record(media, start, unit(dim), model=model, modality=modality)  # type: ignore[arg-type]


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def check_idempotent_writes(sink_cls: type[Sink], target: str, dim: int, rows: Rows) -> None:
    a0, a1, b0 = rec("a", 0, dim), rec("a", 1, dim), rec("b", 0, dim)
    sink = sink_cls(target, model_name="m", dim=dim)
    assert sink.count("a") == 0 and rows(sink) == 0
    assert sink.write([a0, a1]) == 2
    assert sink.write([a1, b0, b0]) == 1
    assert rows(sink) == 3
    sink.close()
    again = sink_cls(target, model_name="m", dim=dim)
    assert again.write([a0, a1, b0]) == 0
    assert rows(again) == 3
    assert (again.count("a"), again.count("b"), again.count("c")) == (2, 1, 0)
    again.close()


def check_delete_media(sink_cls: type[Sink], target: str, rows: Rows) -> None:
    sink = sink_cls(target, model_name="m", dim=8)
    assert sink.delete_media("a") == 0
    sink.write([rec("a", 0), rec("b", 0), rec("a", 1)])
    assert sink.delete_media("a") == 2
    assert (sink.count("a"), sink.count("b"), rows(sink)) == (0, 1, 1)
    assert sink.write([rec("a", 0)]) == 1
    sink.close()


def check_search(sink_cls: type[Sink], target: str) -> None:
    """Exact vector first, scores = cosine similarity, best first, hits = stored records without
    the vector, each filter alone and combined, quoting, and a search-only handle."""
    sink = sink_cls(target, model_name="m", dim=384)
    records = [
        rec(m, s, 384, modality=mod) for m in "abc" for s in range(4) for mod in ("text", "audio")
    ]
    podcast = dataclasses.replace(
        rec(QUOTED_ID, 0, 384),
        media={"id": QUOTED_ID, "uri": "https://x/e.mp3", "title": "ep", "source": "podcast"}
        | {"published": "2026-01-02T03:04:05+00:00", "guid": "g-1"},
    )
    sink.write([*records, podcast])
    sink.close()
    target_rec = records[5]
    query = target_rec.embedding
    handle = sink_cls.open_for_search(target, model_name="m", dim=384)
    hits = handle.search(query, 6)
    assert len(hits) == 6
    assert hits[0]["id"] == target_rec.id and hits[0]["score"] == pytest.approx(1.0, abs=1e-5)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    by_id = {r.id: r for r in [*records, podcast]}
    for hit in hits:
        assert hit["score"] == pytest.approx(cosine(query, by_id[hit["id"]].embedding), abs=1e-5)
    stored = {k: v for k, v in target_rec.to_json().items() if k != "embedding"}
    assert {k: v for k, v in hits[0].items() if k != "score"} == stored
    assert all(not {"vector", "embedding", "distance", "_distance"} & h.keys() for h in hits)
    scaled = handle.search([x * 3 for x in query], 1)  # scaling the query changes no score
    assert scaled[0]["id"] == target_rec.id and scaled[0]["score"] == pytest.approx(1.0, abs=1e-5)

    audio = handle.search(query, 100, {"modality": "audio"})
    assert len(audio) == 12 and {h["modality"] for h in audio} == {"audio"}
    only_b = handle.search(query, 100, {"media_id": "b"})
    assert len(only_b) == 8 and {h["media"]["id"] for h in only_b} == {"b"}
    by_uri = handle.search(query, 100, {"media_uri": "file:///c", "modality": "text"})
    assert sorted((h["media"]["id"], h["modality"]) for h in by_uri) == [("c", "text")] * 4
    quoted = handle.search(query, 5, {"media_id": QUOTED_ID})
    assert [h["id"] for h in quoted] == [podcast.id]
    assert quoted[0]["media"] == podcast.media  # published and guid come back; nothing else
    assert handle.search(query, 3, {"media_id": "not there"}) == []
    with pytest.raises(UsageError, match="open for search only"):
        handle.write([rec("z", 0, 384)])
    handle.close()


def check_refuses_another_model(sink_cls: type[Sink], target: str) -> None:
    sink = sink_cls(target, model_name="all-MiniLM-L6-v2", dim=384)
    sink.write([rec("a", 0, 384, model="all-MiniLM-L6-v2")])
    sink.close()
    with pytest.raises(
        UsageError,
        match=rf"^sink {sink_cls.scheme}:\S+ holds all-MiniLM-L6-v2 \(384 dims\), "
        r"not Marengo-retrieval-2\.7 \(1024 dims\): choose another",
    ):
        sink_cls(target, model_name="Marengo-retrieval-2.7", dim=1024)
    with pytest.raises(UsageError, match=r"\(384 dims\), not all-MiniLM-L6-v2 \(8 dims\)"):
        sink_cls(target, model_name="all-MiniLM-L6-v2", dim=8)
    with pytest.raises(UsageError, match=r"holds all-MiniLM-L6-v2 \(384 dims\), not other \(384"):
        sink_cls(target, model_name="other", dim=384)  # same dimension, another model
    sink_cls(target, model_name="all-MiniLM-L6-v2", dim=384).close()  # refusals let go


def check_stored_model_and_one_writer(sink_cls: type[Sink], target: str) -> Sink:
    """stored_model is None for a missing or empty store, then names the model; a second writer
    is refused by the host. Returns the writer, still open, for the caller's own checks (it
    closes it)."""
    model = "Marengo-retrieval-2.7"
    assert sink_cls.stored_model(target) is None
    store = Store.open(sink_cls, target, model_name=model, dim=8)
    assert sink_cls.stored_model(target) is None  # nothing stored yet
    with pytest.raises(UsageError, match="in use by another vtembed run"):
        Store.open(sink_cls, target, model_name=model, dim=8)
    store.sink.write([rec("a", 0, model=model)])
    assert sink_cls.stored_model(target) == (model, 8)
    return StoreHandle(store)


class StoreHandle:
    """The open store's sink for the caller's checks; closing it closes the store (lock too)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store.sink, name)

    def close(self) -> None:
        self.store.close()


def check_ingest_twice_then_search(
    vtembed: Any, media: Path, sink: str, rows: Callable[[], int]
) -> None:
    """The CLI end to end on three spoken topics: a rerun stores nothing new, and a paraphrase
    finds the right media at the right time; `rows` counts what the store holds."""
    dog = mf.speech_media(media, "dog walk", "wav", text=mf.DEMO_TEXT, lead_silence=2.0)
    mf.speech_media(media, "soup", "wav", text=mf.LONG_PARAGRAPHS[1])
    mf.speech_media(media, "match", "wav", text=mf.LONG_PARAGRAPHS[3])
    first = vtembed("ingest", str(media), "--sink", sink)
    assert first.code == 0, first.text
    assert first.summary["items"]["ok"] == 3
    assert "Traceback" not in first.text
    # Nothing but vtembed's own lines: no library printing to the terminal (FAISS did, on Lite).
    assert not [ln for ln in first.err.splitlines() if ln.startswith("WARNING")], first.err
    count = rows()
    assert count == first.summary["records_written"] > 0
    second = vtembed("ingest", str(media), "--sink", sink)
    assert second.code == 0, second.text
    assert "done before" in second.text and second.summary["records_written"] == 0
    assert rows() == count

    query = "someone taking a dog over the road"
    hybrid = vtembed("search", query, "--sink", sink, "--json")  # the default: fused, grouped
    assert hybrid.code == 0, hybrid.text
    assert json.loads(hybrid.out)[0]["media"]["title"] == "dog walk"
    # Vectors alone, one hit per record: cosine scores, which say how much nearer the dog is.
    run = vtembed("search", query, "--sink", sink, "--json", "--mode", "vector", "--no-group")
    assert run.code == 0, run.text
    hits = json.loads(run.out)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert all("vector" not in h and "embedding" not in h for h in hits)
    best = hits[0]
    assert best["media"]["title"] == "dog walk"
    assert best["media"]["uri"] == dog.resolve().as_uri()
    # "A man is walking his dog across the street." is spoken from 2.0 s to about 4.5 s.
    assert best["start_sec"] < 4.5 and best["end_sec"] > 2.0
    others = [h["score"] for h in hits if h["media"]["title"] != "dog walk"]
    assert others and best["score"] > max(others) + 0.2

    soup = vtembed(
        "search", "making vegetable soup", "--sink", sink, "--modality", "text", "--json"
    )
    assert soup.code == 0, soup.text
    soup_hits = json.loads(soup.out)
    assert soup_hits[0]["media"]["title"] == "soup"
    assert {h["modality"] for h in soup_hits} == {"text"}
