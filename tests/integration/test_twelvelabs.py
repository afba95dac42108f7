"""The TwelveLabs embedder against a real HTTP server on 127.0.0.1 that checks the wire format
and injects throttling, server errors, slow answers and dropped connections."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from tests import media_factory as mf
from tests.conftest import records
from tests.http_media_server import MediaServer, Route
from tests.twelvelabs_fake import FakeTwelveLabs

pytestmark = pytest.mark.slow  # runs Whisper or starts servers

KEY = "tlk_SECRET_do_not_print_123"
FAST_RETRIES = {
    "VTEMBED_TWELVELABS__BACKOFF_MAX_SEC": "2",
    "VTEMBED_TWELVELABS__TIMEOUT_SEC": "2.5",  # well below the fake's slow answers (4 s), and
    # far above an ok answer even on a loaded 2-core machine (1.5 s left little room there)
    "VTEMBED_TWELVELABS__MAX_ATTEMPTS": "8",
}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Path:
    folder = tmp_path_factory.mktemp("tl") / "media"
    mf.speech_media(folder, "talk one", "mp4", text=mf.SPEECH_TEXT)
    mf.speech_media(folder, "talk two", "wav", text=mf.DEMO_TEXT, lead_silence=11.0)
    return folder


def _ingest(
    vtembed,
    target: Path,
    out: Path,
    *options: str,
    key: str = KEY,  # type: ignore[no-untyped-def]
    root: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    **fake_kwargs: object,
):
    """Run `vtembed ingest --embedder twelvelabs` against a fresh fake service; return both."""
    fake = FakeTwelveLabs(api_key=KEY, **fake_kwargs)  # type: ignore[arg-type]
    env = {
        "TWELVELABS_API_KEY": key,
        "TWELVELABS_BASE_URL": fake.start(),
        **FAST_RETRIES,
        **(env or {}),
    }
    try:
        run = vtembed(
            *root,
            "ingest",
            str(target),
            "--embedder",
            "twelvelabs",
            "--sink",
            f"jsonl:{out}",
            *options,
            env=env,
        )
    finally:
        fake.stop()
    return run, fake


def test_every_record_arrives_once_through_faults(media: Path, tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "tl.jsonl"
    # --verbose: debug logging on, and the key must stay out of every log line too.
    run, fake = _ingest(
        vtembed,
        media,
        out,
        root=("--verbose",),
        faults=("429", "500", "503-date", "slow", "drop"),
        retry_after_sec=1.0,
    )
    assert run.code == 0, run.text
    assert fake.violations == []
    recs = records(out)
    assert max(Counter(r["id"] for r in recs).values()) == 1
    ok = [a for a in fake.arrivals if a.answer == "ok"]
    unheard = f"answers the client did not wait for: {fake.unheard}"
    assert len(recs) == len(ok) == len({a.key for a in fake.arrivals}), unheard
    for r in recs:
        assert r["model_name"] == "Marengo-retrieval-2.7" and r["dim"] == 1024
        assert len(r["embedding"]) == 1024 and "embedded_from" not in r
        if r["modality"] == "text":
            assert r["embedding"] == FakeTwelveLabs.vector_for(r["text"], 1024)
            assert r["tokens"] <= 77
        elif r["modality"] == "audio":
            assert r["end_sec"] - r["start_sec"] <= 10.0
    # The mp4 has a picture: its keyframe went as a JPEG image_file, through the same faults.
    images = [r for r in recs if r["modality"] == "image"]
    # Every attempt carried the JPEG: five faults, then ok.
    assert len(images) == 1 and fake.images == [(160, 120)] * 6
    assert all(r["text"] == "" and r["media"]["title"] == "talk one" for r in images)
    # Every audio segment is embedded from its sound, silent ones too (talk two starts at 11 s).
    two = sorted(
        r["start_sec"]
        for r in recs
        if r["media"]["title"] == "talk two" and r["modality"] == "audio"
    )
    assert two[0] == 0.0 and two[1] == 10.0
    # Each retry after a 429 or a 503 waited at least what Retry-After asked.
    by_key: dict[str, list] = {}
    for a in fake.arrivals:
        by_key.setdefault(a.key, []).append(a)
    for tries in by_key.values():
        assert [t.answer for t in tries] == ["429", "500", "503-date", "slow", "drop", "ok"]
        assert tries[1].at - tries[0].at >= 1.0
        assert tries[3].at - tries[2].at >= 2.0
    # The key appears nowhere a user or a log can see.
    summary = json.dumps(run.summary)
    assert KEY not in run.out + run.err + out.read_text() + summary


def test_permanent_4xx_fails_the_item_and_rerun_redoes_it(
    media: Path, tmp_path: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "tl.jsonl"
    first, _ = _ingest(vtembed, media, out, refuse_text_containing="park")
    assert first.code == 1, first.text
    assert "HTTP 400 text_refused: we do not embed that" in first.err
    assert first.summary["items"]["ok"] == 1 and first.summary["items"]["failed"] == 1
    assert {r["media"]["title"] for r in records(out)} == {"talk one"}
    second, _ = _ingest(vtembed, media, out)
    assert second.code == 0, second.text
    assert second.summary["items"]["done_before"] == 1
    recs = records(out)
    assert max(Counter(r["id"] for r in recs).values()) == 1
    assert {r["media"]["title"] for r in recs} == {"talk one", "talk two"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"wrong_dim": True}, "1025-dim"), ({"not_json": True}, "not JSON")],
)
def test_bad_answers_are_item_errors(
    kwargs: dict, message: str, media: Path, tmp_path: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "tl.jsonl"
    run, _ = _ingest(vtembed, media / "talk two.wav", out, **kwargs)
    assert run.code == 1 and message in run.err, run.text
    assert records(out) == []


def test_missing_key_is_a_usage_error_before_any_work(media: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    run = vtembed("ingest", str(media), "--embedder", "twelvelabs", env={"TWELVELABS_API_KEY": ""})
    assert run.code == 2 and "TWELVELABS_API_KEY is not set" in run.err, run.text
    assert "transcribed" not in run.err


def test_key_alone_does_not_switch_the_embedder(media: Path, tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    run = vtembed(
        "ingest",
        str(media / "talk two.wav"),
        "--sink",
        f"jsonl:{tmp_path / 'o.jsonl'}",
        env={"TWELVELABS_API_KEY": KEY},
    )
    assert run.code == 0, run.text
    assert "add --embedder twelvelabs" in run.err and KEY not in run.err
    assert {r["model_name"] for r in records(tmp_path / "o.jsonl")} == {"all-MiniLM-L6-v2"}


def test_dry_run_sends_nothing_and_counts_requests(media: Path, tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "tl.jsonl"
    run, fake = _ingest(
        vtembed, media, out, "--dry-run", "--twelvelabs-price-audio-per-minute", "0.5", key=""
    )
    assert run.code == 0, run.text
    assert fake.arrivals == [] and records(out) == []
    requests = run.summary["requests"]
    assert requests["text"] >= 2 and requests["audio"] >= 5 and requests["image"] >= 1
    assert "would send" in run.err and "estimated cost" in run.err


def test_keyframes_are_sent_as_jpeg_image_files(tmp_path: Path, tools: None, vtembed) -> None:  # type: ignore[no-untyped-def]
    """One image request per shot, with or without text on it (Marengo embeds the picture, not
    its text), each a JPEG of the video's size; the records carry the vectors the service gave
    for those very files, at the shots' times. A dry run counts the same requests and prices
    them."""
    video = mf.shots_video(tmp_path / "media", "slides", speech=None)
    out = tmp_path / "tl.jsonl"
    priced = ("--twelvelabs-price-image-per-1k", "4", "--twelvelabs-price-text-per-1k", "1")
    dry, _ = _ingest(vtembed, video.path, out, "--dry-run", *priced, key="")
    shots = len(video.cuts) + 1
    assert dry.code == 0, dry.text
    assert dry.summary["requests"]["image"] == shots
    assert f"and {shots} image requests for 1 item" in dry.err
    assert f"estimated cost {shots * 4 / 1000:.2f}" in dry.err, dry.err

    run, fake = _ingest(vtembed, video.path, out, faults=("429", "500"), retry_after_sec=0.2)
    assert run.code == 0, run.text
    assert fake.violations == [] and fake.images == [(320, 240)] * shots * 3
    images = sorted(
        (r for r in records(out) if r["modality"] == "image"), key=lambda r: r["start_sec"]
    )
    for record, start in zip(images, [0.0, *video.cuts], strict=True):
        assert abs(record["start_sec"] - start) <= 0.5, (record["start_sec"], start)
        assert record["text"] == "" and "embedded_from" not in record
    folder = tmp_path / "tl.jsonl.frames" / images[0]["media"]["id"]
    keyframes = sorted(p for p in folder.glob("*.jpg") if not p.name.endswith(".thumb.jpg"))
    sent = {hashlib.sha256(p.read_bytes()).hexdigest() for p in keyframes}
    assert len(sent) == shots
    assert sorted(map(tuple, (r["embedding"] for r in images))) == sorted(
        tuple(FakeTwelveLabs.vector_for(key, 1024)) for key in sent
    )
    tries = Counter(a.key for a in fake.arrivals)
    assert all(tries[key] == 3 for key in sent)  # 429, 500, then ok: retried as audio is


def test_url_media_can_be_sent_as_audio_url_with_offsets(
    media: Path, tmp_path: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    server = MediaServer().start()
    try:
        url = server.add(
            "/talk.wav",
            Route(
                body=(media / "talk two.wav").read_bytes(), content_type="audio/wav", etag='"v1"'
            ),
        )
        out = tmp_path / "tl.jsonl"
        run, fake = _ingest(vtembed, url, out, "--twelvelabs-audio-mode", "url")
    finally:
        server.stop()
    assert run.code == 0, run.text
    assert fake.violations == []
    sent = sorted(a.key for a in fake.arrivals if a.key.startswith("http"))
    assert sent == [f"{url}@0.000", f"{url}@10.000"]  # one request per 10 s segment, by offset
    audio = [r for r in records(out) if r["modality"] == "audio"]
    assert sorted(r["start_sec"] for r in audio) == [0.0, 10.0]
    assert {r["media"]["uri"] for r in audio} == {url}


NO_FFMPEG_CUTS = """
import vtembed.plugins.embedders.twelvelabs as twelvelabs
from vtembed.errors import MediaError


