"""The rules every sink keeps, checked through the `Sink` interface only: whatever the store,
a record is kept once, survives a reopen, goes with its media, and a store holds one model.

`make_target()` returns a fresh target (a path in an empty folder, a new collection name) each
time it is called; every rule opens and closes its own handles.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord, record_id
from vtembed.sink import Sink
from vtembed.testing.rules import Broken, NotChecked, Report, expect

MODEL, DIM = "contract-model", 8


def check_sink(sink_cls: type[Sink], make_target: Callable[[], str]) -> Report:
    report = Report(f"sink {getattr(sink_cls, 'scheme', sink_cls.__qualname__)}")
    rules: dict[str, Callable[[type[Sink], str], None]] = {
        "writing a record twice stores it once": _idempotent,
        "a batch holding a record twice stores it once": _duplicate_in_batch,
        "records survive closing and reopening the store": _durable,
        "delete_media removes that item's records and no other": _delete_media,
        "a store holds one model and dimension": _one_model,
        "stored_model names what the store holds": _stored_model,
        "search finds the exact vector first, scored by cosine": _search,
    }
    for rule, check in rules.items():
        report.run(rule, lambda check=check: check(sink_cls, make_target()))
    return report


def record(
    media: str, start: float, seed: int = 0, model: str = MODEL, dim: int = DIM
) -> EmbeddingRecord:
    vector = [
        math.sin(seed * 7.1 + start * 3.3 + i * 1.7) + (1.5 if i == seed % dim else 0)
        for i in range(dim)
    ]
    norm = math.sqrt(sum(x * x for x in vector))
    return EmbeddingRecord(
        id=record_id(media, "text", start, start + 1, model),
        media={
            "id": media,
            "uri": f"file:///{media}",
            "title": media,
            "source": "contract",
            "duration_sec": 60.0,
        },
        modality="text",
        start_sec=start,
        end_sec=start + 1,
        text=f"words of {media} at {start}",
        tokens=6,
        model_name=model,
        dim=dim,
        embedding=[x / norm for x in vector],
    )


def _open(sink_cls: type[Sink], target: str, model: str = MODEL, dim: int = DIM) -> Sink:
    return sink_cls(target, model_name=model, dim=dim)


def _idempotent(sink_cls: type[Sink], target: str) -> None:
    a0, a1, b0 = record("a", 0), record("a", 1, 1), record("b", 0, 2)
    sink = _open(sink_cls, target)
    try:
        new = sink.write([a0, a1])
        expect(new == 2, f"write of 2 new records returned {new}, not 2")
        new = sink.write([a1, b0])
        expect(new == 1, f"write of 1 stored and 1 new record returned {new}, not 1")
        counts = sink.count("a"), sink.count("b")
        expect(counts == (2, 1), f"count('a'), count('b') are {counts}, not (2, 1)")
    finally:
        sink.close()


def _duplicate_in_batch(sink_cls: type[Sink], target: str) -> None:
    b0 = record("b", 0)
    sink = _open(sink_cls, target)
    try:
        new = sink.write([b0, b0])
        expect(
            sink.count("b") == 1,
            f"count('b') is {sink.count('b')} after writing one record twice in a batch, not 1",
        )
        expect(new == 1, f"write returned {new} for one new record given twice, not 1")
    finally:
        sink.close()


def _durable(sink_cls: type[Sink], target: str) -> None:
    records = [record("a", float(s), s) for s in range(5)]
    sink = _open(sink_cls, target)
    try:
        sink.write(records)
    finally:
        sink.close()
    again = _open(sink_cls, target)
    try:
        count = again.count("a")
        expect(count == 5, f"5 records written and the store reopened: count('a') is {count}")
        new = again.write(records)
        expect(new == 0, f"after reopening, writing the same 5 records again returned {new}, not 0")
        expect(
            again.count("a") == 5,
            f"after reopening and rewriting, count('a') is {again.count('a')}, not 5",
        )
    finally:
        again.close()


def _delete_media(sink_cls: type[Sink], target: str) -> None:
    sink = _open(sink_cls, target)
    try:
        sink.write([record("a", 0), record("b", 0, 1), record("a", 1, 2)])
        removed = sink.delete_media("a")
        expect(removed == 2, f"delete_media('a') returned {removed}, not 2")
        counts = sink.count("a"), sink.count("b")
        expect(counts == (0, 1), f"after delete_media('a'): count('a'), count('b') are {counts}")
        expect(sink.delete_media("nothing") == 0, "delete_media of an unknown item is not 0")
    finally:
        sink.close()


def _one_model(sink_cls: type[Sink], target: str) -> None:
    sink = _open(sink_cls, target)
    try:
        sink.write([record("a", 0)])
    finally:
        sink.close()
    for model, dim in ((f"{MODEL}-other", DIM), (MODEL, DIM * 2)):
        try:
            other = _open(sink_cls, target, model, dim)
        except UsageError:
            continue
        other.close()
        raise Broken(
            f"a store of {MODEL} ({DIM} dims) was opened for {model} ({dim} dims): "
            "it must raise UsageError"
        )


def _stored_model(sink_cls: type[Sink], target: str) -> None:
    if not declares_stored_model(sink_cls):
        raise NotChecked("the sink does not report its stored model")
    expect(
        sink_cls.stored_model(target) is None, "stored_model of a store not yet made is not None"
    )
    sink = _open(sink_cls, target)
    try:
        sink.write([record("a", 0)])
    finally:
        sink.close()
    held = sink_cls.stored_model(target)
    expect(held == (MODEL, DIM), f"stored_model is {held}, not ({MODEL!r}, {DIM})")


def _search(sink_cls: type[Sink], target: str) -> None:
    if not declares_search(sink_cls):
        raise NotChecked("the sink does not search")
    records = [
        record(m, float(s), i) for i, (m, s) in enumerate((m, s) for m in "abc" for s in range(3))
    ]
    sink = _open(sink_cls, target)
    try:
        sink.write(records)
    finally:
        sink.close()
    wanted = records[4]
    handle = sink_cls.open_for_search(target, model_name=MODEL, dim=DIM)
    try:
        hits = handle.search(wanted.embedding, 3)
        only_c = handle.search(wanted.embedding, 9, {"media_id": "c"})
    finally:
        handle.close()
    expect(len(hits) == 3, f"search(k=3) gave {len(hits)} hits")
    expect(hits[0].get("id") == wanted.id, "the stored vector itself is not the first hit")
    expect(
        abs(float(hits[0]["score"]) - 1.0) < 1e-4,
        f"the exact vector scores {hits[0]['score']}, not 1.0 (cosine)",
    )
    scores = [float(h["score"]) for h in hits]
    expect(scores == sorted(scores, reverse=True), f"scores {scores} are not best first")
    expect(all("embedding" not in h for h in hits), "hits carry their embedding")
    expect(
        {h["media"]["id"] for h in only_c} == {"c"} and len(only_c) == 3,
        "the media_id filter does not give exactly that item's 3 records",
    )


def declares_search(sink_cls: type[Sink]) -> bool:
    return sink_cls.declares("search")


def declares_stored_model(sink_cls: type[Sink]) -> bool:
    return sink_cls.declares("stored_model")
