"""Cut a word-timed transcript into chunks that fit a text embedder's token limit.

A text vector is only as good as the text it sees: a chunk that overflows the model's limit is
silently truncated (or rejected), and one that straddles a topic change blurs two meanings. So
chunks end at sentence ends where possible, never inside a word, and never across a long pause,
which in speech usually marks a new scene or speaker. Times come from the words themselves, so
a search hit points at the second the chunk is actually spoken.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence

from vtembed.models import TextChunk, Transcript, Word

__all__ = ["ChunkStream", "chunk_transcript"]

logger = logging.getLogger(__name__)

# A sentence ends at . ? ! or … possibly followed by closing quotes or brackets ("Stop!")
_SENTENCE_END = re.compile(r"[.?!…][\"'\u201d\u2019»)\]}]*$")


def chunk_transcript(
    transcript: Transcript,
    *,
    max_tokens: int,
    count: Callable[[str], int],
    max_pause_sec: float = 2.0,
) -> list[TextChunk]:
    """Pack whole sentences greedily; fall back to word boundaries only when a sentence overflows.

    `count` must include whatever fixed overhead the model adds (CLIP's start and end tokens),
    because `max_tokens` is compared against it directly.
    """
    stream = ChunkStream(max_tokens=max_tokens, count=count, max_pause_sec=max_pause_sec)
    return [*stream.add(transcript.words), *stream.finish()]


class ChunkStream:
    """The same chunks as `chunk_transcript`, handed out as soon as they are final, so a long
    file's first chunks can be embedded while Whisper is still on its later windows.

    A chunk is final once the packer moves past it; only the sentence being spoken and the chunk
    being filled are held back, so the result never depends on where windows were cut.
    """

    def __init__(
        self, *, max_tokens: int, count: Callable[[str], int], max_pause_sec: float = 2.0
    ) -> None:
        if count("") >= max_tokens:
            raise ValueError(f"max_tokens={max_tokens} leaves no room for any text")
        self.max_pause_sec = max_pause_sec
        self._packer = _Packer(max_tokens, count)
        self._sentence: list[Word] = []
        self._last: Word | None = None

    def add(self, words: Sequence[Word]) -> list[TextChunk]:
        for word in words:
            if self._last is not None and word.start_sec - self._last.end_sec > self.max_pause_sec:
                self._end_run()  # chunks never cross a long pause
            self._sentence.append(word)
            self._last = word
            if _SENTENCE_END.search(word.text.strip()):
                self._packer.add_sentence(self._sentence)
                self._sentence = []
        return self._take()

    def finish(self) -> list[TextChunk]:
        self._end_run()
        return self._take()

    def _end_run(self) -> None:
        if self._sentence:
            self._packer.add_sentence(self._sentence)
            self._sentence = []
        self._packer.flush()

    def _take(self) -> list[TextChunk]:
        done, self._packer.chunks = self._packer.chunks, []
        return done


def _text(words: Sequence[Word]) -> str:
    # Whisper words carry their own leading space, so plain concatenation restores the spacing.
    return "".join(w.text for w in words).strip()


class _Packer:
    """Greedy packing state. Every count is of text no longer than about one chunk (plus one
    count per sentence), so a ten-hour transcript costs linear time, not quadratic."""

    def __init__(self, max_tokens: int, count: Callable[[str], int]) -> None:
        self.max_tokens = max_tokens
        self.count = count
        self.chunks: list[TextChunk] = []
        self._words: list[Word] = []
        self._tokens = 0

    def add_sentence(self, sentence: list[Word]) -> None:
        tokens = self.count(_text(sentence))
        if tokens > self.max_tokens:
            # Start the long sentence in a fresh chunk so the break before it stays at a
            # sentence end; its tail may still share a chunk with the sentences after it.
            self.flush()
            for word in sentence:
                self._add_word(word)
            return
        if self._words and self._try_extend(sentence):
            return
        self.flush()
        self._words, self._tokens = list(sentence), tokens

    def _add_word(self, word: Word) -> None:
        if self._words and self._try_extend([word]):
            return
        self.flush()
        tokens = self.count(_text([word]))
        if tokens <= self.max_tokens:
            self._words, self._tokens = [word], tokens
        else:
            self._add_truncated(word)

    def _try_extend(self, words: list[Word]) -> bool:
        # Count the joined text rather than summing parts: cleaning and pre-tokenization are
        # not additive across word boundaries (e.g. " don" + "'t").
        candidate = [*self._words, *words]
        tokens = self.count(_text(candidate))
        if tokens > self.max_tokens:
            return False
        self._words, self._tokens = candidate, tokens
        return True

    def _add_truncated(self, word: Word) -> None:
        """A single word over the limit (a URL, a glitchy repeat) must not sink the whole item."""
        text = word.text.strip()
        lo, hi = 0, len(text)  # longest prefix that fits, by binary search on its length
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.count(text[:mid]) <= self.max_tokens:
                lo = mid
            else:
                hi = mid - 1
        logger.warning(
            "word of %d characters at %.2fs exceeds the %d-token limit; kept its first %d",
            len(text),
            word.start_sec,
            self.max_tokens,
            lo,
        )
        if lo:
            prefix = text[:lo]
            self.chunks.append(TextChunk(prefix, word.start_sec, word.end_sec, self.count(prefix)))

    def flush(self) -> None:
        text = _text(self._words)
        if text:
            start, end = self._words[0].start_sec, self._words[-1].end_sec
            self.chunks.append(TextChunk(text, start, end, self._tokens))
        self._words, self._tokens = [], 0
