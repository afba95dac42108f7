"""Inputs handed out window by window equal those planned from the whole transcript."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np

from vtembed.chunking import ChunkStream, chunk_transcript
from vtembed.clip_tokens import get_counter
from vtembed.executors.item_job import ItemJob
from vtembed.media import SAMPLE_RATE, PcmWindow, audio_segments
from vtembed.models import AudioSegment, MediaInfo, MediaItem, TextChunk, Transcript, Word
from vtembed.planning import ItemPlanner, SegmentStream
from vtembed.plugins.embedders.twelvelabs import SECTION, TwelveLabsEmbedder
from vtembed.settings import load_settings
from vtembed.summary import RunSummary


def _words(n: int, gap_every: int = 7) -> list[Word]:
    out, t = [], 0.0
    for i in range(n):
        t += 3.0 if i % gap_every == 0 and i else 0.1
        text = f" word{i}." if i % 5 == 4 else f" word{i}"
        out.append(Word(text, round(t, 3), round(t + 0.3, 3)))
        t += 0.3
    return out


def test_chunk_stream_equals_whole_transcript_for_any_split() -> None:
    words = _words(120)
    count = get_counter().count
    whole = chunk_transcript(Transcript(tuple(words)), max_tokens=12, count=count)
    for step in (1, 5, 17, 60):
        stream = ChunkStream(max_tokens=12, count=count)
        parts = []
        for start in range(0, len(words), step):
            parts.extend(stream.add(words[start : start + step]))
        assert [*parts, *stream.finish()] == whole


def test_segment_stream_equals_whole_grid_with_texts() -> None:
    words = _words(150)
    duration = words[-1].end_sec + 1.234
    info = MediaInfo(path="/x.wav", duration_sec=duration, audio_stream=0)
    transcript = Transcript(tuple(words))
    expected = [
        (
            s.start_sec,
            s.end_sec,
            "".join(w.text for w in transcript.words_between(s.start_sec, s.end_sec)).strip(),
        )
        for s in audio_segments(info, duration, 10.0)
    ]
    stream = SegmentStream(info, 10.0, "file:///x.wav")
    got = []
    edges = [23.4, 41.0, 77.7, duration]  # windows end at quiet points, not on the grid
    start = 0.0
    for edge in edges:
        inside = [w for w in words if start <= w.start_sec < edge]
        got.extend(stream.add(inside, edge))
        start = edge
    got.extend(stream.finish(duration))
    assert [(s.start_sec, s.end_sec, s.text) for s in got] == expected
    assert [s.index for s in got] == list(range(len(expected)))


def test_segment_stream_fed_word_by_word_with_reached_at_each_start() -> None:
    """As the pipeline feeds it: each Whisper segment's words, settled up to the last start."""
    words = _words(90)
    duration = words[-1].end_sec + 0.5
    info = MediaInfo(path="/x.wav", duration_sec=duration, audio_stream=0)
    whole = SegmentStream(info, 10.0, "")
    expected = [*whole.add(words, duration), *whole.finish(duration)]
    stream = SegmentStream(info, 10.0, "")
    got = []
    for start in range(0, len(words), 4):
        group = words[start : start + 4]
        got.extend(stream.add(group, group[-1].start_sec))
    got.extend(stream.finish(duration))
    assert got == expected


def test_segments_carry_their_samples_across_window_edges_when_kept() -> None:
    """Sample i of the ramp is i, so a segment's samples say exactly which span it holds."""
    duration = 47.3
    total = round(duration * SAMPLE_RATE)
    ramp = np.arange(total, dtype=np.float32)
    edges = [0, round(23.4 * SAMPLE_RATE), round(41.0 * SAMPLE_RATE), total]
    info = MediaInfo(path="/x.wav", duration_sec=duration, audio_stream=0)
    kept, plain = SegmentStream(info, 10.0, "u", keep_audio=True), SegmentStream(info, 10.0, "u")
    got: list[AudioSegment] = []
    for lo, hi in itertools.pairwise(edges):
        window = PcmWindow(lo, ramp[lo:hi])
        for stream in (kept, plain):
            stream.feed(window)
        got.extend(kept.add([], hi / SAMPLE_RATE))
        assert all(s.samples is None for s in plain.add([], hi / SAMPLE_RATE))
        assert len(kept._windows) <= 2  # windows before the last segment's end are let go
    got.extend(kept.finish(duration))
    assert [(s.start_sec, s.end_sec) for s in got][-1] == (40.0, 47.3)
    for segment in got:
        first = round(segment.start_sec * SAMPLE_RATE)
        expected = np.arange(first, round(segment.end_sec * SAMPLE_RATE), dtype=np.float32)
        assert np.array_equal(segment.samples, expected), segment
        assert not np.shares_memory(segment.samples, ramp)  # a copy: no window stays alive
    assert got[2] == got[2].without_samples() and got[2].without_samples().samples is None


def test_an_item_job_keeps_its_segments_without_their_samples() -> None:
    """The records need times and text only: the job must not hold a long item's sound."""
    item = MediaItem("m", "file:///x.wav", "x", "local")
    stages = SimpleNamespace(settings=SimpleNamespace(dry_run=False))
    job = ItemJob(item, stages=stages, summary=RunSummary("e", "m"))  # type: ignore[arg-type]
    audio = AudioSegment(0, 0.0, 1.0, "/x.wav", samples=np.ones(SAMPLE_RATE, dtype=np.float32))
    text = TextChunk("hello", 0.0, 1.0, 2)
    assert job.add([text, audio]) == 0
    kept = job.batches[0]
    assert kept == (text, audio) and audio.samples is not None
    assert isinstance(kept[1], AudioSegment) and kept[1].samples is None


def test_segments_carry_samples_only_for_audio_the_embedder_uploads() -> None:
    """TwelveLabs uploads a segment's sound, except http(s) media that `audio_mode = "url"`
    sends by URL: those segments must not hold samples nobody sends."""
    duration = 12.0
    info = MediaInfo(path="/x.wav", duration_sec=duration, audio_stream=0)
    window = PcmWindow(0, np.zeros(round(duration * SAMPLE_RATE), dtype=np.float32))

    def kept(embedder: TwelveLabsEmbedder, uri: str) -> list[bool]:
        planner = ItemPlanner(MediaItem("m", uri, "x", "url"), info, embedder, 2.0)
        planner.feed(window)
        return [
            s.samples is not None for s in planner.finish(duration) if isinstance(s, AudioSegment)
        ]

    for mode, remote_kept in (("file", True), ("url", False)):
        table = {"twelvelabs": {"api_key": "k", "audio_mode": mode}}
        embedder = TwelveLabsEmbedder(load_settings(table, None, [SECTION]))
        assert kept(embedder, "https://example.org/talk.mp3") == [remote_kept, remote_kept]
        assert kept(embedder, "file:///x.wav") == [True, True]
