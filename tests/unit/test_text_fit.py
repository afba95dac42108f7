"""Cutting text to a token limit by bisection keeps what dropping the last word until it fits
keeps (what ingest did before), with a tokenizer call per halving instead of per word."""

from __future__ import annotations

import random

from vtembed.clip_tokens import get_counter
from vtembed.text_fit import first_words, largest


def _one_word_at_a_time(text: str, limit: int) -> str:
    words = text.split()
    while words and get_counter().count(" ".join(words)) > limit:
        words.pop()
    return " ".join(words)


def test_first_words_equals_dropping_words_until_it_fits() -> None:
    rng = random.Random(7)
    vocabulary = ["sales", "Q3", "2,741", "figures", "per-cent", "unbelievably", "a", "—", "éclair"]
    for _ in range(200):
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 80)))
        limit = rng.randint(3, 77)
        assert first_words(text, get_counter().count, limit) == _one_word_at_a_time(text, limit)
    assert first_words("x" * 500, get_counter().count, 10) == ""  # the first word alone is over


def test_largest_finds_the_edge_of_a_monotone_test() -> None:
    for edge in range(11):
        assert largest(lambda n, edge=edge: n <= edge, 10) == edge
    assert largest(lambda n: True, 0) == 0