def refuse(path, stream, start_sec, end_sec):
    raise MediaError("an ffmpeg cut was asked for")


twelvelabs.encode_segment = refuse
"""


def test_overlapped_uploads_are_encoded_from_decoded_audio(
    media: Path, tmp_path: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    """No ffmpeg cut per segment while the pipeline overlaps (a plugin module makes any cut an
    error); without overlap the segments are cut from the file, so that run fails on them."""
    (tmp_path / "no_cuts.py").write_text(NO_FFMPEG_CUTS)
    plugin = {"PYTHONPATH": str(tmp_path), "VTEMBED_PLUGINS": "no_cuts"}
    out = tmp_path / "tl.jsonl"
    overlapped, fake = _ingest(vtembed, media, out, env=plugin)
    assert overlapped.code == 0, overlapped.text
    assert fake.violations == []  # every upload a FLAC of at most 10 s, its length in its header
    audio = [r for r in records(out) if r["modality"] == "audio"]
    assert len(audio) >= 4 and overlapped.summary["requests"]["audio"] == len(audio)
    sequential, _ = _ingest(
        vtembed, media, tmp_path / "seq.jsonl", env={**plugin, "VTEMBED_PIPELINE__OVERLAP": "false"}
    )
    assert sequential.code == 1 and "an ffmpeg cut was asked for" in sequential.err


def test_marengo_3_0_speaks_v1_3_when_its_protocol_is_set_back(
    media: Path, tmp_path: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "v1.toml"
    config.write_text('[models."marengo3.0"]\nprotocol = "twelvelabs-embed-v1"\n')
    out = tmp_path / "m3-v1.jsonl"
    run, fake = _ingest(
        vtembed,
        media / "talk two.wav",
        out,
        "--model",
        "marengo3.0",
        root=("--config", str(config)),
        model_name="marengo3.0",
        dim=512,
        token_limit=500,
    )
    assert run.code == 0, run.text
    assert fake.violations == [] and fake.arrivals  # multipart /embed, not /embed-v2
    recs = records(out)
    assert recs and {(r["model_name"], r["dim"]) for r in recs} == {("marengo3.0", 512)}
