"""Chunks must fit the model, keep every word once, and break where meaning breaks."""

from __future__ import annotations

import itertools
import logging
import random
import string

import pytest

from vtembed.chunking import chunk_transcript
from vtembed.clip_tokens import get_counter
from vtembed.models import TextChunk, Transcript, Word

_VOCAB = (
    "the a of and to in is it that was he she they we you I for on with as at by this from "
    "but not or have had are were be been one all would there their what so up out if about "
    "who get which go me when make can like time no just him know take people into year your "
    "good some could them see other than then now look only come its over think also back "
    "after use two how our work first well way even new want because any these give day most "
    "us don't it's we're they've I'll she'd 1999 3.5 42 100% $20 café naïve über "
    'extraordinary internationalization (really) "quoted" well-known e.g. 中文 😀'
).split()


def count(text: str) -> int:
    return get_counter().count(text)


def _transcript(texts: list[str], gap: float = 0.05, start: float = 0.0) -> Transcript:
    """Words 0.3 s long separated by `gap`; a text may carry its own leading space or not."""
    words, t = [], start
    for text in texts:
        words.append(Word(text if text.startswith(("'", " ")) else " " + text, t, t + 0.3))
        t += 0.3 + gap
    return Transcript(tuple(words))


def _long_transcript(n_words: int = 2000, seed: int = 7) -> Transcript:
    """Varied sentences (1 to 70 words, some longer than any limit) and occasional pauses."""
    rng = random.Random(seed)
    words: list[Word] = []
    t = 0.0
    while len(words) < n_words:
        length = rng.choice([1, 2, 4, 7, 12, 20, 35, 70])
        for i in range(length):
            text = rng.choice(_VOCAB)
            if i == 0:
                text = text.capitalize()
            if i == length - 1:
                text += rng.choice([".", "?", "!", "…", '."', ".)", ","])
            t += rng.choices([0.05, 0.2, 0.5, 1.5, 2.5], weights=[40, 30, 15, 10, 3])[0]
            words.append(Word(" " + text, t, t + 0.25))
            t += 0.25
    return Transcript(tuple(words))


def _assert_well_formed(chunks: list[TextChunk], transcript: Transcript, limit: int) -> None:
    assert chunks
    for chunk in chunks:
        assert chunk.text == chunk.text.strip() and chunk.text
        assert chunk.tokens == count(chunk.text)
        assert chunk.tokens <= limit
        assert chunk.start_sec <= chunk.end_sec
    for before, after in itertools.pairwise(chunks):
        assert before.end_sec <= after.start_sec
    # Every word exactly once, in order, never cut: the chunks re-join into the transcript.
    assert " ".join(c.text for c in chunks) == transcript.text


@pytest.mark.parametrize("limit", [77, 20])
def test_long_transcript_respects_limit_and_keeps_every_word(limit: int) -> None:
    transcript = _long_transcript()
    chunks = chunk_transcript(transcript, max_tokens=limit, count=count)
    _assert_well_formed(chunks, transcript, limit)
    starts = {w.start_sec for w in transcript.words}
    ends = {w.end_sec for w in transcript.words}
    assert all(c.start_sec in starts and c.end_sec in ends for c in chunks)
    # Packing is greedy, not one chunk per word: most chunks use a good part of the budget.
    assert sum(c.tokens for c in chunks) / len(chunks) > limit / 3


def test_chunks_never_span_a_long_pause() -> None:
    transcript = _long_transcript(seed=3)
    chunks = chunk_transcript(transcript, max_tokens=77, count=count)
    words = list(transcript.words)
    for chunk in chunks:
        inside = [w for w in words if chunk.start_sec <= w.start_sec and w.end_sec <= chunk.end_sec]
        gaps = [b.start_sec - a.end_sec for a, b in itertools.pairwise(inside)]
        assert max(gaps, default=0.0) <= 2.0


def test_sentences_are_packed_together_when_they_fit() -> None:
    transcript = _transcript("One sentence. Another one. A third.".split())
    chunks = chunk_transcript(transcript, max_tokens=77, count=count)
    assert [c.text for c in chunks] == ["One sentence. Another one. A third."]


def test_break_falls_at_the_sentence_end() -> None:
    first = "The cat sat on the mat."
    second = "Then the dog came in and barked at everyone."
    assert count(first) <= 15 and count(second) <= 15 < count(f"{first} {second}")
    chunks = chunk_transcript(_transcript(f"{first} {second}".split()), max_tokens=15, count=count)
    # Greedy word packing would have pulled "Then the dog..." into the first chunk.
    assert [c.text for c in chunks] == [first, second]


