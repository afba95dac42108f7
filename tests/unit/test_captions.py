"""Caption files as cues, and cues as chunks: tolerant of messy files, strict about times."""

from __future__ import annotations

import itertools
import json
import random

import pytest

from vtembed.caption_words import CueChunkStream, CueWord, chunk_cues, cue_words, transcript
from vtembed.captions import CaptionError, Cue, caption_format, read_captions
from vtembed.clip_tokens import get_counter
from vtembed.errors import MediaError
from vtembed.models import Transcript, Word
from vtembed.subtitles import render


def count(text: str) -> int:
    return get_counter().count(text)


def spans(cues: list[Cue]) -> list[tuple[float, float, str]]:
    return [(round(c.start_sec, 3), round(c.end_sec, 3), c.text) for c in cues]


SRT = (
    "1\n00:00:01,000 --> 00:00:02,500\nHello there\n\n"
    "2\n00:00:03,000 --> 00:00:04,250\nGeneral\nKenobi\n"
)


def test_srt_with_bom_and_crlf_reads_like_a_clean_one() -> None:
    messy = b"\xef\xbb\xbf" + SRT.replace("\n", "\r\n").encode()
    expected = [(1.0, 2.5, "Hello there"), (3.0, 4.25, "General Kenobi")]
    assert spans(read_captions(messy, "srt")) == expected
    assert spans(read_captions(SRT, None)) == expected


def test_styling_tags_and_entities_are_removed_but_plain_angles_stay() -> None:
    srt = (
        "1\n00:00:01,000 --> 00:00:02,000\n{\\an8}<i>Tom</i> &amp; <b>Jerry</b>\n"
        '<font color="#ff0">x < y</font> &lt;3\n'
    )
    assert [c.text for c in read_captions(srt, "srt")] == ["Tom & Jerry x < y <3"]


def test_windows_1252_bytes_are_decoded() -> None:
    data = "1\n00:00:01,000 --> 00:00:02,000\ncaf\u00e9 \u2013 na\u00efve\n".encode("cp1252")
    assert read_captions(data, "srt")[0].text == "caf\u00e9 \u2013 na\u00efve"


def test_webvtt_blocks_ids_settings_and_tags() -> None:
    vtt = (
        "\ufeffWEBVTT - a title\nKind: captions\n\nSTYLE\n::cue { color: yellow }\n\n"
        "NOTE written by hand\n\nintro\n00:01.000 --> 00:02.000 align:start position:10%\n"
        "<v Bob>Hi <c.yellow>there</c></v>\n\nNOTE between cues\n\n"
        "cue-2\n00:00:03.500 --> 00:00:05.000\n"
        "<00:00:03.500><c>timed</c><00:00:04.000><c> words</c>\n"
    )
    assert spans(read_captions(vtt, "vtt")) == [(1.0, 2.0, "Hi there"), (3.5, 5.0, "timed words")]


def test_a_text_line_with_two_inline_timestamps_is_not_a_timing_line() -> None:
    vtt = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n"
        "hello<00:00:01.500><c> big</c><00:00:02.000><c> world</c>\n"
    )
    assert spans(read_captions(vtt, None)) == [(1.0, 4.0, "hello big world")]


def test_srt_without_blank_lines_between_cues_or_with_empty_cues() -> None:
    srt = (
        "1\n00:00:01,000 --> 00:00:02,000\nfirst\n2\n00:00:03,000 --> 00:00:04,000\n\n"
        "3\n00:00:05,000 --> 00:00:06,000\n   \n4\n00:00:07,000 --> 00:00:08,000\nlast\n"
    )
    assert spans(read_captions(srt, "srt")) == [(1.0, 2.0, "first"), (7.0, 8.0, "last")]


def test_short_fields_and_fractions_are_read_as_decimals() -> None:
    srt = "1\n1:02:03,4 --> 1:02:04,50\nshort\n"
    assert spans(read_captions(srt, "srt")) == [(3723.4, 3724.5, "short")]


def test_cues_out_of_order_are_sorted_and_an_end_before_start_is_clamped() -> None:
    srt = (
        "1\n00:00:05,000 --> 00:00:06,000\nlate\n\n2\n00:00:01,000 --> 00:00:02,000\nearly\n\n"
        "3\n00:00:09,000 --> 00:00:08,000\nbackwards\n"
    )
    assert spans(read_captions(srt, "srt")) == [
        (1.0, 2.0, "early"),
        (5.0, 6.0, "late"),
        (9.0, 9.0, "backwards"),
    ]


