"""The picture side of an item runs beside Whisper: shots are found as ffmpeg decodes, keyframes
are cut and read by OCR in a thread of their own, and the overlapped pipeline hands their image
parts out between Whisper's segments, the rest after the sound. A failure there fails only its
item, with one line; a stop ends the thread; textless keyframes leave no files.

The shot tests run ffmpeg only; the others run Whisper and OCR (slow)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests import media_factory as mf
from tests.conftest import records
from vtembed.frames import DetectResult, iter_shots, scene_cuts, shots_from_cuts, video_stream
from vtembed.models import ImageFrame
from vtembed.pipeline import Ended, Part, Stages
from vtembed.plugins.embedders.local import LocalEmbedder
from vtembed.plugins.sources.local import LocalSource, item_for
from vtembed.progress import LogReporter
from vtembed.settings import load_settings
from vtembed.transcriber import Transcriber

# 12 shots of 7.5 s (90 s), text on every other one, under a minute and more of speech.
SHOTS = tuple(
    (7.5, colour, f"Slide number {n} of the talk" if n % 2 == 0 else None)
    for n, colour in enumerate(["0x1f3b73", "0x7a1f1f", "0x1f6b3a", "0x4a4a4a"] * 3)
)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory, tools: None) -> mf.ShotsVideo:
    folder = tmp_path_factory.mktemp("beside")
    speech = " ".join(mf.LONG_PARAGRAPHS)
    return mf.shots_video(folder, "talk", shots=SHOTS, size="640x360", speech=speech)


def test_shots_come_as_found_and_equal_the_whole_list(video: mf.ShotsVideo) -> None:
    """The streaming shots are `shots_from_cuts` over every cut, one by one."""
    stream = video_stream(str(video.path))
    assert stream is not None
    cuts = list(scene_cuts(stream, 0.2, DetectResult()))
    for min_sec, max_sec in ((2.0, 60.0), (2.0, 5.0), (10.0, 60.0)):  # as cut, split, merged
        whole = shots_from_cuts(cuts, stream.duration_sec, min_sec, max_sec)
        found = iter_shots(stream, threshold=0.2, min_shot_sec=min_sec, max_shot_sec=max_sec)
        assert list(found) == whole
    assert len(shots_from_cuts(cuts, stream.duration_sec, 2.0, 60.0)) == len(SHOTS)


def test_shots_can_be_taken_one_by_one_and_left_early(video: mf.ShotsVideo) -> None:
    stream = video_stream(str(video.path))
    assert stream is not None
    shots = iter_shots(stream, threshold=0.2, min_shot_sec=2.0, max_shot_sec=60.0)
    first = next(shots)
    assert first.index == 0 and first.end_sec == pytest.approx(7.5, abs=0.1)
    shots.close()  # ffmpeg is stopped, not waited for to the end


def _stages(tmp_path: Path, cache_dir: Path, **pipeline: object) -> Stages:
    overrides: dict[str, object] = {"cache_dir": str(cache_dir)}
    if pipeline:
        overrides["pipeline"] = pipeline
    settings = load_settings(overrides)
    return Stages(
        settings=settings,
        sources={"local": LocalSource(settings)},
        transcriber=Transcriber(settings.whisper),
        embedder=LocalEmbedder(settings),
        store=None,  # type: ignore[arg-type]  # stream plans; it stores nothing
        reporter=LogReporter(),
        frames_root=tmp_path / "frames",
    )


def _start_ms(picture: Path) -> int:
    """The shot start a keyframe's or thumbnail's name carries (`vtembed.thumbnails`)."""
    stem = picture.name.removesuffix(".jpg").removesuffix(".thumb")
    return int(stem.rpartition("-")[2].removesuffix("ms"))


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.is_alive()}


@pytest.mark.slow
def test_image_parts_arrive_while_whisper_is_still_at_work(
    video: mf.ShotsVideo, tmp_path: Path, cache_dir: Path
) -> None:
    stages = _stages(tmp_path, cache_dir, frames_ahead=1)
    kinds: list[str] = []
    for message in stages.stream(item_for(video.path)):
        if isinstance(message, Part):
            image = all(isinstance(x, ImageFrame) for x in message.inputs)
            kinds.append("image" if image else "sound")
        else:
            assert isinstance(message, Ended)
    first_image, last_sound = kinds.index("image"), len(kinds) - 1 - kinds[::-1].index("sound")
    assert first_image < last_sound, kinds  # a picture went out before the sound was done
    assert kinds.count("image") == sum(1 for _, _, text in SHOTS if text)
    assert "vtembed-frames" not in _threads()
    folder = tmp_path / "frames" / item_for(video.path).id
    thumbs = set(folder.glob("*.thumb.jpg"))
    assert len(set(folder.glob("*.jpg")) - thumbs) == kinds.count("image")  # textless: deleted
    assert len(thumbs) == len(SHOTS)  # but every shot's thumbnail stays


@pytest.mark.slow
def test_a_stop_ends_the_picture_thread_with_whisper(
    video: mf.ShotsVideo, tmp_path: Path, cache_dir: Path
) -> None:
    from vtembed.errors import Stopped

    stages = _stages(tmp_path, cache_dir, frames_ahead=1)
    stop = threading.Event()
    messages = stages.stream(item_for(video.path), stop)
    next(messages)  # Whisper has started and the picture thread with it
    assert "vtembed-frames" in _threads()
    stop.set()
    with pytest.raises(Stopped):
        for _ in messages:
            pass
    assert "vtembed-frames" not in _threads()


@pytest.mark.slow
def test_a_picture_side_failure_fails_only_its_item_with_one_line(
    tmp_path: Path, tools: None, vtembed
) -> None:  # type: ignore[no-untyped-def]
    media = tmp_path / "media"
    mf.undecodable_video(media, "damaged picture")
    mf.shots_video(media, "fine", size="320x240")
    out = tmp_path / "e.jsonl"
    run = vtembed("ingest", str(media), "--sink", f"jsonl:{out}")
    assert run.code == 1, run.text
    assert "Traceback" not in run.err
    errors = run.summary["errors"]
    assert [e["item"] for e in errors] == [str((media / "damaged picture.mkv").resolve())], errors
    assert errors[0]["error"].startswith("video stream cannot be decoded"), errors
    assert "\n" not in errors[0]["error"]
    titles = {r["media"]["title"] for r in records(out)}
    assert titles == {"fine"}
    assert any(r["modality"] == "image" for r in records(out))


@pytest.mark.slow
def test_pictures_beside_whisper_give_the_records_of_one_stage_at_a_time(
    video: mf.ShotsVideo, tmp_path: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    found = {}
    for overlap in (True, False):
        out = tmp_path / f"{overlap}.jsonl"
        env = {
            "VTEMBED_PIPELINE__OVERLAP": str(overlap).lower(),
            "VTEMBED_WHISPER__WINDOW_SEC": "30",
        }
        run = vtembed("ingest", str(video.path), "--sink", f"jsonl:{out}", env=env)
        assert run.code == 0, run.text
        found[overlap] = sorted(
            ({k: v for k, v in r.items() if k != "embedding"} for r in records(out)),
            key=lambda r: (r["modality"], r["start_sec"]),
        )
        starts = {round(r["start_sec"] * 1000) for r in found[overlap] if r["modality"] == "image"}
        pictures = set((tmp_path / f"{overlap}.jsonl.frames").rglob("*.jpg"))
        kept = pictures - set((tmp_path / f"{overlap}.jsonl.frames").rglob("*.thumb.jpg"))
        assert starts < {_start_ms(p) for p in kept}  # every shot's keyframe is kept
    images = [r for r in found[True] if r["modality"] == "image"]
    assert len(images) == sum(1 for _, _, text in SHOTS if text)
    assert found[True] == found[False]
