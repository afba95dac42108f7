"""How search hits read: time ranges (with hours), jump links, shortened text."""

from __future__ import annotations

from vtembed.hits import clock, format_hit, jump, offset, shorten, time_range


def test_clock_minutes_and_hours() -> None:
    assert clock(0) == "00:00"
    assert clock(61.9) == "01:01"
    assert clock(3599.99) == "59:59"
    assert clock(3600) == "1:00:00"
    assert clock(36000 + 62) == "10:01:02"
    assert clock(-1) == "00:00"


def test_time_range_covers_the_span() -> None:
    assert time_range(1.62, 13.22) == "00:01\u201300:14"
    assert time_range(3598.5, 3608.0) == "59:58\u20131:00:08"
    assert time_range(7200, 7210) == "2:00:00\u20132:00:10"


def test_offset_rounds_down_to_tenths() -> None:
    assert offset(0) == "0"
    assert offset(12.0) == "12"
    assert offset(1.69) == "1.6"
    assert offset(3725.25) == "3725.2"


def test_jump_local_file_gives_link_and_ffplay() -> None:
    uri = "file:///tmp/my%20talks/it%27s.mp4"
    link, play = jump(uri, 62.37)
    assert link == "file:///tmp/my%20talks/it%27s.mp4#t=62.3"
    assert play == "ffplay -ss 62.3 '/tmp/my talks/it'\"'\"'s.mp4'"


def test_jump_url_replaces_a_fragment() -> None:
    assert jump("https://example.org/ep1.mp3", 5) == ["https://example.org/ep1.mp3#t=5"]
    assert jump("https://example.org/ep1.mp3#t=9", 5.5) == ["https://example.org/ep1.mp3#t=5.5"]
    assert jump("s3://bucket/x.mp4", 5) == ["s3://bucket/x.mp4"]


def test_shorten() -> None:
    assert shorten("  a  short\ntext ") == "a short text"
    long = "word " * 50
    out = shorten(long, 40)
    assert len(out) <= 40 and out.endswith("\u2026") and "  " not in out
    assert out[:-1].split() == ["word"] * len(out[:-1].split())
    assert shorten("x" * 150, 100) == "x" * 99 + "\u2026"


def test_format_hit() -> None:
    hit = {
        "media": {"uri": "file:///m/dog.wav", "title": "dog"},
        "modality": "text",
        "start_sec": 3661.4,
        "end_sec": 3670.1,
        "text": "A man is walking his dog.",
        "score": 0.63849,
    }
    lines = format_hit(hit).splitlines()
    assert lines[0] == "0.638  dog  1:01:01\u20131:01:11  text"
    assert lines[1].strip() == "A man is walking his dog."
    assert lines[2].strip() == "file:///m/dog.wav#t=3661.4"
    assert lines[3].strip() == "ffplay -ss 3661.4 /m/dog.wav"


def test_a_grouped_hit_shows_its_span_modalities_and_cosine() -> None:
    hit = {
        "score": 1.0,
        "vector_score": 0.6384,
        "media": {"title": "dog walk", "uri": "file:///m/dog.wav"},
        "modality": "audio",
        "start_sec": 1.6,
        "end_sec": 9.0,
        "span_start_sec": 0.0,
        "span_end_sec": 12.5,
        "modalities": ["audio", "text"],
        "records": [{}, {}],
        "text": "A man walks his dog.",
    }
    head, words, link, _ = format_hit(hit).splitlines()
    assert words.strip() == "A man walks his dog."
    assert head == "1.000  dog walk  00:00\u201300:13  audio, text (2 records)  (cosine 0.638)"
    assert link.strip() == "file:///m/dog.wav#t=1.6"  # the best record's start, not the span's
    one = {**hit, "records": [{}], "modalities": ["text"], "vector_score": None}
    assert format_hit(one).splitlines()[0].endswith("00:00\u201300:13  text")
