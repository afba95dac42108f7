"""Transcripts as assets, through the real CLI: captions (a sidecar .srt, a subtitle stream made
with ffmpeg) stand in for Whisper, a kept transcript is reused by a rerun and by `reembed`, a
changed file is never served an old one, and prune takes them with the item's records.

"Runs no Whisper" is shown the strict way: the Whisper model class is replaced by one that fails
the item if anything loads it (the real model cannot be made to refuse on demand).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import records

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("tools")]

SRT = (
    "1\n00:00:00,500 --> 00:00:02,200\nThe lighthouse keeper counts ships.\n\n"
    "2\n00:00:03,000 --> 00:00:05,400\nA storm is coming from the north.\n"
)
STREAM_SRT = "1\n00:00:01,000 --> 00:00:03,500\nPenguins march across the ice.\n"
SPEECH = (
    "The museum opens at nine in the morning. Visitors can see the old steam engine. "
    "After lunch the guide shows the painting of the harbour, and at five the doors close."
)


def ffmpeg(*args: str | Path) -> None:
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)]
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def captioned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 6 s videos of a tone (nothing Whisper could read): one with a sidecar, one with a
    subtitle stream muxed in."""
    root = tmp_path_factory.mktemp("captioned")
    plain = root.parent / f"{root.name}-plain.mkv"
    ffmpeg(
        "-f", "lavfi", "-i", "color=c=navy:s=160x120:d=6:r=10", "-f", "lavfi", "-i", "sine=d=6",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", plain,
    )  # fmt: skip
    shutil.copy(plain, root / "lighthouse.mkv")
    (root / "lighthouse.srt").write_text(SRT, encoding="utf-8")
    sub = root.parent / f"{root.name}-stream.srt"
    sub.write_text(STREAM_SRT, encoding="utf-8")
    ffmpeg(
        "-i", plain, "-i", sub, "-map", "0:v", "-map", "0:a", "-map", "1:s", "-c:v", "copy",
        "-c:a", "copy", "-c:s", "srt", "-metadata:s:s:0", "language=eng", root / "penguins.mkv",
    )  # fmt: skip
    return root


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spoken")
    wav = root / "museum.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), SPEECH], check=True)
    return root


@pytest.fixture
def no_whisper(monkeypatch: pytest.MonkeyPatch) -> None:
    from vtembed.transcriber import Transcriber

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Whisper was loaded")

    monkeypatch.setattr(Transcriber, "__init__", refuse)


