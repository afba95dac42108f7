"""What is seen, end to end with the offline defaults: each shot that shows text becomes one
`"modality": "image"` record (its keyframe read by OCR, embedded with the text model) at the
shot's times; a shot without text gives none; a paraphrase of a slide finds its shot; prune
takes the keyframes with the records; audio with cover art gives no pictures at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import media_factory as mf
from tests.conftest import records

pytestmark = pytest.mark.slow  # runs Whisper and OCR


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory, tools: None) -> mf.ShotsVideo:
    folder = tmp_path_factory.mktemp("shots") / "media"
    return mf.shots_video(folder, "slides", size="1280x720")


def test_each_shot_with_text_is_one_image_record_at_its_times(
    video: mf.ShotsVideo, tmp_path: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "e.jsonl"
    run = vtembed("ingest", str(video.path), "--sink", f"jsonl:{out}")
    assert run.code == 0, run.text
    assert "warning" not in run.err, run.err
    images = sorted(
        (r for r in records(out) if r["modality"] == "image"), key=lambda r: r["start_sec"]
    )
    starts = [0.0, *video.cuts]
    shown = [(start, text) for start, text in zip(starts, video.texts, strict=True) if text]
    assert len(images) == len(shown), [(r["start_sec"], r["text"]) for r in images]
    for record, (start, text) in zip(images, shown, strict=True):
        assert abs(record["start_sec"] - start) <= 0.5, (record["start_sec"], start)
        assert record["embedded_from"] == "ocr"
        assert record["text"].lower().split() == text.lower().split()
    frames = tmp_path / "e.jsonl.frames" / images[0]["media"]["id"]
    # Textless shots give no record, but every shot's keyframe stays (a kept asset: another
    # model may embed the picture itself), and so does its thumbnail, to show what was on
    # screen at any hit in the video.
    thumbs = sorted(frames.glob("*.thumb.jpg"), key=_start_ms)
    keys = sorted(set(frames.glob("*.jpg")) - set(thumbs), key=_start_ms)
    assert {round(r["start_sec"] * 1000) for r in images} < {_start_ms(p) for p in keys}
    assert len(thumbs) == len(keys) == len(starts), "one keyframe and thumbnail per shot"

    hit = vtembed(
        "search", "quarterly revenue numbers", "--sink", f"jsonl:{out}", "--modality", "image"
    )
    assert hit.code == 0, hit.text
    lines = hit.out.strip().splitlines()
    assert "00:00\N{EN DASH}00:06  image" in lines[0], hit.out
    assert lines[1].strip() == "Quarterly sales figures", hit.out

    video.path.unlink()
    pruned = vtembed("prune", str(video.path.parent), "--sink", f"jsonl:{out}", "--yes")
    assert pruned.code == 0, pruned.text
    assert records(out) == [] and not frames.exists()


def _start_ms(picture: Path) -> int:
    """The shot start a keyframe's or thumbnail's name carries (`vtembed.thumbnails`)."""
    stem = picture.name.removesuffix(".jpg").removesuffix(".thumb")
    return int(stem.rpartition("-")[2].removesuffix("ms"))


def test_audio_with_cover_art_gives_no_pictures(tmp_path: Path, tools: None, vtembed) -> None:  # type: ignore[no-untyped-def]
    media = tmp_path / "media"
    mf.cover_art_audio(media, "talk", "mp3")
    out = tmp_path / "e.jsonl"
    run = vtembed("ingest", str(media), "--sink", f"jsonl:{out}")
    assert run.code == 0 and "warning" not in run.err, run.text
    assert {r["modality"] for r in records(out)} <= {"text", "audio"}
    assert not (tmp_path / "e.jsonl.frames").exists()
