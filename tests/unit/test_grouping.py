"""Grouping records into moments: overlap or a gap up to `gap_sec` joins, a longer gap or another
media item splits; the best record leads; groups are ordered by their best records."""

from __future__ import annotations

from typing import Any

import pytest

from vtembed.grouping import group_records


def rec(
    media: str, start: float, end: float, score: float, modality: str = "text"
) -> dict[str, Any]:
    return {
        "id": f"{media}-{modality}-{start}",
        "media": {"id": media},
        "modality": modality,
        "start_sec": start,
        "end_sec": end,
        "score": score,
    }


def best_first(*records: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: -r["score"])


def test_overlapping_and_near_records_of_one_item_are_one_moment() -> None:
    records = best_first(
        rec("a", 10.0, 20.0, 0.9, "audio"),
        rec("a", 12.0, 16.0, 0.95, "text"),
        rec("a", 22.5, 25.0, 0.5, "image"),  # 2.5 s after the audio ends: within 3 s
        rec("a", 40.0, 45.0, 0.8, "text"),  # 15 s later: another moment
    )
    groups = group_records(records, gap_sec=3.0)
    assert len(groups) == 2
    first, second = groups
    assert first.best["id"] == "a-text-12.0" and first.score == 0.95
    assert (first.start_sec, first.end_sec) == (10.0, 25.0)
    assert first.modalities == ("text", "audio", "image")
    assert [r["score"] for r in first.records] == [0.95, 0.9, 0.5]
    assert second.modalities == ("text",) and (second.start_sec, second.end_sec) == (40.0, 45.0)


def test_the_gap_decides_and_a_chain_stays_one_group() -> None:
    records = best_first(rec("a", 0, 1, 0.5), rec("a", 3.5, 4, 0.4), rec("a", 6, 7, 0.3))
    assert len(group_records(records, gap_sec=3.0)) == 1  # 2.5 s and 2 s apart: a chain
    assert len(group_records(records, gap_sec=2.0)) == 2  # 0 -> 3.5 is 2.5 s: split there
    assert len(group_records(records, gap_sec=0.0)) == 3


def test_a_long_record_keeps_reaching_past_shorter_ones() -> None:
    # The 0-30 s record covers 10-11 s; the record at 31 s is within 3 s of its end, not of 11 s.
    records = best_first(rec("a", 0, 30, 0.9), rec("a", 10, 11, 0.8), rec("a", 31, 32, 0.7))
    assert len(group_records(records, gap_sec=3.0)) == 1


def test_other_media_never_join_and_groups_follow_their_best_records() -> None:
    records = best_first(rec("a", 0, 5, 0.6), rec("b", 0, 5, 0.9), rec("a", 6, 8, 0.7))
    groups = group_records(records, gap_sec=3.0)
    assert [(g.media_id, g.score) for g in groups] == [("b", 0.9), ("a", 0.7)]
    assert group_records([], 3.0) == []
    with pytest.raises(ValueError):
        group_records(records, gap_sec=-1)