def by_media(found: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in found:
        out.setdefault(Path(r["media"]["uri"]).name, []).append(r)
    return out


def test_captions_stand_in_for_whisper_with_their_times(
    vtembed, captioned: Path, tmp_path: Path, no_whisper: None
) -> None:
    out = tmp_path / "c.jsonl"
    run = vtembed("ingest", str(captioned), "--sink", f"jsonl:{out}")
    assert run.code == 0, run.text
    assert "skipped:" not in run.text  # a sidecar is not "not an audio or video file"
    media = by_media(records(out))
    texts = {name: [r for r in rs if r["modality"] == "text"] for name, rs in media.items()}
    (first,) = texts["lighthouse.mkv"]  # both cues fit one 77-token chunk
    assert first["text"] == "The lighthouse keeper counts ships. A storm is coming from the north."
    assert abs(first["start_sec"] - 0.5) <= 0.1 and abs(first["end_sec"] - 5.4) <= 0.1
    assert first["transcript_source"] == "sidecar"
    (second,) = texts["penguins.mkv"]
    assert second["text"] == "Penguins march across the ice."
    assert abs(second["start_sec"] - 1.0) <= 0.1 and abs(second["end_sec"] - 3.5) <= 0.1
    assert second["transcript_source"] == "stream"
    shown = vtembed("transcript", str(captioned / "lighthouse.mkv"), "--sink", f"jsonl:{out}",
                    "--format", "srt")  # fmt: skip
    assert shown.code == 0, shown.text
    assert "00:00:03,000 --> 00:00:05,400\nA storm is coming from the north." in shown.out
    assert "sidecar transcript" in shown.err
    missing = vtembed("transcript", "/nowhere.mp4", "--sink", f"jsonl:{out}")
    assert missing.code == 2 and "no kept transcript" in missing.err
    audio = [r for r in media["lighthouse.mkv"] if r["modality"] == "audio"]
    assert audio and all(r["transcript_source"] == "sidecar" for r in audio)
    assert "lighthouse keeper" in audio[0]["text"]


def test_a_broken_sidecar_is_one_line_and_whisper_transcribes(
    vtembed, spoken: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    shutil.copy(spoken / "museum.wav", folder / "talk.wav")
    (folder / "talk.srt").write_bytes(b"\x00\x01 not captions at all")
    run = vtembed("ingest", str(folder), "--sink", f"jsonl:{tmp_path / 'b.jsonl'}")
    assert run.code == 0, run.text
    lines = [ln for ln in run.text.splitlines() if "talk.srt" in ln]
    assert len(lines) == 1 and "transcribing with Whisper instead" in lines[0], run.text
    found = records(tmp_path / "b.jsonl")
    assert {r["transcript_source"] for r in found} == {"whisper"}
    assert "steam engine" in " ".join(r["text"] for r in found if r["modality"] == "text")


def test_kept_transcript_is_reused_reembedded_and_pruned(
    vtembed, spoken: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "a.jsonl"
    first = vtembed("ingest", str(spoken), "--sink", f"jsonl:{out}")
    assert first.code == 0, first.text
    before = records(out)
    assets = tmp_path / "a.jsonl.assets"
    assert len([p for p in assets.iterdir() if p.is_dir()]) == 1

    from vtembed.transcriber import Transcriber

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Whisper was loaded")

    with monkeypatch.context() as patched:
        patched.setattr(Transcriber, "__init__", refuse)
        out.unlink()  # the records are gone: the rerun redoes the item, from its kept words
        again = vtembed("ingest", str(spoken), "--sink", f"jsonl:{out}")
        assert again.code == 0, again.text
        assert _essence(records(out)) == _essence(before)

        # Another model's limit: 20 tokens a chunk. Still no Whisper.
        config = tmp_path / "small.toml"
        config.write_text('[models."all-MiniLM-L6-v2"]\ntext_token_limit = 20\n')
        new = tmp_path / "b.jsonl"
        moved = vtembed("--config", str(config), "reembed", "--from", f"jsonl:{out}",
                        "--sink", f"jsonl:{new}")  # fmt: skip
        assert moved.code == 0, moved.text
        texts = [r for r in records(new) if r["modality"] == "text"]
        old_texts = [r for r in before if r["modality"] == "text"]
        assert len(texts) > len(old_texts) and all(r["tokens"] <= 20 for r in texts)
        assert " ".join(r["text"] for r in texts).split() == (
            " ".join(r["text"] for r in old_texts).split()
        )
        assert (tmp_path / "b.jsonl.assets").is_dir()  # the new store stands alone
        dry = vtembed("--config", str(config), "reembed", "--from", f"jsonl:{out}", "--sink",
                      f"jsonl:{tmp_path / 'dry.jsonl'}", "--dry-run", "--summary-json",
                      str(tmp_path / "dry.json"))  # fmt: skip
        assert dry.code == 0, dry.text
        counted = json.loads((tmp_path / "dry.json").read_text())["requests"]
        assert counted["text"] == len(texts) and counted["audio"] > 0, counted
        assert not list(tmp_path.glob("dry.jsonl*")), "a dry run writes nothing"
        hits = vtembed("--config", str(config), "search", "steam engine", "--sink",
                       f"jsonl:{new}", "--json")  # fmt: skip
        assert hits.code == 0, hits.text
        assert "museum.wav" in json.loads(hits.out)[0]["media"]["uri"]

        wav = spoken / "museum.wav"
        stat = wav.stat()
        os.utime(wav, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # "changed"
        changed = vtembed("ingest", str(spoken), "--sink", f"jsonl:{out}")
        assert changed.code == 1 and "Whisper was loaded" in changed.text  # not the old words

    wav.unlink()
    pruned = vtembed("prune", str(spoken), "--sink", f"jsonl:{out}", "--yes")
    assert pruned.code == 0, pruned.text
    assert not [p for p in assets.iterdir() if p.is_dir()]


def _essence(found: list[dict]) -> list[tuple]:
    return sorted((r["id"], r["text"], r["start_sec"], r["end_sec"]) for r in found)
