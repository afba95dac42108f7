"""Bad input: one clear line per bad file, the others still done, meaningful exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import media_factory as mf
from tests.conftest import records
from tests.http_media_server import MediaServer, Route
from tests.record_factory import make_record
from vtembed.plugins.sinks.jsonl import JsonlSink
from vtembed.plugins.sinks.lancedb import LanceDbSink
from vtembed.store import Store

pytestmark = pytest.mark.slow  # runs Whisper or starts servers


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def test_bad_files_beside_good_ones(tmp_path: Path, tools: None, vtembed) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "archive"
    good = mf.speech_media(folder, "good talk", "mp4", text=mf.DEMO_TEXT)
    bad = {
        "no audio": mf.no_audio_video(folder, "no audio"),
        "zero": mf.zero_bytes(folder / "empty.mp4"),
        "not media": mf.not_media(folder / "notes.mp4"),
        "truncated": mf.truncated(good, folder / "truncated.mp4"),
        "broken link": folder / "moved away.mp4",
    }
    bad["broken link"].symlink_to(folder / "no such target.mp4")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "readme.txt").write_text("hello")
    out = tmp_path / "out.jsonl"
    run = vtembed("ingest", str(folder), "--sink", f"jsonl:{out}")
    assert run.code == 1, run.text
    assert "Traceback" not in run.text
    errors = _error_lines(run.err)
    assert len(errors) == len(bad), run.err
    for path in bad.values():
        assert sum(str(path) in line for line in errors) == 1, (path, errors)
    assert any("no audio stream" in line for line in errors)
    assert run.summary["items"] == {"ok": 1, "failed": 5, "skipped": 2, "done_before": 0}
    assert {e["item"] for e in run.summary["errors"]} == {str(p) for p in bad.values()}
    good_records = records(out)
    assert good_records and all(r["media"]["title"] == "good talk" for r in good_records)
    # A rerun while the bad files are still there: still exit 1, nothing written twice.
    again = vtembed("ingest", str(folder), "--sink", f"jsonl:{out}")
    assert again.code == 1 and again.summary["items"]["done_before"] == 1
    assert records(out) == good_records


def test_undecodable_tail_keeps_what_decodes(tmp_path: Path, tools: None, vtembed) -> None:  # type: ignore[no-untyped-def]
    path = mf.truncated_tail_mp3(tmp_path, "bad tail")
    out = tmp_path / "out.jsonl"
    run = vtembed("ingest", str(path), "--sink", f"jsonl:{out}")
    warnings = [line for line in run.err.splitlines() if line.startswith("warning: ")]
    assert run.code == 0, run.text
    assert any(str(path) in w and "kept what decoded" in w for w in warnings), run.err
    assert [r for r in records(out) if r["modality"] == "text"]


def test_silent_and_music_files_give_no_text(tmp_path: Path, tools: None, vtembed) -> None:  # type: ignore[no-untyped-def]
    silent = mf.silent_media(tmp_path / "in", "silent", 20.0)
    music = mf.music_only(tmp_path / "in", "music", 20.0)
    out = tmp_path / "out.jsonl"
    run = vtembed("ingest", str(tmp_path / "in"), "--sink", f"jsonl:{out}")
    assert run.code == 0, run.text
    assert run.summary["items"]["ok"] == 2
    assert [r["text"] for r in records(out)] == []
    assert silent.exists() and music.exists()


def test_speech_after_silence_and_music_is_stamped_at_30s(
    tmp_path: Path, tools: None, vtembed
) -> None:  # type: ignore[no-untyped-def]
    placed = mf.speech_after_music(tmp_path / "in", "late speech", speech_start=30.0)
    out = tmp_path / "out.jsonl"
    run = vtembed("ingest", str(placed.path), "--sink", f"jsonl:{out}")
    assert run.code == 0, run.text
    text = sorted(
        (r for r in records(out) if r["modality"] == "text"), key=lambda r: r["start_sec"]
    )
    assert text, run.text
    assert text[0]["start_sec"] == pytest.approx(30.0, abs=1.0)
    assert text[-1]["end_sec"] == pytest.approx(placed.speech_end, abs=1.0)
    audio = [r for r in records(out) if r["modality"] == "audio"]
    assert min(r["start_sec"] for r in audio) >= 29.0  # no words invented in the music


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "/no/such/folder"], "no such file"),
        (["ingest", ".", "--sink", "parquet:x"], "unknown sink 'parquet'"),
        (["ingest", ".", "--embedder", "nope"], "unknown embedder 'nope'"),
        (["ingest", ".", "--model", "nope"], "unknown model 'nope'"),
        (["ingest"], "nothing to ingest"),
        (["ingest", ".", "--frobnicate"], "No such option"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    args: list[str],
    message: str,
    tmp_path: Path,
    vtembed,  # type: ignore[no-untyped-def]
) -> None:
    run = vtembed(*args)
    assert run.code == 2, run.text
    assert message in run.text and "Traceback" not in run.text


@pytest.mark.parametrize("store", ["jsonl:out/x.jsonl", "milvus:out/archive.db"])
@pytest.mark.parametrize(
    ("mistake", "message"),
    [(["no/such/folder"], "no such file"), ([".", "--since", "2026-13-45"], "not a date")],
)
def test_a_usage_error_creates_no_store(  # type: ignore[no-untyped-def]
    store: str, mistake: list[str], message: str, tmp_path: Path, vtembed
) -> None:
    """A mistyped path or date stops the run before the sink is opened: opening can create
    the store (a Milvus Lite folder, a JSONL file's folder and lock), and nothing may be left."""
    scheme, _, target = store.partition(":")
    locators = [str(tmp_path / m) if m != "." else str(tmp_path) for m in mistake[:1]]
    run = vtembed("ingest", *locators, *mistake[1:], "--sink", f"{scheme}:{tmp_path / target}")
    assert run.code == 2 and message in run.err and "Traceback" not in run.text, run.text
    assert not (tmp_path / "out").exists()


def test_sink_holding_another_model_is_a_usage_error(tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "e.jsonl"
    out.write_text(
        json.dumps({"id": "x", "media": {"id": "m"}, "model_name": "other", "dim": 8}) + "\n"
    )
    (tmp_path / "media").mkdir()
    run = vtembed("ingest", str(tmp_path / "media"), "--sink", f"jsonl:{out}")
    assert run.code == 2 and "holds other (8 dims)" in run.err, run.text


def test_empty_folder_is_nothing_to_do(tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "empty").mkdir()
    run = vtembed("ingest", str(tmp_path / "empty"), "--sink", f"jsonl:{tmp_path / 'o.jsonl'}")
    assert run.code == 0 and "nothing to do" in run.err, run.text


def test_glob_takes_only_matching_files(tmp_path: Path, tools: None, vtembed) -> None:  # type: ignore[no-untyped-def]
    media = tmp_path / "media"
    wav = mf.speech_media(media / "a", "take me", "wav", text=mf.DEMO_TEXT)
    mf.speech_media(media / "b", "leave me", "mp4", text=mf.DEMO_TEXT)
    out = tmp_path / "o.jsonl"
    run = vtembed("ingest", str(media / "**" / "*.wav"), "--sink", f"jsonl:{out}")
    assert run.code == 0, run.text
    assert {r["media"]["uri"] for r in records(out)} == {wav.resolve().as_uri()}


def test_named_file_that_is_not_media_is_an_error(tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    notes = tmp_path / "notes.txt"
    notes.write_text("just words")
    run = vtembed("ingest", str(notes), "--sink", f"jsonl:{tmp_path / 'o.jsonl'}")
    assert run.code == 1 and f"error: {notes}: not readable as media" in run.err, run.text


def test_from_file_reads_locators_and_skips_comments(tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    media = tmp_path / "media"
    wav = mf.speech_media(media, "listed", "wav", text=mf.DEMO_TEXT)
    listing = tmp_path / "list.txt"
    listing.write_text(f"# archive list\n\n  {wav}  \n# {tmp_path / 'missing.mp4'}\n")
    out = tmp_path / "o.jsonl"
    run = vtembed("ingest", "--from-file", str(listing), "--sink", f"jsonl:{out}")
    assert run.code == 0, run.text
    assert {r["media"]["title"] for r in records(out)} == {"listed"}
    missing = vtembed("ingest", "--from-file", str(tmp_path / "nope.txt"))
    assert missing.code == 2 and "nope.txt" in missing.err
    (tmp_path / "comments.txt").write_text("# nothing here yet\n\n")
    nothing = vtembed("ingest", "--from-file", str(tmp_path / "comments.txt"))
    assert nothing.code == 2 and "nothing to ingest" in nothing.err


NAN_EMBEDDER = """
from vtembed import hookimpl
from vtembed.plugins.embedders.local import LocalEmbedder


class NanOnRain(LocalEmbedder):
    name = "nan-on-rain"

    async def embed(self, batch):
        vectors = await super().embed(batch)
        nan = [float("nan")] * self.dim
        return [nan if "rain" in x.text.lower() else v for x, v in zip(batch, vectors)]


@hookimpl
def vtembed_register_embedders(register):
    register(NanOnRain)
"""


def test_an_embedder_answering_nan_fails_that_item_on_a_vector_database(
    tmp_path: Path, tools: None, vtembed
) -> None:  # type: ignore[no-untyped-def]
    """The vectors are checked before any sink sees them (LanceDB used to fail the item with a
    Python traceback as its message): the item fails with one line naming the input, and the
    other item is stored. The fault, an embedder answering NaN, is staged by an embedder
    plugin: the real model cannot produce it on demand."""
    folder = tmp_path / "media"
    dog = mf.speech_wav(folder / "dog.wav", "A man is walking his dog.")
    rain = mf.speech_wav(folder / "rain.wav", "It started to rain.")
    (tmp_path / "nan_embedder.py").write_text(NAN_EMBEDDER)
    env = {"PYTHONPATH": str(tmp_path), "VTEMBED_PLUGINS": "nan_embedder"}
    table = tmp_path / "a.lance"
    run = vtembed(
        "ingest", str(folder), "--sink", f"lancedb:{table}", "--embedder", "nan-on-rain", env=env
    )
    assert run.code == 1, run.text
    assert "Traceback" not in run.text
    errors = _error_lines(run.err)
    assert len(errors) == 1 and str(rain) in errors[0], run.err
    said = "embedder nan-on-rain returned NaN or infinity for the text chunk at 00:00\u2013"
    assert said in errors[0], errors
    assert run.summary["items"]["ok"] == 1 and run.summary["items"]["failed"] == 1
    handle = LanceDbSink.open_for_search(str(table), model_name="all-MiniLM-L6-v2", dim=384)
    try:
        uris = set(handle.table.to_arrow().column("media_uri").to_pylist())
    finally:
        handle.close()
    assert uris == {dog.as_uri()}


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        (["--model", "nope"], "unknown model 'nope'"),
        (["--whisper-model", "no/such/model"], "whisper.model no/such/model: no such directory"),
        (["--whisper-model", "."], "whisper.model .: no model.bin in that directory"),
    ],
)
def test_an_unknown_model_stops_before_discovery_touches_the_archive(  # type: ignore[no-untyped-def]
    mistake: list[str], message: str, tmp_path: Path, vtembed
) -> None:
    """A mistyped --model or Whisper model is known at once: discovery (walking folders,
    probing files, asking servers) must not run first, nor may the store be made. Here the
    archive is a URL whose server counts its requests."""
    server = MediaServer().start()
    try:
        url = server.add("/talk.mp4", Route(body=b"\x00" * 64))
        run = vtembed("ingest", url, *mistake, "--sink", f"jsonl:{tmp_path / 'out' / 'x.jsonl'}")
        assert run.code == 2 and message in run.err and "Traceback" not in run.text, run.text
        assert sum(server.heads.values()) + sum(server.gets.values()) == 0
        assert not (tmp_path / "out").exists()
    finally:
        server.stop()


@pytest.mark.parametrize("refusal", ["another model", "in use"])
def test_a_sink_that_refuses_stops_before_discovery(tmp_path: Path, refusal: str, vtembed) -> None:  # type: ignore[no-untyped-def]
    """A sink holding another model's vectors, or one another run is writing, is refused before
    discovery walks and probes the archive (here a URL whose server counts its requests)."""
    out = tmp_path / "out.jsonl"
    marengo = Store.open(JsonlSink, str(out), model_name="Marengo-retrieval-2.7", dim=1024)
    if refusal == "another model":
        marengo.sink.write([make_record("old", 0, [1.0] * 1024, model="Marengo-retrieval-2.7")])
        marengo.close()
        said = "holds Marengo-retrieval-2.7 (1024 dims), not all-MiniLM-L6-v2 (384 dims)"
    else:
        said = "is in use by another vtembed run"
    server = MediaServer().start()
    try:
        url = server.add("/talk.mp4", Route(body=b"\x00" * 64))
        run = vtembed("ingest", url, "--sink", f"jsonl:{out}", "--embedder", "local")
        assert run.code == 2 and f"error: sink jsonl:{out} {said}" in run.err, run.text
        assert "Traceback" not in run.text
        assert sum(server.heads.values()) + sum(server.gets.values()) == 0
    finally:
        server.stop()
        marengo.close()
