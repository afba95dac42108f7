"""Text cut to a token limit at word boundaries, found by bisection.

A keyframe's OCR text or a served text can be hundreds of words, and counting every shorter
prefix in turn costs a tokenizer call per word; counts grow with each word kept, so bisection
needs a handful. Ingest (`frame_inputs`) and `serve` (images, v1.3 and v2 text) cut the same way,
so a served picture gets the vector an ingested keyframe of the same file gets.
"""

from __future__ import annotations

from collections.abc import Callable


def largest(fits: Callable[[int], bool], high: int) -> int:
    """The largest n in [0, high] that fits, given that fits(0) holds and fitting is monotone."""
    low = 0
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low


def first_words(text: str, count: Callable[[str], int], limit: int) -> str:
    """The longest run of the text's first words, joined by spaces, that counts within the
    limit; empty when even the first word does not fit."""
    words = text.split()
    return " ".join(words[: largest(lambda n: count(" ".join(words[:n])) <= limit, len(words))])
