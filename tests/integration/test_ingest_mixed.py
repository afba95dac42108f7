"""One real ingest of a folder of mixed media, checked as a user would check the output."""

from __future__ import annotations

import itertools
from pathlib import Path
from urllib.parse import unquote, urlparse

import jiwer
import pytest

from tests import media_factory as mf
from tests.conftest import records
from vtembed.clip_tokens import get_counter

pytestmark = pytest.mark.slow  # runs Whisper or starts servers

GOOD = {
    "mp4": "mp4",
    "mkv": "mkv",
    "webm": "webm",
    "mov": "mov",
    "wav": "wav",
    "mp3": "mp3",
}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, tools: None, vtembed):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("mixed") / "my videos"
    names = {}
    for label, container in GOOD.items():
        names[label] = mf.speech_media(folder, f"talk {label}", container)
    names["unicode"] = mf.speech_media(folder / "sub dir", mf.UNICODE_NAME, "mp4")
    names["two-streams"] = mf.two_audio_streams(folder, "two streams", speech_stream=1)
    names["quotes"] = mf.speech_media(folder, mf.QUOTED_NAME, "mkv-h264", text=mf.DEMO_TEXT)
    names["no-extension"] = folder / "recording"
    mf.speech_wav(names["no-extension"], mf.DEMO_TEXT)  # a WAV without its extension
    (folder / "LICENSE").write_text("a text file without an extension\n")
    (folder / "cover.png").write_bytes(_png())
    (folder / "notes.txt").write_text("not media\n")
    (folder / "talk.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nhi\n")
    out = folder.parent / "out" / "embeddings.jsonl"
    run = vtembed("ingest", str(folder), "--sink", f"jsonl:{out}")
    return {"run": run, "out": out, "files": names, "folder": folder}


def _png() -> bytes:
    import base64

    return base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )


def _by_file(recs: list[dict], path: Path, modality: str) -> list[dict]:
    uri = path.resolve().as_uri()
    return sorted(
        (r for r in recs if r["media"]["uri"] == uri and r["modality"] == modality),
        key=lambda r: r["start_sec"],
    )


def _wer(reference: str, hypothesis: str) -> float:
    clean = jiwer.Compose(
        [
            jiwer.ToLowerCase(),
            jiwer.RemovePunctuation(),
            jiwer.RemoveMultipleSpaces(),
            jiwer.Strip(),
            jiwer.ReduceToListOfListOfWords(),
        ]
    )
    return jiwer.wer(reference, hypothesis, reference_transform=clean, hypothesis_transform=clean)


def test_every_file_ingests_and_non_media_is_skipped(mixed) -> None:  # type: ignore[no-untyped-def]
    run = mixed["run"]
    assert run.code == 0, run.text
    assert run.summary["items"] == {"ok": 10, "failed": 0, "skipped": 4, "done_before": 0}
    assert "Traceback" not in run.text
    assert "English only" in run.err and "all-MiniLM-L6-v2" in run.err
    assert run.summary["records_written"] == len(records(mixed["out"]))


def test_text_records_fit_77_clip_tokens(mixed) -> None:  # type: ignore[no-untyped-def]
    counter = get_counter()
    texts = [r for r in records(mixed["out"]) if r["modality"] == "text"]
    assert len(texts) >= 8
    for r in texts:
        assert r["tokens"] == counter.count(r["text"]) <= 77, r["text"]
        assert r["end_sec"] > r["start_sec"]


def test_audio_records_cover_speech_in_10s_segments(mixed) -> None:  # type: ignore[no-untyped-def]
    recs = records(mixed["out"])
    for path in mixed["files"].values():
        audio = _by_file(recs, path, "audio")
        text = _by_file(recs, path, "text")
        assert audio, path
        for seg in audio:
            assert seg["end_sec"] - seg["start_sec"] <= 10.0 + 1e-6
            assert seg["start_sec"] == pytest.approx(round(seg["start_sec"] / 10) * 10)
            assert seg["embedded_from"] == "transcript" and seg["text"]
        for a, b in itertools.pairwise(audio):
            assert b["start_sec"] >= a["end_sec"] - 1e-6
        assert audio[-1]["end_sec"] <= audio[-1]["media"]["duration_sec"] + 1e-3
        cells = {round(a["start_sec"] / 10) for a in audio}
        for chunk in text:  # the speech is continuous: every 10 s cell it crosses has a record
            first, last = int(chunk["start_sec"] // 10), int((chunk["end_sec"] - 0.3) // 10)
            assert set(range(first, last + 1)) <= cells, (chunk, sorted(cells))


def test_clear_speech_transcript_wer_at_most_10_percent(mixed) -> None:  # type: ignore[no-untyped-def]
    recs = records(mixed["out"])
    for label in ("mp4", "wav", "webm"):
        text = " ".join(r["text"] for r in _by_file(recs, mixed["files"][label], "text"))
        wer = _wer(mf.SPEECH_TEXT, text)
        assert wer <= 0.10, f"{label}: WER {wer:.2%}: {text}"


def test_default_audio_stream_is_used(mixed) -> None:  # type: ignore[no-untyped-def]
    recs = records(mixed["out"])
    text = " ".join(r["text"] for r in _by_file(recs, mixed["files"]["two-streams"], "text"))
    assert _wer(mf.SPEECH_TEXT, text) <= 0.10, text


@pytest.mark.parametrize(
    ("label", "title"),
    [("unicode", mf.UNICODE_NAME), ("quotes", mf.QUOTED_NAME), ("no-extension", "recording")],
)
def test_awkward_names_keep_their_title_and_uri(mixed, label: str, title: str) -> None:  # type: ignore[no-untyped-def]
    path = mixed["files"][label]
    recs = _by_file(records(mixed["out"]), path, "text")
    assert recs and recs[0]["media"]["title"] == title
    assert recs[0]["media"]["uri"] == path.resolve().as_uri()
    assert Path(unquote(urlparse(recs[0]["media"]["uri"]).path)) == path.resolve()


def test_plain_rerun_adds_nothing_and_says_so(mixed, vtembed) -> None:  # type: ignore[no-untyped-def]
    before = mixed["out"].read_bytes()
    run = vtembed("ingest", str(mixed["folder"]), "--sink", f"jsonl:{mixed['out']}")
    assert run.code == 0, run.text
    assert run.summary["items"]["done_before"] == 10 and run.summary["records_written"] == 0
    assert "nothing new" in run.err
    assert mixed["out"].read_bytes() == before