def test_closing_quote_after_period_still_ends_the_sentence() -> None:
    first = 'He said "stop."'
    second = "So everybody stopped walking along the river bank."
    assert count(f"{first} {second}") > 12 >= count(second)
    chunks = chunk_transcript(_transcript(f"{first} {second}".split()), max_tokens=12, count=count)
    assert [c.text for c in chunks] == [first, second]


def test_overlong_sentence_splits_at_word_boundaries() -> None:
    texts = ("word " * 30 + "and then some more words without any punctuation").split()
    chunks = chunk_transcript(_transcript(texts), max_tokens=12, count=count)
    assert len(chunks) > 3
    assert all(c.tokens <= 12 for c in chunks)
    assert [w for c in chunks for w in c.text.split()] == texts


def test_overlong_sentence_starts_its_own_chunk() -> None:
    long_sentence = "we walked along the river for hours and hours until the sun went down."
    assert count(long_sentence) > 12
    chunks = chunk_transcript(
        _transcript(f"Yes. {long_sentence}".split()), max_tokens=12, count=count
    )
    # Filling "Yes." up with the long sentence's first words would break mid-sentence twice.
    assert chunks[0].text == "Yes."
    assert " ".join(c.text for c in chunks[1:]) == long_sentence


def test_words_without_leading_space_stay_joined() -> None:
    transcript = _transcript(["I", "don", "'t", "know."])
    chunks = chunk_transcript(transcript, max_tokens=77, count=count)
    assert [c.text for c in chunks] == ["I don't know."]


def test_three_second_gap_splits_but_one_second_does_not() -> None:
    split = chunk_transcript(
        _transcript("hello there friend".split(), gap=3.0), max_tokens=77, count=count
    )
    kept = chunk_transcript(
        _transcript("hello there friend".split(), gap=1.0), max_tokens=77, count=count
    )
    assert [c.text for c in split] == ["hello", "there", "friend"]
    assert [c.text for c in kept] == ["hello there friend"]
    tighter = chunk_transcript(
        _transcript("hello there".split(), gap=1.0), max_tokens=77, count=count, max_pause_sec=0.5
    )
    assert [c.text for c in tighter] == ["hello", "there"]


def test_times_come_from_the_words() -> None:
    transcript = _transcript("First part here. Second part.".split(), gap=0.1, start=12.5)
    first, second = chunk_transcript(transcript, max_tokens=7, count=count)
    words = transcript.words
    assert (first.start_sec, first.end_sec) == (words[0].start_sec, words[2].end_sec)
    assert (second.start_sec, second.end_sec) == (words[3].start_sec, words[4].end_sec)
    assert first.start_sec == 12.5


def test_pathological_word_is_truncated_in_its_own_chunk(caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(0)
    monster = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(300))
    assert count(monster) > 77
    transcript = _transcript(["Before", "it.", monster, "After", "it."])
    with caplog.at_level(logging.WARNING, logger="vtembed.chunking"):
        chunks = chunk_transcript(transcript, max_tokens=77, count=count)
    assert [c.text for c in chunks][::2] == ["Before it.", "After it."]
    cut = chunks[1]
    assert monster.startswith(cut.text) and len(cut.text) < len(monster)
    assert cut.tokens == count(cut.text) <= 77 < count(monster[: len(cut.text) + 1])
    assert (cut.start_sec, cut.end_sec) == (
        transcript.words[2].start_sec,
        transcript.words[2].end_sec,
    )
    assert any("exceeds the 77-token limit" in r.getMessage() for r in caplog.records)


def test_empty_transcript_gives_no_chunks() -> None:
    assert chunk_transcript(Transcript(()), max_tokens=77, count=count) == []


def test_limit_without_room_for_text_is_rejected() -> None:
    with pytest.raises(ValueError, match="no room"):
        chunk_transcript(_transcript(["hi"]), max_tokens=2, count=count)


def test_counting_work_grows_linearly_with_transcript_length() -> None:
    """An unpunctuated ten-hour monologue must not recount everything per word."""
    counted = 0

    def tallying_count(text: str) -> int:
        nonlocal counted
        counted += len(text)
        return count(text)

    rng = random.Random(5)
    transcript = _transcript([rng.choice(_VOCAB).strip(".") for _ in range(4000)])
    chunks = chunk_transcript(transcript, max_tokens=77, count=tallying_count)
    assert all(c.tokens <= 77 for c in chunks)
    # Recounting the growing text per word would be ~2000x the transcript; bounded chunks ~60x.
    assert counted < 150 * len(transcript.text)