def test_a_cue_stored_twice_or_copied_touching_is_one_cue() -> None:
    vtt = (
        "WEBVTT\n\n00:01.000 --> 00:03.000\nSame words\n\n00:01.000 --> 00:03.000\nSame words\n\n"
        "00:03.000 --> 00:03.010\nsame  WORDS\n\n00:03.010 --> 00:05.000\nNew words\n"
    )
    assert spans(read_captions(vtt, "vtt")) == [(1.0, 3.01, "Same words"), (3.01, 5.0, "New words")]


def test_rolling_captions_keep_only_their_new_lines() -> None:
    vtt = (
        "WEBVTT\n\n00:00.000 --> 00:02.000\nwe choose to go\n\n"
        "00:02.000 --> 00:04.000\nwe choose to go\nto the moon\n\n"
        "00:04.000 --> 00:06.000\nto the moon\nin this decade\n\n"
        "00:05.500 --> 00:06.500\nin this decade\n"
    )
    assert spans(read_captions(vtt, "vtt")) == [
        (0.0, 2.0, "we choose to go"),
        (2.0, 4.0, "to the moon"),
        (4.0, 6.5, "in this decade"),
    ]


def test_three_line_roll_up_compares_with_what_the_cue_before_showed() -> None:
    vtt = (
        "WEBVTT\n\n00:00.000 --> 00:01.000\nA one\n\n00:01.000 --> 00:02.000\nA one\nB two\n\n"
        "00:02.000 --> 00:03.000\nA one\nB two\nC three\n\n"
        "00:03.000 --> 00:04.000\nB two\nC three\nD four\n"
    )
    assert [c.text for c in read_captions(vtt, "vtt")] == ["A one", "B two", "C three", "D four"]


def test_json_word_segments_said_twice_stay_and_a_segment_stored_twice_goes() -> None:
    segments = [
        {"startTime": 0.0, "endTime": 0.3, "body": "no,"},
        {"startTime": 0.3, "endTime": 0.6, "body": "no,"},
        {"startTime": 0.6, "endTime": 0.9, "body": "never"},
        {"startTime": 0.6, "endTime": 0.9, "body": "never"},
    ]
    cues = read_captions(json.dumps({"version": "1.0.0", "segments": segments}), "json")
    assert spans(cues) == [(0.0, 0.3, "no,"), (0.3, 0.6, "no,"), (0.6, 0.9, "never")]


def test_a_line_said_again_after_a_pause_and_overlapping_speakers_are_kept() -> None:
    srt = (
        "1\n00:00:01,000 --> 00:00:02,000\nNo.\n\n2\n00:00:04,000 --> 00:00:05,000\nNo.\n\n"
        "3\n00:00:04,500 --> 00:00:06,000\n[door slams]\n"
    )
    assert spans(read_captions(srt, "srt")) == [
        (1.0, 2.0, "No."),
        (4.0, 5.0, "No."),
        (4.5, 6.0, "[door slams]"),
    ]


@pytest.mark.parametrize(
    ("line", "number"),
    [("00:00:0x,000 --> 00:00:02,500", 2), ("00:00:01,000 -->", 2), ("00:00:01 --> soon", 2)],
)
def test_an_unreadable_timing_is_one_clear_line(line: str, number: int) -> None:
    srt = f"1\n{line}\nHello\n\n2\n00:00:03,000 --> 00:00:04,000\nWorld\n"
    with pytest.raises(CaptionError) as caught:
        read_captions(srt, "srt", name="/m/talk.en.srt")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("/m/talk.en.srt: cannot read SRT captions: ")
    assert f"line {number}" in message and line.strip() in message
    assert isinstance(caught.value, MediaError)  # an item-level failure, not a crash


