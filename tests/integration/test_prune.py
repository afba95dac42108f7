"""`vtembed prune` through the real CLI: real ingests into JSONL and LanceDB, files deleted on
disk, a feed and a URL on a loopback server that fail, a state file from before `origin`."""

from __future__ import annotations

import os
import pty
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import media_factory as mf
from tests.conftest import Run, records
from tests.http_media_server import MediaServer, Route
from vtembed.plugins.sinks.lancedb import LanceDbSink

pytestmark = pytest.mark.slow  # runs Whisper or starts servers

SENTENCES = {
    "dog.wav": "A man is walking his dog.",
    "car.wav": "A red car slows down.",
    "sub/rain.wav": "It started to rain.",
}
RSS_TYPE = "application/rss+xml"


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Path:
    """Three clips of a few seconds: two in the folder, one in a subfolder."""
    root = tmp_path_factory.mktemp("clips")
    for name, text in SENTENCES.items():
        mf.speech_wav(root / name, text)
    return root


def media_folder(clips: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    shutil.copytree(clips, folder)
    return folder


def stored(spec: str) -> Counter[str]:
    """Records per media URI in the store."""
    scheme, _, target = spec.partition(":")
    if scheme == "jsonl":
        return Counter(r["media"]["uri"] for r in records(Path(target)))
    model = LanceDbSink.stored_model(target)
    if model is None:
        return Counter()
    handle = LanceDbSink.open_for_search(target, model_name=model[0], dim=model[1])
    try:
        return Counter(handle.table.to_arrow().column("media_uri").to_pylist())
    finally:
        handle.close()


def record_ids(spec: str) -> set[str]:
    scheme, _, target = spec.partition(":")
    if scheme == "jsonl":
        return {r["id"] for r in records(Path(target))}
    handle = LanceDbSink.open_for_search(target, model_name="all-MiniLM-L6-v2", dim=384)
    try:
        return set(handle.table.to_arrow().column("id").to_pylist())
    finally:
        handle.close()


def state_uris(spec: str) -> set[str]:
    target = Path(spec.partition(":")[2])
    db = sqlite3.connect(target.with_name(target.name + ".state.sqlite"))
    try:
        return {uri for (uri,) in db.execute("SELECT uri FROM items")}
    finally:
        db.close()


def in_terminal(cache_dir: Path, answer: str, *args: str) -> tuple[int, str]:
    """Run the CLI with a terminal as stdin, as a person at a shell, and type `answer`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")}
    env["VTEMBED_CACHE_DIR"] = str(cache_dir)
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode() + b"\n")
        proc = subprocess.run(
            [sys.executable, "-m", "vtembed", *args],
            stdin=terminal,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("scheme", ["jsonl", "lancedb"])
def test_prune_a_deleted_file_then_a_deleted_folder(
    scheme: str, clips: Path, tmp_path: Path, vtembed: Callable[..., Run]
) -> None:
    media = media_folder(clips, tmp_path)
    spec = f"{scheme}:{tmp_path / ('e.jsonl' if scheme == 'jsonl' else 'e.lance')}"
    first = vtembed("ingest", str(media), "--sink", spec)
    assert first.code == 0 and first.summary["items"]["ok"] == 3, first.text
    car, dog, rain = (media / n for n in ("car.wav", "dog.wav", "sub/rain.wav"))
    before = stored(spec)
    assert set(before) == {car.as_uri(), dog.as_uri(), rain.as_uri()}
    ids_before = record_ids(spec)

    car.unlink()
    pruned = vtembed("prune", str(media), "--sink", spec, "--yes")
    assert pruned.code == 0, pruned.text
    assert f"gone: {car} ({before[car.as_uri()]} records)" in pruned.out
    assert f"pruned 1 item ({before[car.as_uri()]} records)" in pruned.out
    after = stored(spec)
    assert after == Counter({u: n for u, n in before.items() if u != car.as_uri()})
    assert len(record_ids(spec)) == len(ids_before) - before[car.as_uri()]
    assert record_ids(spec) < ids_before
    assert state_uris(spec) == {dog.as_uri(), rain.as_uri()}
    again = vtembed("ingest", str(media), "--sink", spec)
    assert again.code == 0 and again.summary["items"]["ok"] == 0, again.text
    assert again.summary["items"]["done_before"] == 2 and stored(spec) == after

    shutil.rmtree(media)
    whole = vtembed("prune", str(media), "--sink", spec, "--yes")
    assert whole.code == 0, whole.text
    assert f"{media}: does not exist" in whole.out and "pruned 2 items" in whole.out
    assert stored(spec) == Counter() and state_uris(spec) == set()


KILLED_AFTER_WRITE = """
import os

from vtembed import hookimpl
from vtembed.plugins.sinks.jsonl import JsonlSink


class KilledAfterWrite(JsonlSink):
    scheme = "jsonl-killed"

    def write(self, records):
        written = super().write(records)  # appended and fsynced
        os._exit(137)  # as a kill -9 would, before the run marks the item done


@hookimpl
def vtembed_register_sinks(register):
    register(KilledAfterWrite)
"""


def test_records_of_a_run_killed_while_writing_are_pruned(
    clips: Path, tmp_path: Path, vtembed: Callable[..., Run]
) -> None:
    """The state knows an item before its records reach the sink (the fault, a kill between
    the two, is staged by a sink plugin that exits once its write is on disk)."""
    media = tmp_path / "media"
    media.mkdir()
    dog = media / "dog.wav"
    shutil.copy(clips / "dog.wav", dog)
    (tmp_path / "killed_sink.py").write_text(KILLED_AFTER_WRITE)
    env = {"PYTHONPATH": str(tmp_path), "VTEMBED_PLUGINS": "killed_sink"}
    out = tmp_path / "e.jsonl"
    killed = vtembed("ingest", str(media), "--sink", f"jsonl-killed:{out}", env=env, process=True)
    assert killed.code == 137, killed.text
    written = stored(f"jsonl:{out}")
    assert written[dog.as_uri()] > 0 and state_uris(f"jsonl:{out}") == {dog.as_uri()}

    dog.unlink()
    pruned = vtembed("prune", str(media), "--sink", f"jsonl:{out}", "--yes")
    assert pruned.code == 0, pruned.text
    assert f"gone: {dog} ({written[dog.as_uri()]} records)" in pruned.out
    assert stored(f"jsonl:{out}") == Counter() and state_uris(f"jsonl:{out}") == set()


def test_asks_first_and_a_state_file_from_before_origin_still_works(
    clips: Path, tmp_path: Path, cache_dir: Path, vtembed: Callable[..., Run]
) -> None:
    media = media_folder(clips, tmp_path)
    shutil.rmtree(media / "sub")
    out = tmp_path / "e.jsonl"
    spec = f"jsonl:{out}"
    assert vtembed("ingest", str(media), "--sink", spec).code == 0
    state = out.with_name(out.name + ".state.sqlite")
    db = sqlite3.connect(state)
    db.execute("ALTER TABLE items DROP COLUMN origin")  # as an older vtembed wrote it
    db.commit()
    db.close()
    dog = media / "dog.wav"
    dog.unlink()
    before = stored(spec)

    script = vtembed("prune", str(media), "--sink", spec)  # stdin is no terminal: refuse
    assert script.code == 2 and "run again with --yes" in script.err, script.text
    assert "Traceback" not in script.text and stored(spec) == before
    listed = vtembed("prune", str(media), "--sink", spec, "--dry-run")
    assert listed.code == 0 and f"gone: {dog} (" in listed.out, listed.text
    assert "dry run: nothing removed" in listed.out and stored(spec) == before
    code, said = in_terminal(cache_dir, "n", "prune", str(media), "--sink", spec)
    assert code == 0 and "Remove 1 item (" in said and "? [y/N]" in said, said
    assert "nothing removed" in said and stored(spec) == before
    code, said = in_terminal(cache_dir, "y", "prune", str(media), "--sink", spec)
    assert code == 0 and "pruned 1 item" in said, said
    assert set(stored(spec)) == {(media / "car.wav").as_uri()}
    db = sqlite3.connect(state)
    assert [c[1] for c in db.execute("PRAGMA table_info(items)")][-1] == "origin"
    db.close()


def rss(server: MediaServer, *episodes: str) -> bytes:
    items = "".join(
        f'<item><title>{name}</title><guid>{name}</guid><enclosure url="{server.url(f"/{name}")}"'
        ' type="audio/wav"/></item>'
        for name in episodes
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}'.encode() + (
        b"</channel></rss>"
    )


def test_a_feed_or_url_that_fails_keeps_its_items_and_a_url_answering_404_is_gone(
    clips: Path, tmp_path: Path, vtembed: Callable[..., Run]
) -> None:
    server = MediaServer().start()
    try:
        for name in ("dog.wav", "car.wav", "rain.wav"):
            body = (clips / ("sub/" if name == "rain.wav" else "") / name).read_bytes()
            server.add(f"/{name}", Route(body, content_type="audio/wav", etag=f'"{name}"'))
        feed = server.add("/feed.xml", Route(rss(server, "dog.wav", "car.wav"), RSS_TYPE))
        talk = server.url("/rain.wav")
        spec = f"jsonl:{tmp_path / 'e.jsonl'}"
        env = {"VTEMBED_URL__CACHE_DIR": str(tmp_path / "downloads")}
        first = vtembed("ingest", feed, talk, "--sink", spec, env=env)
        assert first.code == 0 and first.summary["items"]["ok"] == 3, first.text
        before = stored(spec)

        server.add("/feed.xml", Route(status=503))
        server.add("/rain.wav", Route(status=503))
        failed = vtembed("prune", feed, talk, "--sink", spec, "--yes", env=env)
        assert failed.code == 1, failed.text
        assert f"error: {feed}: cannot read the feed: HTTP 503" in failed.err
        assert "nothing to prune" in failed.out and stored(spec) == before

        server.add("/feed.xml", Route(rss(server, "dog.wav"), RSS_TYPE))  # car.wav dropped
        dropped = vtembed("prune", feed, "--sink", spec, "--yes", env=env)
        assert dropped.code == 0, dropped.text
        assert f"gone: {server.url('/car.wav')}" in dropped.out
        assert set(stored(spec)) == {server.url("/dog.wav"), talk}

        server.add("/rain.wav", Route(status=404))
        gone = vtembed("prune", talk, "--sink", spec, "--yes", env=env)
        assert gone.code == 0, gone.text
        assert f"{talk}: HTTP 404 Not Found, so what is stored from it is gone" in gone.out
        assert f"gone: {talk} ({before[talk]} records)" in gone.out
        assert set(stored(spec)) == {server.url("/dog.wav")}
        assert talk not in state_uris(spec)
    finally:
        server.stop()
    after = stored(spec)
    unreachable = vtembed("prune", feed, "--sink", spec, "--yes", env=env)
    assert unreachable.code == 1 and f"error: {feed}: cannot read the feed" in unreachable.err
    assert stored(spec) == after
