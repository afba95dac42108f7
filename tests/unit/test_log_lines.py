"""A warning vtembed's modules or plugins log reaches the user as `warning: ...`; other
libraries' records keep their logger's name."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from vtembed.cli.log_lines import LineFormatter


def _record(name: str) -> logging.LogRecord:
    return logging.LogRecord(name, logging.WARNING, __file__, 1, "two %s", ("things",), None)


def test_own_records_read_as_lines_and_others_keep_their_name() -> None:
    formatter = LineFormatter(logging.BASIC_FORMAT)
    assert formatter.format(_record("vtembed.plugins.sinks.jsonl")) == "warning: two things"
    assert formatter.format(_record("vtembed")) == "warning: two things"
    assert formatter.format(_record("vtembedding")) == "WARNING:vtembedding:two things"
    assert formatter.format(_record("faiss")) == "WARNING:faiss:two things"


def test_a_sink_warning_prints_as_a_warning_line(tmp_path: Path) -> None:
    out = tmp_path / "e.jsonl"
    line = {"id": "x", "media": {"id": "m"}, "model_name": "all-MiniLM-L6-v2", "dim": 384}
    out.write_text(json.dumps(line) + "\n" + '{"id": "torn', encoding="utf-8")
    empty = tmp_path / "nothing"
    empty.mkdir()
    argv = [sys.executable, "-m", "vtembed", "ingest", str(empty), "--sink", f"jsonl:{out}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert f"warning: {out}: dropped an incomplete last line (12 bytes)" in done.stderr.splitlines()
    assert "WARNING:" not in done.stderr, done.stderr
