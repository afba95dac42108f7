"""`vtembed search`: ingest media on distinct topics, then find the right one, at the right time."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests import media_factory as mf
from tests.conftest import records
from tests.record_factory import make_record
from vtembed.errors import UsageError
from vtembed.models import EmbeddingRecord
from vtembed.plugins.sinks import jsonl
from vtembed.plugins.sinks.jsonl import JsonlSink

pytestmark = pytest.mark.slow  # runs Whisper or starts servers

PASTA = (
    "My sister cooks pasta in the kitchen. She boils water in a big pot and adds salt. "
    "Then she makes a tomato sauce with garlic and basil."
)
ROCKET = (
    "The rocket launch was delayed by the weather. At noon the engines fired and the rocket "
    "rose into the sky. The crowd cheered as it reached orbit."
)
QUERY = "a person crossing the road with a dog"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, tools: None, vtembed) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("search")
    media = base / "media"
    files = {
        "dog": mf.speech_media(media, "dog walk", "wav", text=mf.DEMO_TEXT, lead_silence=2.0),
        "pasta": mf.speech_media(media, "pasta", "wav", text=PASTA),
        "rocket": mf.speech_media(media, "rocket", "wav", text=ROCKET),
    }
    out = base / "out.jsonl"
    run = vtembed("ingest", str(media), "--sink", f"jsonl:{out}")
    assert run.code == 0, run.text
    return {**files, "out": out}


def search(vtembed, out: Path, *args: str, query: str = QUERY):  # type: ignore[no-untyped-def]
    return vtembed("search", query, "--sink", f"jsonl:{out}", *args)


def test_finds_the_dog_where_it_is_said(archive: dict[str, Path], vtembed) -> None:  # type: ignore[no-untyped-def]
    # Vectors alone, one hit per record: cosine scores, which say how much nearer the dog is.
    run = search(vtembed, archive["out"], "--json", "--mode", "vector", "--no-group")
    assert run.code == 0, run.text
    hits = json.loads(run.out)
    assert hits and all("embedding" not in h for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    best = hits[0]
    assert best["media"]["title"] == "dog walk"
    # "A man is walking his dog across the street." is spoken from 2.0 s to about 4.5 s.
    assert best["start_sec"] < 4.5 and best["end_sec"] > 2.0
    others = [h["score"] for h in hits if h["media"]["title"] != "dog walk"]
    assert others and best["score"] > max(others) + 0.2
    # The default (hybrid, grouped): the same moment first, its text chunk and audio segment
    # one hit; fused scores only order hits.
    grouped = json.loads(search(vtembed, archive["out"], "--json").out)
    assert grouped[0]["media"]["title"] == "dog walk"
    assert grouped[0]["start_sec"] < 4.5 and grouped[0]["end_sec"] > 2.0
    assert {"text", "audio"} <= set(grouped[0]["modalities"])
    assert [h["score"] for h in grouped] == sorted((h["score"] for h in grouped), reverse=True)


def test_filters_and_k(archive: dict[str, Path], vtembed) -> None:  # type: ignore[no-untyped-def]
    out = archive["out"]
    audio = json.loads(search(vtembed, out, "--modality", "audio", "--json").out)
    assert audio and {h["modality"] for h in audio} == {"audio"}
    text = json.loads(search(vtembed, out, "--modality", "text", "--json").out)
    assert text and {h["modality"] for h in text} == {"text"}
    only = json.loads(search(vtembed, out, "--media", str(archive["rocket"]), "--json").out)
    assert only and {h["media"]["title"] for h in only} == {"rocket"}
    by_id = json.loads(search(vtembed, out, "--media", only[0]["media"]["id"], "--json").out)
    assert {h["id"] for h in by_id} == {h["id"] for h in only}
    two = json.loads(search(vtembed, out, "-k", "2", "--json").out)
    assert len(two) == 2
    assert len(records(out)) > 2


def test_human_output(archive: dict[str, Path], vtembed) -> None:  # type: ignore[no-untyped-def]
    run = search(vtembed, archive["out"], "-k", "3")
    assert run.code == 0, run.text
    first = run.out.split("\n\n")[0]
    assert "dog walk" in first and "00:0" in first and "\u2013" in first
    assert "ffplay -ss" in first and "#t=" in first and "dog%20walk.wav" in first
    nothing = search(vtembed, archive["out"], "--media", "no-such-id")
    assert nothing.code == 0 and nothing.out.startswith("no matches: the store holds no records")
    assert (
        f"media {archive['out'].parent / 'typo.wav'}"
        in search(vtembed, archive["out"], "--media", str(archive["out"].parent / "typo.wav")).out
    )


def test_empty_or_missing_sink(tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    missing = search(vtembed, tmp_path / "nothing.jsonl")
    assert missing.code == 2 and "holds no records yet" in missing.err
    assert len(missing.err.strip().splitlines()) == 1
    (tmp_path / "empty.jsonl").write_text("")
    empty = search(vtembed, tmp_path / "empty.jsonl")
    assert empty.code == 2 and "holds no records yet" in empty.err


def test_dimension_mismatch_names_both(archive: dict[str, Path], tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(archive["out"].read_text())
    meta = {"model_name": "all-MiniLM-L6-v2", "dim": 512}
    bad.with_name(bad.name + ".meta.json").write_text(json.dumps(meta))
    run = search(vtembed, bad)
    assert run.code == 2
    assert "512" in run.err and "384" in run.err and len(run.err.strip().splitlines()) == 1


def test_query_over_the_token_limit(archive: dict[str, Path], vtembed) -> None:  # type: ignore[no-untyped-def]
    run = search(vtembed, archive["out"], query="word " * 100)
    assert run.code == 2 and "77" in run.err


# The scan itself, without media: blocks, filters, unnormalised vectors, a writer alongside.


def rec(media: str, start: float, vec: list[float], modality: str = "text") -> EmbeddingRecord:
    return make_record(media, start, vec, modality=modality)  # type: ignore[arg-type]


def test_scan_merges_blocks_and_filters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "SEARCH_BLOCK", 3)
    path = tmp_path / "s.jsonl"
    sink = JsonlSink(str(path), model_name="m", dim=2)
    # Angles from the query (1, 0) grow with i; lengths vary, so only a normalised score ranks.
    sink.write(
        [
            rec(
                "a" if i % 2 else "b",
                float(i),
                [(i + 1) * math.cos(i / 10), (i + 1) * math.sin(i / 10)],
                "audio" if i % 3 == 0 else "text",
            )
            for i in range(10)
        ]
    )
    assert JsonlSink.stored_model(str(path)) == ("m", 2)
    # The search handle takes no lock: it works while the writer holds it.
    handle = JsonlSink.open_for_search(str(path), model_name="m", dim=2)
    hits = handle.search([5.0, 0.0], 4)
    assert [h["start_sec"] for h in hits] == [0.0, 1.0, 2.0, 3.0]
    assert hits[0]["score"] == pytest.approx(1.0) and "embedding" not in hits[0]
    assert [h["start_sec"] for h in handle.search([1.0, 0.0], 2, {"media_id": "a"})] == [1.0, 3.0]
    assert [h["start_sec"] for h in handle.search([1, 0], 2, {"modality": "audio"})] == [0.0, 3.0]
    assert (
        handle.search([1, 0], 9, {"media_uri": "file:///b", "modality": "audio"})[0]["start_sec"]
        == 0.0
    )
    with pytest.raises(UsageError):
        handle.write([rec("a", 99.0, [1.0, 0.0])])
    with path.open("a") as f:
        f.write('{"half a line')
    assert len(handle.search([1.0, 0.0], 100)) == 10
    handle.close()
    sink.close()


def test_stored_model_without_meta(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    assert JsonlSink.stored_model(str(path)) is None
    path.write_text(json.dumps(rec("a", 0.0, [1.0, 0.0, 0.0]).to_json()) + "\n")
    assert JsonlSink.stored_model(str(path)) == ("m", 3)
