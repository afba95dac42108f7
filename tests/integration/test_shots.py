"""Shots and keyframes (issue 18, part 1): cuts found where the generated video has them, the
minimum and maximum shot length kept, audio-only media and cover art without shots or a word,
keyframes and thumbnails as JPEGs, and `vtembed shots FILE` as a user runs it."""

from __future__ import annotations

import itertools
import json
import logging
import warnings
from pathlib import Path

import av
import numpy as np
import pytest

from tests import media_factory as mf
from vtembed.api.app import Vtembed
from vtembed.errors import MediaError
from vtembed.frames import shots_from_cuts

TOLERANCE = 0.5  # the acceptance figure: a shot starts within this many seconds of its cut


@pytest.fixture(scope="module")
def app() -> Vtembed:
    return Vtembed()


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory, tools: None) -> mf.ShotsVideo:
    return mf.shots_video(tmp_path_factory.mktemp("shots"), "cuts", size="640x360")


def _picture(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


# -- the shot rules, on cut times alone ------------------------------------------------------


def test_close_cuts_merge_and_a_short_last_shot_joins_the_one_before() -> None:
    shots = shots_from_cuts([5.0, 5.8, 12.0, 29.5], 30.0, min_shot_sec=2.0, max_shot_sec=60.0)
    assert [(s.start_sec, s.end_sec) for s in shots] == [(0.0, 5.0), (5.0, 12.0), (12.0, 30.0)]
    assert [s.index for s in shots] == [0, 1, 2]
    assert all(s.start_sec < s.keyframe_sec < s.end_sec for s in shots)


def test_a_long_shot_is_split_into_equal_parts_of_at_most_max_shot_sec() -> None:
    shots = shots_from_cuts([], 600.0, min_shot_sec=2.0, max_shot_sec=60.0)
    assert len(shots) == 10
    assert all(s.duration_sec == pytest.approx(60.0) for s in shots)
    assert shots[-1].end_sec == 600.0
    assert shots_from_cuts([], 0.0, min_shot_sec=2.0, max_shot_sec=60.0) == []


# -- real ffmpeg -------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_cut_is_found_within_half_a_second(app: Vtembed, video: mf.ShotsVideo) -> None:
    shots = app.shots(video.path).shots
    assert len(shots) == len(video.cuts) + 1, shots
    for shot, cut in zip(shots[1:], video.cuts, strict=True):
        assert abs(shot.start_sec - cut) <= TOLERANCE, (shot, cut)
    assert shots[0].start_sec == 0.0
    assert shots[-1].end_sec == pytest.approx(sum(s for s, _, _ in mf.SHOTS), abs=0.05)
    assert all(a.end_sec == b.start_sec for a, b in itertools.pairwise(shots))


@pytest.mark.slow
def test_min_shot_sec_merges_cuts_closer_than_it(app: Vtembed, video: mf.ShotsVideo) -> None:
    # cuts at 6, 11, 18, 22: 22 is 4 s after 18, so a 4.5 s minimum drops it
    shots = app.shots(video.path, frames__min_shot_sec=4.5).shots
    assert [round(s.start_sec) for s in shots] == [0, 6, 11, 18]
    assert all(s.duration_sec >= 4.5 for s in shots)


@pytest.mark.slow
def test_a_static_video_gets_a_shot_every_max_shot_sec(app: Vtembed, tmp_path: Path) -> None:
    still = mf.shots_video(tmp_path, "lecture", shots=[(40.0, "0x202830", "One slide")], fps=10)
    shots = app.shots(still.path, frames__max_shot_sec=15.0).shots
    assert len(shots) == 3
    assert all(s.duration_sec <= 15.0 + 1e-6 for s in shots)
    assert shots[-1].end_sec == pytest.approx(40.0, abs=0.05)


@pytest.mark.slow
def test_keyframes_and_thumbnails_are_jpegs_from_the_middle_of_each_shot(
    app: Vtembed, video: mf.ShotsVideo, tmp_path: Path
) -> None:
    result = app.shots(video.path, keyframes=tmp_path / "kf")
    assert len(result.keyframes) == len(result.shots) == len(mf.SHOTS)
    for keyframe, (_, colour, _) in zip(result.keyframes, mf.SHOTS, strict=True):
        for path in (keyframe.image, keyframe.thumbnail):
            assert path.read_bytes()[:3] == b"\xff\xd8\xff", path
        image, thumb = _picture(keyframe.image), _picture(keyframe.thumbnail)
        assert image.shape[:2] == (360, 640)
        assert thumb.shape[1] == 320 and abs(thumb.shape[0] - 180) <= 1
        corner = image[:20, :20].reshape(-1, 3).mean(axis=0)  # away from any text
        want = [int(colour[2 + 2 * i : 4 + 2 * i], 16) for i in range(3)]
        assert np.abs(corner - want).max() < 12, (keyframe.shot, corner, want)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["wav", "mp3", "cover-mp3", "cover-m4a"])
def test_audio_only_and_cover_art_have_no_shots_and_no_warning(
    app: Vtembed, tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    if kind.startswith("cover-"):
        path = mf.cover_art_audio(tmp_path, "song", kind.removeprefix("cover-"))
    else:
        path = mf.speech_media(tmp_path, "talk", kind, text=mf.DEMO_TEXT)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.WARNING):
            result = app.shots(path, keyframes=tmp_path / "kf")
    assert result.shots == [] and result.keyframes == []
    assert caplog.records == []


@pytest.mark.slow
def test_a_video_stream_that_does_not_decode_is_one_clear_media_error(
    app: Vtembed, tmp_path: Path, tools: None
) -> None:
    bad = mf.undecodable_video(tmp_path, "damaged")
    with pytest.raises(MediaError) as caught:
        app.shots(bad)
    message = str(caught.value)
    assert message.startswith("video stream cannot be decoded") and "\n" not in message


# -- the command -------------------------------------------------------------------------------


@pytest.mark.slow
def test_shots_command_lists_the_cuts(vtembed, video: mf.ShotsVideo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = vtembed("shots", str(video.path))
    assert run.code == 0, run.text
    lines = run.out.splitlines()
    assert len(lines) == len(mf.SHOTS)
    assert lines[0] == "  0.00 \u2013   6.00  keyframe 3.00"

    run = vtembed("shots", str(video.path), "--format", "json", "--keyframes", str(tmp_path))
    assert run.code == 0, run.text
    rows = json.loads(run.out)
    assert [round(r["start_sec"]) for r in rows] == [0, *map(round, video.cuts)]
    assert all(Path(r["keyframe"]).is_file() and Path(r["thumbnail"]).is_file() for r in rows)


@pytest.mark.slow
def test_shots_command_refuses_what_is_not_media(vtembed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for path in (mf.not_media(tmp_path / "notes.mp4"), tmp_path / "missing.mp4"):
        run = vtembed("shots", str(path))
        assert run.code == 2, run.text
        assert run.err.startswith("error: ") and len(run.err.strip().splitlines()) == 1, run.err