@pytest.mark.parametrize(
    ("data", "fmt", "reason"),
    [
        (b"", "srt", "the file is empty"),
        (b"  \r\n", None, "the file is empty"),
        (b"just some prose, no times", None, "not SRT, WebVTT, ASS or a JSON transcript"),
        (b"\x00\x01\x02binary", None, "binary data"),
        (b"WEBVTT\n\nNOTE only a note\n", "vtt", "no cues found"),
        (b"1\n00:00:01,000 --> 00:00:02,000\n<i></i>\n", "srt", "none of its 1 cues has any text"),
        (b'{"version": "1.0.0", "segments": [', "json", "not valid JSON"),
        (b'{"version": "1.0.0"}', "json", "no 'segments' list"),
        (b'{"segments": [{"endTime": 2, "body": "x"}]}', None, "segment 0 has no startTime"),
        (b'{"segments": [{"startTime": "soon", "body": "x"}]}', None, "is not a number"),
    ],
)
def test_unusable_files_raise_caption_error(data: bytes, fmt: str | None, reason: str) -> None:
    with pytest.raises(CaptionError, match=reason) as caught:
        read_captions(data, fmt, name="ep1")
    assert str(caught.value).startswith("ep1: ") and "\n" not in str(caught.value)


def test_podcasting_json_transcript() -> None:
    doc = {
        "version": "1.0.0",
        "segments": [
            {"speaker": "Alice", "startTime": 0.5, "endTime": 1.25, "body": "Hello &amp; welcome"},
            {"speaker": "Alice", "startTime": "1.5", "body": "to the show."},
            {"speaker": "Bob", "startTime": 3, "endTime": 4.5, "body": "Thanks."},
            {"startTime": 5, "body": "Bye"},
        ],
    }
    cues = read_captions(json.dumps(doc).encode(), "application/json")
    assert spans(cues) == [
        (0.5, 1.25, "Hello & welcome"),
        (1.5, 3.0, "to the show."),  # no endTime: ends where the next segment starts
        (3.0, 4.5, "Thanks."),
        (5.0, 5.0, "Bye"),
    ]


def test_ass_through_pysubs2_skips_comments_and_override_tags() -> None:
    ass = (
        "[Script Info]\nScriptType: v4.00+\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        "Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\i1}Hi{\\i0}\\Nthere\n"
        "Comment: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,not shown\n"
        "Dialogue: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,{\\p1}m 0 0 l 100 0 100 100{\\p0}\n"
    )
    assert spans(read_captions(ass, None)) == [(1.0, 2.5, "Hi there")]


@pytest.mark.parametrize("fmt", ["srt", "vtt", "json"])
def test_what_vtembed_transcribe_writes_reads_back(fmt: str) -> None:
    words = [Word(" One", 0.2, 0.6), Word(" two.", 0.6, 1.1), Word(" Three", 3.0, 3.4)]
    written = render(Transcript(tuple(words)), fmt)
    assert spans(read_captions(written, fmt)) == [(0.2, 1.1, "One two."), (3.0, 3.4, "Three")]


@pytest.mark.parametrize(
    ("hint", "fmt"),
    [("application/x-subrip", "srt"), ("application/srt", "srt"), (".VTT", "vtt"),
     ("text/vtt; charset=utf-8", "vtt"), ("application/json", "json"), ("ssa", "ass"),
     ("text/html", None), (None, None)],
)  # fmt: skip
def test_caption_format_from_feed_types_and_extensions(hint: str | None, fmt: str | None) -> None:
    assert caption_format(hint) == fmt


# ---- cues as words and chunks


def test_cue_words_share_the_cue_in_proportion_to_their_length() -> None:
    words = cue_words(Cue(10.0, 12.0, "a extraordinary b"), 7)
    assert [w.text for w in words] == [" a", " extraordinary", " b"]
    assert words[0].start_sec == 10.0 and words[-1].end_sec == 12.0
    assert all(a.end_sec == b.start_sec for a, b in itertools.pairwise(words))
    durations = [w.end_sec - w.start_sec for w in words]
    assert durations[1] > 10 * durations[0]
    assert {w.cue for w in words} == {7}
    assert transcript([Cue(0, 1, "x y")]).text == "x y"


def test_cues_that_fit_are_packed_whole_with_their_own_times() -> None:
    cues = [Cue(0.0, 1.5, "Hello there,"), Cue(1.5, 3.25, "how are you?"), Cue(3.5, 4.0, "Fine.")]
    chunks = chunk_cues(cues, max_tokens=77, count=count)
    assert [(c.text, c.start_sec, c.end_sec, c.times_interpolated) for c in chunks] == [
        ("Hello there, how are you? Fine.", 0.0, 4.0, False)
    ]
    assert chunks[0].tokens == count(chunks[0].text)


