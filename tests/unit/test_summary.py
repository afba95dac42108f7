"""The end-of-run lines a person reads: counts, records, and a speed only when there is one."""

from __future__ import annotations

from vtembed.summary import RunSummary


def test_a_run_with_audio_says_how_fast() -> None:
    summary = RunSummary("local", "m", ok=2, records_written=9)
    summary.audio_seconds, summary.wall_seconds = 1800.0, 600.0
    assert summary.lines("jsonl:e.jsonl") == [
        "2 items: 2 done now, 0 done before, 0 failed, 0 skipped",
        "9 records written to jsonl:e.jsonl",
        "0.50 h of audio in 10m00s (3.0x real time)",
    ]


def test_a_rerun_with_nothing_new_shows_no_speed() -> None:
    summary = RunSummary("local", "m", done_before=3, wall_seconds=0.43)
    lines = summary.lines("jsonl:e.jsonl")
    assert lines[0] == "nothing new: every item was already done"
    assert lines[-1] == "no audio done now, 0.4s in all"
    assert not any("real time" in line for line in lines)


def test_nothing_found_is_one_line() -> None:
    summary = RunSummary("local", "m", skipped=2)
    found = summary.lines("jsonl:e.jsonl")
    assert found == ["nothing to do: no media found (2 other files skipped)"]


def test_a_run_whose_items_all_failed_shows_no_speed() -> None:
    """The failed item's audio was transcribed, but no audio was done: no speed to claim."""
    summary = RunSummary("local", "m", failed=1, wall_seconds=2.7)
    assert summary.lines("milvus:a.db") == [
        "1 item: 0 done now, 0 done before, 1 failed, 0 skipped",
        "0 records written to milvus:a.db",
        "no audio done now, 2.7s in all",
    ]


def test_counts_of_one_are_singular() -> None:
    summary = RunSummary("twelvelabs", "m", ok=1, records_written=1)
    summary.text_requests, summary.audio_requests, summary.audio_request_seconds = 1, 2, 18.0
    assert summary.lines("jsonl:e.jsonl")[:2] == [
        "1 item: 1 done now, 0 done before, 0 failed, 0 skipped",
        "1 record written to jsonl:e.jsonl",
    ]
    assert summary.dry_run_line() == (
        "dry run: would send 1 text request and 2 audio requests (0.3 audio minutes) for 1 item"
    )


def test_keyframes_sent_as_pictures_are_image_requests_and_ocr_ones_text() -> None:
    from vtembed.models import ImageFrame, TextChunk

    summary = RunSummary("twelvelabs", "m", ok=2)
    picture = ImageFrame(0, 0.0, 6.0, "k.jpg", "k.thumb.jpg")
    read = ImageFrame(1, 6.0, 9.0, "l.jpg", "l.thumb.jpg", text="Quarterly sales")
    summary.count_requests([picture, read, TextChunk("hello", 0.0, 1.0, 3), picture])
    assert (summary.image_requests, summary.text_requests) == (2, 2)
    assert summary.to_json()["requests"]["image"] == 2
    assert summary.dry_run_line() == (
        "dry run: would send 2 text requests, 0 audio requests (0.0 audio minutes) and "
        "2 image requests for 2 items"
    )


def test_tokens_the_endpoint_counted_are_summed_in_the_account() -> None:
    summary = RunSummary("twelvelabs", "marengo3.5", ok=1, records_written=3)
    assert not any("input tokens" in line for line in summary.lines("jsonl:e.jsonl"))
    summary.input_tokens = {"text": 1234, "audio": 20}
    assert summary.lines("jsonl:e.jsonl")[-1] == (
        "input tokens counted by twelvelabs: audio 20, text 1,234"
    )
    assert summary.to_json()["requests"]["input_tokens"] == {"text": 1234, "audio": 20}
