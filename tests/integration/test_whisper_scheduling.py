"""Whisper's new scheduling changes how fast, not what: windows of a file and items transcribed
side by side give the records one call at a time gives, and `whisper.batch_size = 1` is the plain
faster-whisper call again, with no worse words than the batched one.

The side-by-side run and the sequential one use the same batched pipeline, so their records are
compared exactly where the transcription decides them (ids, per-item order) and within
normalisation and 0.2 s where CTranslate2's threads could tip a float (texts, times).
"""

from __future__ import annotations

import re
from pathlib import Path

import jiwer
import pytest

from tests import media_factory as mf
from tests.conftest import records

pytestmark = pytest.mark.slow  # runs Whisper

WINDOW = {"VTEMBED_WHISPER__WINDOW_SEC": "20"}  # a 90 s talk is five windows
SIDE_BY_SIDE = {"VTEMBED_WHISPER__WORKERS": "2", "VTEMBED_PIPELINE__ITEMS_AT_ONCE": "2"}
SEQUENTIAL = {"VTEMBED_WHISPER__WORKERS": "1", "VTEMBED_PIPELINE__ITEMS_AT_ONCE": "1"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Path:
    root = tmp_path_factory.mktemp("scheduling")
    mf.long_speech_wav(root / "a long talk.wav", 1.5)
    mf.speech_media(root, "short", "mp4", text="A dog crosses the street with its owner.")
    mf.not_media(root / "broken.mp4")
    mf.speech_media(root, "after the broken one", "mp3", text="Rain falls on the old harbour.")
    return root


def _ingest(vtembed, folder: Path, out: Path, env: dict[str, str]):  # type: ignore[no-untyped-def]
    run = vtembed("ingest", str(folder), "--sink", f"jsonl:{out}", env={**WINDOW, **env})
    assert "Traceback" not in run.err, run.err
    return run


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def _by_item(found: list[dict]) -> dict[str, list[dict]]:
    """Each item's records in the order the file has them."""
    items: dict[str, list[dict]] = {}
    for record in found:
        items.setdefault(record["media"]["title"], []).append(record)
    return items


def test_side_by_side_records_equal_the_sequential_run(  # type: ignore[no-untyped-def]
    folder: Path, tmp_path: Path, vtembed
) -> None:
    sequential = _ingest(vtembed, folder, tmp_path / "seq.jsonl", SEQUENTIAL)
    side = _ingest(vtembed, folder, tmp_path / "side.jsonl", SIDE_BY_SIDE)
    assert sequential.code == side.code == 1  # the broken file fails alone in both
    assert side.text.count("broken.mp4") >= 1
    one, two = _by_item(records(tmp_path / "seq.jsonl")), _by_item(records(tmp_path / "side.jsonl"))
    assert sorted(one) == sorted(two) and len(one) == 3
    for title, expected in one.items():
        got = two[title]
        assert [r["id"] for r in got] == [r["id"] for r in expected], title  # same order too
        for a, b in zip(got, expected, strict=True):
            assert _normal(a.get("text") or "") == _normal(b.get("text") or "")
            assert a["start_sec"] == pytest.approx(b["start_sec"], abs=0.2)
            assert a["end_sec"] == pytest.approx(b["end_sec"], abs=0.2)
    talk = next(v for k, v in two.items() if k.startswith("a long talk"))
    assert max(r["end_sec"] for r in talk) > 80  # past several window edges


class _Refused:
    """faster-whisper's batched pipeline, refused: what runs without it is the plain call."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("the batched pipeline was used")


def _words(found: list[dict]) -> str:
    text = [r for r in found if r["modality"] == "text"]
    return _normal(" ".join(r["text"] for r in sorted(text, key=lambda r: r["start_sec"])))


def test_batch_size_1_is_the_plain_call_and_batched_words_are_as_good(  # type: ignore[no-untyped-def]
    tmp_path: Path, tools: None, vtembed, monkeypatch: pytest.MonkeyPatch
) -> None:
    talk = mf.long_speech_wav(tmp_path / "in" / "talk.wav", 1.0)
    said = _normal(" ".join(mf.LONG_PARAGRAPHS))
    batched = _ingest(vtembed, talk, tmp_path / "batched.jsonl", {})
    assert batched.code == 0, batched.text

    import faster_whisper

    monkeypatch.setattr(faster_whisper, "BatchedInferencePipeline", _Refused)
    refused = _ingest(vtembed, talk, tmp_path / "refused.jsonl", {})
    assert refused.code == 1 and "the batched pipeline was used" in refused.text  # the default
    plain = _ingest(vtembed, talk, tmp_path / "plain.jsonl", {"VTEMBED_WHISPER__BATCH_SIZE": "1"})
    assert plain.code == 0, plain.text

    # The talk repeats its paragraphs: compare with as much of them as it holds.
    heard_plain, heard_batched = (
        _words(records(tmp_path / "plain.jsonl")),
        _words(records(tmp_path / "batched.jsonl")),
    )
    reference = ((said + " ") * 3).split()
    wer = {}
    for name, heard in (("plain", heard_plain), ("batched", heard_batched)):
        assert heard, name
        wer[name] = jiwer.wer(" ".join(reference[: len(heard.split())]), heard)
    assert wer["plain"] < 0.15, wer
    assert wer["batched"] <= wer["plain"] + 0.02, wer
