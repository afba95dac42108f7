"""The Python API and the CLI are one path: the same records, the same refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import vtembed
from tests.conftest import records
from vtembed.progress import Reporter

ROOT = Path(__file__).resolve().parents[2]
MEDIA = ROOT / "examples" / "media"

pytestmark = pytest.mark.slow


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def start(self, total_items: int) -> None:
        self.seen.append(("start", str(total_items)))

    def item_start(self, label: str, duration_sec: float) -> None:
        self.seen.append(("item_start", label))

    def item_progress(self, label: str, done_sec: float) -> None:
        pass

    def item_end(self, label: str) -> None:
        self.seen.append(("item_end", label))

    def error(self, label: str, message: str) -> None:
        self.seen.append(("error", label))

    def warn(self, label: str, message: str) -> None:
        self.seen.append(("warn", label))

    def info(self, message: str) -> None:
        self.seen.append(("info", message))

    def finish(self) -> None:
        self.seen.append(("finish", ""))


def test_api_and_installed_cli_write_the_same_records(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("VTEMBED_CACHE_DIR", str(cache_dir))
    events = Events()
    reporter: Reporter = events
    summary = vtembed.ingest(
        [str(MEDIA)], sink=f"jsonl:{tmp_path / 'api.jsonl'}", reporter=reporter
    )
    printed = capfd.readouterr()
    assert printed.out == "" and printed.err == "", "the API prints nothing itself"
    assert (summary.ok, summary.failed, summary.skipped) == (1, 0, 1)
    assert summary.records_written == len(records(tmp_path / "api.jsonl")) > 0
    kinds = [kind for kind, _ in events.seen]
    assert kinds[0] == "info" and "start" in kinds and kinds[-1] == "finish"
    skipped = f"skipped: {MEDIA / 'README.md'} (not an audio or video file (.md))"
    assert ("info", skipped) in events.seen
    assert ("item_start", str(MEDIA / "vtembed-demo.mp4")) in events.seen

    cli = ROOT / ".venv" / "bin" / "vtembed"
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "vtembed"]
    proc = subprocess.run(
        [*command, "ingest", str(MEDIA), "--sink", f"jsonl:{tmp_path / 'cli.jsonl'}"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "VTEMBED_CACHE_DIR": str(cache_dir), "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr

    def key(rec: dict) -> tuple:
        return rec["id"], rec["modality"], rec["start_sec"], rec["end_sec"], rec["text"]

    api = sorted(records(tmp_path / "api.jsonl"), key=key)
    by_cli = sorted(records(tmp_path / "cli.jsonl"), key=key)
    assert [key(r) for r in api] == [key(r) for r in by_cli]
    assert [r["embedding"] for r in api] == [r["embedding"] for r in by_cli]


def test_search_returns_typed_hits(tmp_path: Path, cache_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("VTEMBED_CACHE_DIR", str(cache_dir))
    sink = f"jsonl:{tmp_path / 'e.jsonl'}"
    app = vtembed.Vtembed()
    app.ingest([str(MEDIA)], sink=sink)
    # One hit per record: the demo's records all lie within 3 s of each other, one moment.
    found = app.search("a man walking his dog across the street", sink=sink, k=2, group=False)
    assert found.model_name == "all-MiniLM-L6-v2"
    assert len(found.hits) == 2
    best = found.hits[0]
    assert isinstance(best, vtembed.Hit)
    assert best.media_uri == (MEDIA / "vtembed-demo.mp4").resolve().as_uri()
    assert "dog" in best.text and best.start_sec < 5 and best.score > found.hits[1].score - 1e-9
    assert "embedding" not in best.record
    text_only = app.search("a red car", sink=sink, k=5, modality="text")
    assert text_only.hits and {h.modality for h in text_only.hits} == {"text"}
    unknown = app.search("a red car", sink=sink, media="./not-there.mp4")
    assert unknown.hits == [] and unknown.unknown_media
    with pytest.raises(vtembed.UsageError, match="modality 'smell'"):
        app.search("a red car", sink=sink, modality="smell")


def test_transcribe_returns_words_and_renders(cache_dir: Path) -> None:
    result = vtembed.transcribe(MEDIA / "vtembed-demo.mp4")
    words = result.transcript.words
    assert [w.text.strip(" .,").lower() for w in words[:3]] == ["a", "man", "is"]
    assert 1.0 < words[0].start_sec < 2.5
    assert result.render("srt").startswith("1\n00:00:0")
    with pytest.raises(vtembed.UsageError, match="no such file"):
        vtembed.transcribe(MEDIA / "missing.mp4")
    with pytest.raises(vtembed.MediaError):
        vtembed.transcribe(MEDIA / "README.md")
