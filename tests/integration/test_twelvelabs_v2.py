"""The TwelveLabs embedder on the Embed API v2 (marengo3.0, marengo3.5) against a strict fake on
127.0.0.1 that validates every body with the SDK's own request types and injects throttling,
server errors and dropped connections."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests import media_factory as mf
from tests.conftest import records
from tests.twelvelabs_v2_fake import FakeTwelveLabsV2

pytestmark = pytest.mark.slow  # runs Whisper and starts servers

KEY = "tlk_V2_SECRET_never_shown"
FAST_RETRIES = {
    "VTEMBED_TWELVELABS__BACKOFF_MAX_SEC": "2",
    "VTEMBED_TWELVELABS__TIMEOUT_SEC": "5",
    "VTEMBED_TWELVELABS__MAX_ATTEMPTS": "6",
}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Path:
    folder = tmp_path_factory.mktemp("tl2") / "media"
    mf.shots_video(folder, "slides", speech=mf.SPEECH_TEXT)
    mf.speech_media(folder, "talk", "wav", text=mf.OTHER_TEXT)
    return folder


def _run(vtembed, fake: FakeTwelveLabsV2, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    base = fake.start()
    try:
        return vtembed(
            *args,
            "--embedder",
            "twelvelabs",
            env={
                "TWELVELABS_API_KEY": KEY,
                "TWELVELABS_BASE_URL": base,
                **FAST_RETRIES,
                **(env or {}),
            },
        )
    finally:
        fake.stop()


def test_marengo_3_0_gives_every_modality_once_through_faults(
    media: Path, tmp_path: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "m3.jsonl"
    fake = FakeTwelveLabsV2(api_key=KEY, faults=("429", "500", "drop"), retry_after_sec=1)
    run = _run(
        vtembed, fake, "ingest", str(media), "--model", "marengo3.0", "--sink", f"jsonl:{out}"
    )
    assert run.code == 0, run.text
    assert fake.violations == []
    recs = records(out)
    assert max(Counter(r["id"] for r in recs).values()) == 1
    by_modality = Counter(r["modality"] for r in recs)
    assert by_modality["text"] >= 2 and by_modality["audio"] >= 3
    assert by_modality["image"] == len(mf.SHOTS)  # every shot, with or without text on it
    # Each shot (all under 10 s) is one clip of moving picture: TwelveLabs' own view of it.
    clips = sorted((r["start_sec"], r["end_sec"]) for r in recs if r["modality"] == "video")
    starts = [0.0]
    for length, _, _ in mf.SHOTS[:-1]:
        starts.append(starts[-1] + length)
    assert len(clips) == len(mf.SHOTS)
    for (start, end), shot_start in zip(clips, starts, strict=True):
        assert abs(start - shot_start) <= 0.5 and 0 < end - start <= 10.0
    for r in recs:
        assert r["model_name"] == "marengo3.0" and r["dim"] == 512 == len(r["embedding"])
        assert np.linalg.norm(r["embedding"]) == pytest.approx(1.0, abs=1e-4)
        if r["modality"] == "text":
            assert r["embedding"] == pytest.approx(
                FakeTwelveLabsV2.expected_vector("text", r["text"], dim=512), abs=1e-6
            )
    folder = next((tmp_path / "m3.jsonl.frames").iterdir())
    keyframes = [p for p in folder.glob("*.jpg") if not p.name.endswith(".thumb.jpg")]
    images = sorted(tuple(r["embedding"]) for r in recs if r["modality"] == "image")
    expected = sorted(
        tuple(FakeTwelveLabsV2.expected_vector("image", p.read_bytes(), dim=512)) for p in keyframes
    )
    assert np.allclose(images, expected, atol=1e-6)
    ok = [a for a in fake.arrivals if a.answer == "ok"]
    assert len(ok) == len(recs) == len({a.key for a in fake.arrivals})
    by_key: dict[str, list] = {}
    for a in fake.arrivals:
        by_key.setdefault(a.key, []).append(a)
    for tries in by_key.values():
        assert [t.answer for t in tries] == ["429", "500", "drop", "ok"]
        assert tries[1].at - tries[0].at >= 1.0  # never sooner than Retry-After
    assert run.summary["requests"]["video"] == len(clips)
    assert KEY not in run.out + run.err + out.read_text() + json.dumps(run.summary)


def test_marengo_3_5_stores_the_chosen_dimension_and_search_uses_it(
    media: Path, tmp_path: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "m35.jsonl"
    talk = str(media / "talk.wav")
    flags = ("--model", "marengo3.5", "--twelvelabs-embedding-dimension", "256")
    run = _run(
        vtembed, FakeTwelveLabsV2(api_key=KEY), "ingest", talk, *flags, "--sink", f"jsonl:{out}"
    )
    assert run.code == 0, run.text
    recs = records(out)
    assert recs and {(r["model_name"], r["dim"], len(r["embedding"])) for r in recs} == {
        ("marengo3.5", 256, 256)
    }
    tokens = run.summary["requests"]["input_tokens"]
    assert tokens["text"] > 0 and tokens["audio"] > 0
    assert "input tokens counted by twelvelabs" in run.err
    text = next(r for r in recs if r["modality"] == "text")
    # No dimension flag: search asks for the 256 dims the store holds.
    found = _run(
        vtembed,
        FakeTwelveLabsV2(api_key=KEY),
        "search",
        text["text"],
        "--sink",
        f"jsonl:{out}",
        "--json",
    )
    assert found.code == 0, found.text
    hits = json.loads(found.out)
    assert hits[0]["id"] == text["id"] and hits[0]["score"] == pytest.approx(1.0, abs=1e-4)


def test_a_wrong_answer_fails_the_item_and_writes_nothing(
    media: Path, tmp_path: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    for switch, message in [
        ("wrong_dim", "513-dim"),
        ("missing_data", "without data"),
        ("unknown_option", "unknown embedding_option"),
    ]:
        out = tmp_path / f"{switch}.jsonl"
        fake = FakeTwelveLabsV2(api_key=KEY, **{switch: True})
        talk = str(media / "talk.wav")
        run = _run(vtembed, fake, "ingest", talk, "--model", "marengo3.0", "--sink", f"jsonl:{out}")
        assert run.code == 1 and message in run.err, (switch, run.text)
        assert records(out) == []
