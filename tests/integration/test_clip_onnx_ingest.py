"""`--embedder clip-onnx` end to end on a generated video with a tiny ONNX pair of CLIP's shapes:
every shot's keyframe becomes one `"modality": "image"` record of 512 dims with no text, speech
becomes text and transcript-embedded audio records in the same space, and `vtembed search
--modality image` answers from the pictures.

Retrieval quality is not tested here: the encoders are random projections, not CLIP, so which
shot a query finds means nothing; what is checked is that pictures reach the image encoder, one
record per shot at the shot's times, and that a text query searches them.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tests import clip_onnx_models as tiny
from tests import media_factory as mf
from tests.conftest import records

pytestmark = pytest.mark.slow  # runs Whisper

# A hit's first line: score, title, span, modality ("0.018  slides  00:00\N{EN DASH}00:06  image").
HIT = re.compile(
    r"^\s*-?\d+\.\d+\s+\S+\s+(?P<start>\d\d:\d\d)\N{EN DASH}\d\d:\d\d\s+(?P<modality>\w+)"
)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory, tools: None) -> mf.ShotsVideo:
    folder = tmp_path_factory.mktemp("clip-shots") / "media"
    return mf.shots_video(folder, "slides")


def test_each_shot_is_one_image_record_and_search_finds_pictures(
    video: mf.ShotsVideo, tmp_path: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    pair = tiny.write_pair(tmp_path / "clip")
    flags = ["--embedder", "clip-onnx", "--clip-onnx-model-dir", str(pair)]
    out = tmp_path / "e.jsonl"
    run = vtembed("ingest", str(video.path), *flags, "--sink", f"jsonl:{out}")
    assert run.code == 0, run.text
    assert "warning" not in run.err, run.err

    stored = records(out)
    images = sorted((r for r in stored if r["modality"] == "image"), key=lambda r: r["start_sec"])
    starts = [0.0, *video.cuts]
    assert len(images) == len(starts), [r["start_sec"] for r in images]  # text or none
    for record, start in zip(images, starts, strict=True):
        assert abs(record["start_sec"] - start) <= 0.5, (record["start_sec"], start)
        assert record["text"] == "" and record.get("embedded_from") is None
        assert record["model_name"] == "clip-vit-b-32" and record["dim"] == 512
    vectors = np.array([r["embedding"] for r in images])
    assert vectors.shape == (5, 512)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[~np.eye(5, dtype=bool)].max() < 0.9999, "each shot has its own picture"

    audio = [r for r in stored if r["modality"] == "audio"]
    assert audio and all(r["embedded_from"] == "transcript" and r["text"] for r in audio)
    assert any(r["modality"] == "text" for r in stored)

    hit = vtembed(
        "search",
        "quarterly sales",
        "--sink",
        f"jsonl:{out}",
        "--modality",
        "image",
        "--no-group",
        *flags[2:],
    )  # one hit per shot: grouped, the five consecutive shots are one moment
    assert hit.code == 0, hit.text
    hits = [HIT.match(line) for line in hit.out.splitlines()]
    found = [(m["start"], m["modality"]) for m in hits if m]
    assert sorted(found) == [(f"00:{int(s):02d}", "image") for s in starts], hit.out
    thumbnails = [
        line.split("thumbnail: ", 1)[1] for line in hit.out.splitlines() if "thumbnail: " in line
    ]
    assert len(thumbnails) == len(starts) and all(Path(t).is_file() for t in thumbnails)
