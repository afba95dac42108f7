"""Progress without a terminal: a heartbeat line every 10 s of the run, none for short work."""

from __future__ import annotations

import pytest

from vtembed import progress


def test_progress_lines_come_every_ten_seconds_from_the_start(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    reporter = progress.PlainReporter()
    reporter.start(1)
    reporter.item_start("talk.mp4", 600)
    for at, sec in [(1.0, 5), (9.0, 40), (10.5, 60), (15.0, 90), (21.0, 120)]:
        now[0] = 1000.0 + at
        reporter.item_progress("talk.mp4", sec)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "[1/1] talk.mp4 (600 s of media)",
        "    talk.mp4: transcribed up to 60 s",
        "    talk.mp4: transcribed up to 120 s",
    ]