def test_the_break_falls_at_a_sentence_end_before_a_cue_boundary() -> None:
    cues = [Cue(0, 1, "one two three."), Cue(1, 2, "four five"), Cue(2, 3, "six seven.")]
    limit = count("one two three. four five") + 1  # room for the first two cues, not three
    chunks = chunk_cues(cues, max_tokens=limit, count=count)
    assert [c.text for c in chunks] == ["one two three.", "four five six seven."]


def test_chunks_never_cross_a_long_pause() -> None:
    cues = [Cue(0, 1, "before"), Cue(4, 5, "after"), Cue(5.5, 6, "close")]
    chunks = chunk_cues(cues, max_tokens=77, count=count, max_pause_sec=2.0)
    assert [(c.text, c.start_sec, c.end_sec) for c in chunks] == [
        ("before", 0, 1),
        ("after close", 4, 6),
    ]


def test_a_cue_over_the_limit_is_cut_at_words_with_interpolated_times() -> None:
    text = " ".join(f"word{i}" for i in range(80))
    cue = Cue(10.0, 30.0, text)
    chunks = chunk_cues(
        [Cue(8.0, 9.0, "Intro."), cue, Cue(31.0, 32.0, "Outro.")], max_tokens=20, count=count
    )
    inside = [c for c in chunks if c.times_interpolated]
    assert len(inside) > 1
    assert " ".join(c.text for c in inside) == text
    assert all(count(c.text) <= 20 and c.tokens == count(c.text) for c in chunks)
    assert inside[0].start_sec == 10.0 and inside[-1].end_sec == 30.0
    edges = [t for c in inside for t in (c.start_sec, c.end_sec)]
    assert edges == sorted(edges) and all(10.0 <= t <= 30.0 for t in edges)
    others = [(c.text, c.times_interpolated) for c in chunks if not c.times_interpolated]
    assert others == [("Intro.", False), ("Outro.", False)]


def test_a_word_longer_than_the_limit_keeps_a_prefix() -> None:
    chunks = chunk_cues([Cue(0, 2, "see " + "x" * 400)], max_tokens=10, count=count)
    assert all(c.tokens <= 10 and count(c.text) <= 10 for c in chunks)
    assert chunks[0].text == "see" and chunks[1].text.startswith("xxx")


def test_overlapping_cues_give_a_chunk_ending_at_the_latest_end() -> None:
    chunks = chunk_cues(
        [Cue(0, 10, "long sign"), Cue(1, 3, "short line")], max_tokens=77, count=count
    )
    assert [(c.start_sec, c.end_sec) for c in chunks] == [(0, 10)]


@pytest.mark.parametrize("limit", [8, 20, 77])
def test_random_cues_never_overflow_and_keep_every_word_in_order(limit: int) -> None:
    rng = random.Random(limit)
    vocab = (
        "the a of moon decade hard easy because internationalization, well-known 42 café it's"
    ).split()
    cues, t = [], 0.0
    for _ in range(150):
        words = [rng.choice(vocab) for _ in range(rng.randint(1, 40))]
        if rng.random() < 0.3:
            words[-1] += "."
        start = t + rng.choice([0.0, 0.2, 3.0])
        t = start + rng.uniform(0.5, 6.0)
        cues.append(Cue(round(start, 3), round(t, 3), " ".join(words)))
    chunks = chunk_cues(cues, max_tokens=limit, count=count)
    assert all(count(c.text) <= limit for c in chunks)
    assert " ".join(c.text for c in chunks).split() == " ".join(c.text for c in cues).split()
    starts, ends = {c.start_sec for c in cues}, {c.end_sec for c in cues}
    for chunk in chunks:
        if not chunk.times_interpolated:
            assert chunk.start_sec in starts and chunk.end_sec in ends
        assert chunk.start_sec <= chunk.end_sec
    # The same chunks when the words come a few at a time, as windows hand them out.
    stream = CueChunkStream(max_tokens=limit, count=count)
    words, streamed = list(transcript(cues).words), []
    while words:
        take = rng.randint(1, 30)
        streamed += stream.add(words[:take])
        words = words[take:]
    assert [*streamed, *stream.finish()] == chunks


def test_the_cue_stream_refuses_words_without_a_cue() -> None:
    stream = CueChunkStream(max_tokens=77, count=count)
    with pytest.raises(TypeError):
        stream.add([Word(" hi", 0, 1)])
    assert stream.add([CueWord(" hi", 0, 1, cue=0)]) == []
    assert [c.text for c in stream.finish()] == ["hi"]
