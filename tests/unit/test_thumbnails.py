"""A record's time finds its shot's thumbnail by file name alone, whatever the sink."""

from __future__ import annotations

from pathlib import Path

from vtembed.hits import format_hit
from vtembed.thumbnails import Thumbnails, keyframe_name


def _shots(root: Path, media_id: str, starts: list[float]) -> list[Path]:
    folder = root / media_id
    folder.mkdir(parents=True)
    paths = []
    for i, start in enumerate(starts):
        name = keyframe_name("shot", i, start)
        (folder / f"{name}.jpg").write_bytes(b"k")
        paths.append(folder / f"{name}.thumb.jpg")
        paths[-1].write_bytes(b"t")
    return paths


def test_the_shot_on_screen_at_a_time_is_found(tmp_path: Path) -> None:
    paths = _shots(tmp_path, "m1", [0.0, 6.04, 11.0, 18.5])
    thumbs = Thumbnails(tmp_path)
    assert keyframe_name("shot", 1, 6.04) == "shot-0001-6040ms"
    assert thumbs.at("m1", 0.0) == paths[0]
    assert thumbs.at("m1", 6.0) == paths[0]  # said just before the cut
    assert thumbs.at("m1", 6.04) == paths[1]
    assert thumbs.at("m1", 6.0399998) == paths[1]  # a time kept as a 32-bit float
    assert thumbs.at("m1", 12.3) == paths[2]
    assert thumbs.at("m1", 3600.0) == paths[3]


def test_media_without_shots_and_odd_ids_have_none(tmp_path: Path) -> None:
    _shots(tmp_path, "m1", [2.0])
    (tmp_path / "m1" / "notes.thumb.jpg").write_bytes(b"x")  # not a shot's name: ignored
    thumbs = Thumbnails(tmp_path)
    assert thumbs.at("m1", 1.0) is None  # before the first shot
    assert thumbs.at("m2", 5.0) is None
    assert thumbs.at("../m1", 5.0) is None and thumbs.at("", 5.0) is None
    assert Thumbnails(None).at("m1", 5.0) is None


def test_a_hit_prints_its_thumbnail_line() -> None:
    hit = {
        "score": 0.5,
        "media": {"title": "slides", "uri": "file:///v/slides.mp4"},
        "start_sec": 6.0,
        "end_sec": 11.0,
        "modality": "image",
        "text": "Welcome",
        "thumbnail": "/s/e.jsonl.frames/m1/shot-0001-6000ms.thumb.jpg",
    }
    lines = format_hit(hit).splitlines()
    assert lines[-1] == "       thumbnail: /s/e.jsonl.frames/m1/shot-0001-6000ms.thumb.jpg"
    del hit["thumbnail"]
    assert not any("thumbnail" in line for line in format_hit(hit).splitlines())
