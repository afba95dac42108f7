"""Pure functions: audio segment grid, quiet cut points, subtitle cues and stamps."""

from __future__ import annotations

import numpy as np
import pytest

from vtembed.media import _quiet_cut, audio_segments
from vtembed.models import MediaInfo, Transcript, Word
from vtembed.subtitles import cues, render

INFO = MediaInfo(path="/x.wav", duration_sec=0.0, audio_stream=1)


def test_segments_tile_the_audio_and_the_last_is_shorter() -> None:
    segs = audio_segments(INFO, 25.3, 10.0)
    assert [(s.start_sec, s.end_sec) for s in segs] == [(0.0, 10.0), (10.0, 20.0), (20.0, 25.3)]
    assert [s.index for s in segs] == [0, 1, 2]
    assert all(s.audio_stream == 1 and s.path == "/x.wav" for s in segs)


@pytest.mark.parametrize("duration", [0.0, 0.0005])
def test_no_audio_means_no_segments(duration: float) -> None:
    assert audio_segments(INFO, duration, 10.0) == []


def test_exact_multiple_has_no_empty_tail() -> None:
    assert [s.end_sec for s in audio_segments(INFO, 30.0, 10.0)] == [10.0, 20.0, 30.0]


def test_quiet_cut_finds_the_silence() -> None:
    rng = np.random.default_rng(0)
    buffer = rng.normal(0, 0.3, 16_000 * 20).astype(np.float32)
    buffer[16_000 * 15 : 16_000 * 15 + 3_200] = 0.0  # 200 ms of silence at 15 s
    cut = _quiet_cut(buffer, target=16_000 * 18, search=16_000 * 6)
    assert 16_000 * 15 <= cut <= 16_000 * 15 + 3_200


def _w(text: str, start: float, end: float) -> Word:
    return Word(text, start, end)


def test_cues_break_at_sentences_and_pauses() -> None:
    t = Transcript(
        (
            _w(" Hello", 0.0, 0.4),
            _w(" there.", 0.4, 0.9),
            _w(" Next", 1.0, 1.3),
            _w(" words", 1.3, 1.6),
            _w(" after", 4.0, 4.3),
            _w(" pause", 4.3, 4.8),
        )
    )
    assert [(c.text, c.start_sec, c.end_sec) for c in cues(t)] == [
        ("Hello there.", 0.0, 0.9),
        ("Next words", 1.0, 1.6),
        ("after pause", 4.0, 4.8),
    ]


def test_srt_and_vtt_stamps() -> None:
    t = Transcript((_w(" Late", 3725.5, 3726.25),))
    assert "01:02:05,500 --> 01:02:06,250" in render(t, "srt")
    assert "01:02:05.500 --> 01:02:06.250" in render(t, "vtt")
