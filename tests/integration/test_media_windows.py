"""Decoding in bounded windows: no window outgrows its setting, no sample or word is lost."""

from __future__ import annotations

import subprocess
from pathlib import Path

import jiwer
import numpy as np
import pytest

from tests import media_factory as mf
from vtembed.media import (
    SAMPLE_RATE,
    DecodeResult,
    encode_flac,
    encode_segment,
    pcm_windows,
    probe,
)
from vtembed.settings import WhisperSettings
from vtembed.transcriber import Transcriber

pytestmark = pytest.mark.slow  # runs Whisper or starts servers


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Path:
    return mf.long_speech_wav(tmp_path_factory.mktemp("long") / "long talk.wav", 3.0)


def test_windows_are_bounded_contiguous_and_lossless(long_wav: Path) -> None:
    info = probe(str(long_wav))
    result = DecodeResult()
    windows = list(pcm_windows(info, window_sec=30.0, result=result, search_sec=5.0))
    assert len(windows) >= 6
    assert max(len(w.samples) for w in windows) <= 30 * SAMPLE_RATE
    starts = [w.start_sample for w in windows]
    ends = [w.start_sample + len(w.samples) for w in windows]
    assert starts[0] == 0 and starts[1:] == ends[:-1]
    assert ends[-1] == result.samples
    assert result.duration_sec == pytest.approx(info.duration_sec, abs=0.05)
    whole = list(pcm_windows(info, window_sec=3600.0, result=DecodeResult()))
    assert len(whole) == 1
    assert np.array_equal(np.concatenate([w.samples for w in windows]), whole[0].samples)


@pytest.mark.parametrize("container", ["wav", "m4a", "mp3"])
def test_a_window_decoded_alone_is_the_window_of_the_whole_pass(
    long_wav: Path, tmp_path: Path, container: str
) -> None:
    """What lets a long file's windows go to different processes (`vtembed.item_windows`):
    ffmpeg's seek lands on the window's first sample, so a window decoded alone starts where
    the pass cut it and holds its samples (exactly in WAV and MP3; AAC decodes a little
    differently after a seek, but the samples line up)."""
    path = long_wav
    if container != "wav":
        path = tmp_path / f"talk.{container}"
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(long_wav), str(path)],
            check=True,
        )
    info = probe(str(path))
    windows = list(pcm_windows(info, window_sec=30.0, result=DecodeResult(), search_sec=5.0))
    assert len(windows) >= 6
    for window in windows[1:]:
        result = DecodeResult()
        [alone] = pcm_windows(
            info, 30.0, result, search_sec=5.0,
            start_sample=window.start_sample, end_sample=window.end_sample,
        )  # fmt: skip
        assert alone.start_sample == window.start_sample
        assert len(alone.samples) == len(window.samples)
        assert result.samples == window.end_sample
        if container == "wav":
            assert np.array_equal(alone.samples, window.samples)
        else:  # measured: 0.1 % of the signal apart; one sample's shift leaves far more
            apart = np.abs(alone.samples - window.samples).mean()
            assert apart < 0.01 * np.abs(window.samples).mean()
            shifted = np.abs(alone.samples[1:] - window.samples[:-1]).mean()
            assert shifted > 10 * apart


def test_window_edges_neither_lose_nor_double_words(long_wav: Path) -> None:
    info = probe(str(long_wav))
    transcriber = Transcriber(WhisperSettings())
    small = transcriber.transcribe(pcm_windows(info, 40.0, DecodeResult(), search_sec=8.0))
    big = transcriber.transcribe(pcm_windows(info, 3600.0, DecodeResult()))
    assert abs(len(small.words) - len(big.words)) <= 3
    assert jiwer.wer(big.text.lower(), small.text.lower()) <= 0.05
    times = [w.start_sec for w in small.words]
    assert times == sorted(times) and times[-1] > 150


def test_second_default_stream_is_chosen(tmp_path: Path, tools: None) -> None:
    path = mf.two_audio_streams(tmp_path, "two", speech_stream=1, other="tone")
    assert probe(str(path)).audio_stream == 1


def _decoded(flac: bytes, tmp_path: Path) -> tuple[np.ndarray, dict]:
    path = tmp_path / "segment.flac"
    path.write_bytes(flac)
    stream = next(s for s in mf.probe(path)["streams"] if s["codec_type"] == "audio")
    info = probe(str(path))
    return next(iter(pcm_windows(info, 3600.0, DecodeResult()))).samples, stream


def test_a_segment_encoded_from_samples_is_the_ffmpeg_cut(long_wav: Path, tmp_path: Path) -> None:
    """encode_flac (in this process, from decoded samples) makes the file encode_segment (an
    ffmpeg cut of the media) makes: 16 kHz mono FLAC with its length in the header, same sound."""
    info = probe(str(long_wav))
    pcm = next(iter(pcm_windows(info, 3600.0, DecodeResult()))).samples
    span = pcm[12 * SAMPLE_RATE : 22 * SAMPLE_RATE]
    ours, ours_stream = _decoded(encode_flac(span), tmp_path)
    cut, cut_stream = _decoded(encode_segment(str(long_wav), 0, 12.0, 22.0), tmp_path)
    for stream in (ours_stream, cut_stream):
        assert (stream["codec_name"], stream["sample_rate"], stream["channels"]) == (
            "flac",
            "16000",
            1,
        )
    assert int(ours_stream["duration_ts"]) == len(span) == 10 * SAMPLE_RATE
    assert len(ours) == len(cut) == len(span)
    assert np.abs(ours - span).max() <= 1 / 32768 + 1e-7  # 16-bit quantisation, nothing more
    assert np.abs(ours - cut).max() <= 2 / 32768 + 1e-7
