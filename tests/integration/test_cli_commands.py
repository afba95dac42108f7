"""The smaller commands, as a user runs them: transcribe, plugins, doctor, a third-party plugin."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import media_factory as mf

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Path:
    return mf.speech_media(
        tmp_path_factory.mktemp("talk"), "talk", "mp4", text=mf.DEMO_TEXT, lead_silence=2.0
    )


@pytest.mark.slow
def test_transcribe_formats(talk: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    txt = vtembed("transcribe", str(talk))
    assert txt.code == 0, txt.text
    assert "[00:00:0" in txt.out and "walking his dog" in txt.out.lower()
    srt = vtembed("transcribe", str(talk), "--format", "srt")
    assert srt.out.startswith("1\n00:00:0") and " --> " in srt.out and "," in srt.out.split("\n")[1]
    vtt = vtembed("transcribe", str(talk), "--format", "vtt")
    assert vtt.out.startswith("WEBVTT\n\n")
    data = json.loads(vtembed("transcribe", str(talk), "--format", "json").out)
    first = data["words"][0]
    assert first["start_sec"] == pytest.approx(2.0, abs=0.6)
    assert all(a["start_sec"] <= b["start_sec"] for a, b in itertools.pairwise(data["words"]))
    assert data["cues"][0]["text"].lower().startswith("a man is walking")


def test_transcribe_bad_input(tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    missing = vtembed("transcribe", str(tmp_path / "nope.mp4"))
    assert missing.code == 2 and "no such file" in missing.err
    notes = tmp_path / "notes.mp4"
    notes.write_text("hello")
    bad = vtembed("transcribe", str(notes))
    assert bad.code == 1 and str(notes) in bad.err and "Traceback" not in bad.text
    fmt = vtembed("transcribe", str(notes), "--format", "docx")
    assert fmt.code == 2


def test_plugins_lists_builtins_with_origin(vtembed) -> None:  # type: ignore[no-untyped-def]
    run = vtembed("plugins", "--json")
    assert run.code == 0, run.text
    rows = {(r["kind"], r["name"]): r for r in json.loads(run.out)}
    for key in (("source", "local"), ("embedder", "local"), ("sink", "jsonl")):
        assert rows[key]["origin"] == "vtembed" and rows[key]["version"] == "0.1.0"
    table = vtembed("plugins")
    assert "jsonl" in table.out and "embedder" in table.out


def test_doctor_reports_everything_ok(tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    run = vtembed("doctor")
    assert run.code == 0, run.text
    for what in ("ffmpeg version", "ffprobe version", "Whisper tiny.en", "CLIP", "MiniLM"):
        assert what in run.out, run.out
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    if os.access(locked, os.W_OK):  # root ignores permissions: use a path under a file instead
        locked = tmp_path / "a-file"
        locked.write_text("")
    bad = vtembed("doctor", env={"VTEMBED_SINK": f"jsonl:{locked}/sub/out.jsonl"})
    assert bad.code == 1 and "PROBLEM" in bad.out and "choose another" in bad.out, bad.out
    flag = vtembed("doctor", "--sink", f"jsonl:{locked}/sub/out.jsonl")
    assert flag.code == 1 and "PROBLEM" in flag.out, flag.out
    no_model = vtembed("doctor", env={"VTEMBED_WHISPER__MODEL": str(tmp_path)})
    said = f"PROBLEM  Whisper model {tmp_path}: no model.bin in that directory"
    assert no_model.code == 1 and said in no_model.out, no_model.out


def test_search_and_prune_take_plugin_settings_as_flags(tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    """A store written with a non-default table prefix is found again with the same flag."""
    db = tmp_path / "a.lance"
    bad = vtembed("search", "x", "--sink", f"lancedb:{db}", "--lancedb-table-prefix", "no spaces")
    assert bad.code == 2 and "table_prefix" in bad.err, bad.text
    for command in ("search", "prune", "doctor"):
        assert "--lancedb-table-prefix" in vtembed(command, "--help").out
    # Search finds no media: the sources' settings (downloads, feeds) are not its flags.
    search_help = vtembed("search", "--help").out
    assert "--twelvelabs-base-url" in search_help
    assert "--url-" not in search_help and "--podcast-" not in search_help
    assert "--url-max-size-mb" in vtembed("prune", "--help").out


@pytest.mark.slow
def test_example_plugin_loads_through_its_entry_point(tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT / "examples" / "vtembed-example-plugin"),
        ],
        check=True,
        capture_output=True,
    )
    env = {"PYTHONPATH": str(target)}
    rows = json.loads(vtembed("plugins", "--json", env=env).out)
    csv_row = next(r for r in rows if r["kind"] == "sink" and r["name"] == "csv")
    assert csv_row["origin"] == "vtembed-example-plugin" and csv_row["version"] == "0.1.0"
    assert vtembed("csv-count", str(tmp_path / "none.csv"), env=env).out.startswith("0 rows")
    # The allow-list turns third-party distributions off; the built-ins stay.
    limited = json.loads(vtembed("plugins", "--json", env={**env, "VTEMBED_LOAD_PLUGINS": ""}).out)
    assert "csv" not in {r["name"] for r in limited} and "jsonl" in {r["name"] for r in limited}
    # And it really works as a sink in an ingest.
    out = tmp_path / "index.csv"
    run = vtembed("ingest", str(ROOT / "examples" / "media"), "--sink", f"csv:{out}", env=env)
    assert run.code == 0, run.text
    assert "walking his dog" in out.read_text().lower()


def test_doctor_names_the_missing_twelvelabs_key(vtembed) -> None:  # type: ignore[no-untyped-def]
    run = vtembed("doctor", "--embedder", "twelvelabs", env={"TWELVELABS_API_KEY": ""})
    assert run.code == 1 and "all good" not in run.out, run.out
    assert "PROBLEM  TwelveLabs API key: not set: export TWELVELABS_API_KEY" in run.out, run.out
    keyed = vtembed("doctor", "--embedder", "twelvelabs", env={"TWELVELABS_API_KEY": "sk-s3cr3t"})
    assert "ok       TwelveLabs API key set" in keyed.out and "s3cr3t" not in keyed.text


@pytest.mark.slow
def test_example_csv_sink_is_pruned_by_its_resume_state(tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    """The CSV sink cannot say which model it holds: prune finds it in the resume state."""
    target = tmp_path / "site"
    plugin = str(ROOT / "examples" / "vtembed-example-plugin")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--target", str(target), plugin], check=True, capture_output=True)
    env = {"PYTHONPATH": str(target)}
    media = tmp_path / "media"
    media.mkdir()
    (media / "demo.mp4").write_bytes(
        (ROOT / "examples" / "media" / "vtembed-demo.mp4").read_bytes()
    )
    out = tmp_path / "index.csv"
    assert vtembed("ingest", str(media), "--sink", f"csv:{out}", env=env).code == 0
    assert vtembed("csv-count", str(out), env=env).out.startswith("3 rows")
    (media / "demo.mp4").unlink()
    run = vtembed("prune", str(media), "--sink", f"csv:{out}", "--yes", env=env)
    assert run.code == 0 and "pruned 1 item (3 records)" in run.out, run.text
    assert vtembed("csv-count", str(out), env=env).out.startswith("0 rows")
    again = vtembed("prune", str(media), "--sink", f"csv:{out}", "--yes", env=env)
    assert "the csv store holds no records" in again.out, again.text
