"""Reciprocal rank fusion: places, not scores, decide; modalities are ranked apart; ties keep
the first list's order; and the words full-text search matches on keep numbers and codes."""

from __future__ import annotations

from typing import Any

import pytest

from vtembed.ranking import RRF_K, fuse, words


def hit(record_id: str, score: float, modality: str = "text") -> dict[str, Any]:
    return {"id": record_id, "modality": modality, "score": score, "text": record_id}


def test_a_record_both_lists_rank_beats_one_that_tops_only_one() -> None:
    vector = [hit("a", 0.9), hit("b", 0.8), hit("c", 0.7)]
    text = [hit("b", 12.0), hit("c", 3.0)]
    fused = fuse({"vector": vector, "text": text})
    assert [h["id"] for h in fused] == ["b", "c", "a"]
    b = fused[0]
    assert b["score"] == pytest.approx((1 / (RRF_K + 2) + 1 / (RRF_K + 1)) / (2 / (RRF_K + 1)))
    assert (b["vector_score"], b["text_score"]) == (0.8, 12.0)
    assert fused[2]["text_score"] is None and "score" in fused[2]


def test_scores_in_zero_one_and_first_everywhere_is_one() -> None:
    fused = fuse({"vector": [hit("a", 0.2), hit("b", 0.1)], "text": [hit("a", 99.0)]})
    assert fused[0]["id"] == "a" and fused[0]["score"] == pytest.approx(1.0)
    assert all(0 < h["score"] <= 1 for h in fused)


def test_the_size_of_a_score_does_not_matter_only_its_place() -> None:
    small = fuse({"vector": [hit("a", 0.31), hit("b", 0.30)], "text": [hit("b", 1.0)]})
    large = fuse({"vector": [hit("a", 0.99), hit("b", 0.01)], "text": [hit("b", 1e6)]})
    assert [h["id"] for h in small] == [h["id"] for h in large] == ["b", "a"]
    assert [h["score"] for h in small] == [h["score"] for h in large]


def test_each_modality_is_ranked_on_its_own() -> None:
    # Image cosines run lower than text ones: the best image earns what the best text does.
    vector = [hit("t1", 0.7), hit("t2", 0.6), hit("i1", 0.3, "image"), hit("i2", 0.2, "image")]
    fused = {h["id"]: h["score"] for h in fuse({"vector": vector})}
    assert fused["i1"] == pytest.approx(fused["t1"]) == pytest.approx(1.0)
    assert fused["i2"] == pytest.approx(fused["t2"])
    assert fused["t2"] < fused["t1"]


def test_ties_keep_the_first_lists_order_and_duplicates_count_once() -> None:
    vector = [hit("t1", 0.7), hit("a1", 0.65, "audio"), hit("t1", 0.1)]
    fused = fuse({"vector": vector})
    assert [h["id"] for h in fused] == ["t1", "a1"]
    assert fused[0]["vector_score"] == 0.7
    assert fuse({}) == []


def test_words_keep_numbers_and_codes() -> None:
    assert words("The X-42 launched in 2019.") == [
        "the",
        "x-42",
        "x",
        "42",
        "launched",
        "in",
        "2019",
    ]
    assert words('v2.3, "quoted" AND +plus') == ["v2.3", "v2", "3", "quoted", "and", "plus"]
    assert "x-42" not in words("x 42") and words("") == []


def test_a_record_only_one_ranking_can_find_earns_half_in_hybrid() -> None:
    # Full-text search finds no keyframe: the best one, first by vectors, has one piece of
    # evidence, as a text record first by vectors but missed by words has; both are 1/2.
    vector = [hit("t1", 0.7), hit("i1", 0.2, "image")]
    text = [hit("t2", 5.0), hit("t1", 1.0)]
    fused = {h["id"]: h["score"] for h in fuse({"vector": vector, "text": text})}
    assert fused["i1"] == pytest.approx(0.5) == pytest.approx(fused["t2"])
    assert fused["t1"] > fused["i1"]
