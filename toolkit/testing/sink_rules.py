"""The rules a sink keeps, checked first through the `Sink` interface alone (a record is kept
once, survives a reopen, goes with its media or stays when kept), then as the host opens it
(`vtembed.store.Store`: a store holds one model; a changed item is switched over whole).

`make_target()` returns a fresh target (a path in an empty folder, a new collection name) each
time it is called; every rule opens and closes its own handles. A store with no local path keeps
its resume manifest in a throwaway folder of the check's own.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord, MediaItem, record_id
from vtembed.sink import Sink
from vtembed.store import Store
from vtembed.store_files import state_location
from vtembed.testing.rules import Broken, NotChecked, Report, expect

MODEL, DIM = "contract-model", 8


def check_sink(sink_cls: type[Sink], make_target: Callable[[], str]) -> Report:
    report = Report(f"sink {getattr(sink_cls, 'scheme', sink_cls.__qualname__)}")
    rules: dict[str, Callable[[type[Sink], str, Path], None]] = {
        "writing a record twice stores it once": _idempotent,
        "records survive closing and reopening the store": _durable,
        "delete_media removes that item's records and no other": _delete_media,
        "delete_media keeps the records it is told to keep": _delete_keeping,
        "opened by the host, a store holds one model and dimension": _one_model,
        "without its resume manifest, a store still refuses another model": _one_model_alone,
        "a changed item's old records go only once its new ones are stored": _switch_over,
        "stored_model names what the store holds": _stored_model,
        "search finds the exact vector first, scored by cosine": _search,
        "text_search finds the record holding the exact code first": _text_search,
        "hits carry transcript_source, times_interpolated and media.language, or leave them out": (
            _provenance
        ),
    }
    with tempfile.TemporaryDirectory(prefix="vtembed-check-cache-") as cache:
        for rule, check in rules.items():
            report.run(rule, lambda check=check: check(sink_cls, make_target(), Path(cache)))
    return report


def record(
    media: str,
    start: float,
    seed: int = 0,
    model: str = MODEL,
    dim: int = DIM,
    fingerprint: str = "",
) -> EmbeddingRecord:
    vector = [
        math.sin(seed * 7.1 + start * 3.3 + i * 1.7) + (1.5 if i == seed % dim else 0)
        for i in range(dim)
    ]
    norm = math.sqrt(sum(x * x for x in vector))
    return EmbeddingRecord(
        id=record_id(media, "text", start, start + 1, model, fingerprint),
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


def _idempotent(sink_cls: type[Sink], target: str, cache: Path) -> None:
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


def _durable(sink_cls: type[Sink], target: str, cache: Path) -> None:
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


def _delete_media(sink_cls: type[Sink], target: str, cache: Path) -> None:
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


def _delete_keeping(sink_cls: type[Sink], target: str, cache: Path) -> None:
    a0, a1, a2 = record("a", 0), record("a", 1, 1), record("a", 2, 2)
    sink = _open(sink_cls, target)
    try:
        sink.write([a0, a1, a2, record("b", 0, 3)])
        removed = sink.delete_media("a", keep=frozenset({a1.id, "not-stored"}))
        expect(removed == 2, f"delete_media('a', keep=one of its 3 ids) returned {removed}, not 2")
        counts = sink.count("a"), sink.count("b")
        expect(counts == (1, 1), f"after it, count('a'), count('b') are {counts}, not (1, 1)")
        expect(sink.write([a1]) == 0, "the kept record is not stored any more (writing it is new)")
    finally:
        sink.close()


def _open_store(
    sink_cls: type[Sink], target: str, cache: Path, model: str = MODEL, dim: int = DIM
) -> Store:
    return Store.open(
        sink_cls, target, model_name=model, dim=dim, cache_dir=cache, records_per_write=1
    )


def _item(media: str, fingerprint: str) -> MediaItem:
    return MediaItem(media, f"file:///{media}", media, "contract", fingerprint=fingerprint)


def _store_item(
    sink_cls: type[Sink], target: str, cache: Path, model: str = MODEL, dim: int = DIM
) -> None:
    store = _open_store(sink_cls, target, cache, model, dim)
    try:
        item = _item("a", "v1")
        store.put(item, [record("a", 0, model=model, dim=dim, fingerprint="v1")])
        store.complete(item)
    finally:
        store.close()


def _refuses_others(open_store: Callable[[str, int], Store], why: str) -> None:
    for model, dim in ((f"{MODEL}-other", DIM), (MODEL, DIM * 2)):
        try:
            other = open_store(model, dim)
        except UsageError:
            continue
        other.close()
        raise Broken(f"a store of {MODEL} ({DIM} dims) was opened for {model} ({dim} dims){why}")


def _one_model(sink_cls: type[Sink], target: str, cache: Path) -> None:
    _store_item(sink_cls, target, cache)
    _refuses_others(lambda model, dim: _open_store(sink_cls, target, cache, model, dim), "")


def _one_model_alone(sink_cls: type[Sink], target: str, cache: Path) -> None:
    if not declares_stored_model(sink_cls):
        raise NotChecked("the sink does not report its stored model (the manifest alone keeps it)")
    _store_item(sink_cls, target, cache)
    manifest = state_location(sink_cls, target, None, cache)
    for path in (manifest, *(manifest.with_name(manifest.name + x) for x in ("-wal", "-shm"))):
        path.unlink(missing_ok=True)
    _refuses_others(
        lambda model, dim: _open_store(sink_cls, target, cache, model, dim),
        ": stored_model must name the model the store holds",
    )


def _switch_over(sink_cls: type[Sink], target: str, cache: Path) -> None:
    store = _open_store(sink_cls, target, cache)
    try:
        v1, v2, v3 = _item("a", "v1"), _item("a", "v2"), _item("a", "v3")
        store.put(v1, [record("a", s, s, fingerprint="v1") for s in (0, 1)])
        store.complete(v1)
        store.put(v2, [record("a", 0, 5, fingerprint="v2")])
        held = store.sink.count("a")
        expect(held == 3, f"while v2 of an item is stored, count is {held}, not 3 (2 old, 1 new)")
        store.complete(v2)
        held = store.sink.count("a")
        expect(held == 1, f"once v2 is complete, count is {held}, not 1")
        store.put(v3, [record("a", s, s + 7, fingerprint="v3") for s in (0, 1, 2)])
        store.abandon(v3, "failed on purpose")
        held = store.sink.count("a")
        expect(held == 1, f"after a failed v3, count is {held}, not 1 (v2 stays)")
    finally:
        store.close()


def _stored_model(sink_cls: type[Sink], target: str, cache: Path) -> None:
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


def _search(sink_cls: type[Sink], target: str, cache: Path) -> None:
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


def _text_search(sink_cls: type[Sink], target: str, cache: Path) -> None:
    if not sink_cls.declares("text_search"):
        raise NotChecked("the sink has no full-text search")
    texts = {
        ("a", 0.0): "The budget meeting ran late on Tuesday.",
        ("a", 1.0): "The rocket with serial X-42 flew in 2019.",
        ("b", 0.0): "Another rocket flew in 2020 without a serial.",
        ("b", 1.0): "Pasta boils in salted water.",
    }
    records = [
        replace(record(m, start, i), text=text)
        for i, ((m, start), text) in enumerate(texts.items())
    ]
    sink = _open(sink_cls, target)
    try:
        sink.write(records)
    finally:
        sink.close()
    handle = sink_cls.open_for_search(target, model_name=MODEL, dim=DIM)
    try:
        try:
            hits = handle.text_search("rocket X-42 2019", 3)
        except NotImplementedError as exc:  # a store of this kind that cannot
            raise NotChecked(str(exc)) from None
        only_b = handle.text_search("rocket X-42 2019", 3, {"media_id": "b"})
        none = handle.text_search("zebra", 3)
    finally:
        handle.close()
    expect(bool(hits), "text_search of words a record holds found nothing")
    expect(hits[0].get("id") == records[1].id, "the record holding X-42 and 2019 is not first")
    scores = [float(h["score"]) for h in hits]
    expect(scores == sorted(scores, reverse=True), f"scores {scores} are not best first")
    expect(all("embedding" not in h for h in hits), "hits carry their embedding")
    expect(
        [h["id"] for h in only_b] == [records[2].id],
        "the media_id filter does not give exactly item b's one rocket record",
    )
    expect(none == [], f"a word no record holds found {len(none)} hits")


def _provenance(sink_cls: type[Sink], target: str, cache: Path) -> None:
    """What a hit says of a record's words (their source, estimated times, language) is what
    the record said; a record that said nothing of them gives a hit without them, as its JSON."""
    if not declares_search(sink_cls):
        raise NotChecked("the sink does not search")
    plain, other = record("a", 0), record("b", 0, 1)
    told = replace(
        other, media={**other.media, "language": "es"}, transcript_source="sidecar",
        times_interpolated=True,
    )  # fmt: skip
    sink = _open(sink_cls, target)
    try:
        sink.write([plain, told])
    finally:
        sink.close()
    handle = sink_cls.open_for_search(target, model_name=MODEL, dim=DIM)
    try:
        found = [handle.search(r.embedding, 1, {"media_id": r.media["id"]}) for r in (plain, told)]
    finally:
        handle.close()
    bare, said = (_provenance_of(hits[0]) if hits else None for hits in found)
    wanted = {"transcript_source": "sidecar", "times_interpolated": True, "language": "es"}
    expect(said == wanted, f"a record saying {wanted} came back in its hit saying {said}")
    expect(bare == {}, f"a record saying none of them came back in its hit saying {bare}")


def _provenance_of(hit: dict[str, Any]) -> dict[str, Any]:
    said = {k: hit[k] for k in ("transcript_source", "times_interpolated") if k in hit}
    media = hit.get("media") or {}
    return {**said, **({"language": media["language"]} if "language" in media else {})}


def declares_search(sink_cls: type[Sink]) -> bool:
    return sink_cls.declares("search")


def declares_stored_model(sink_cls: type[Sink]) -> bool:
    return sink_cls.declares("stored_model")
