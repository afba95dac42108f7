"""Caption cues as the words and chunks the rest of vtembed already handles.

Captions time whole cues, not words, but the pipeline thinks in words: an audio segment's text
is the words whose midpoint lies inside it (`Transcript.words_between`). So each cue becomes
words with times shared out inside the cue in proportion to their length, and each word
remembers its cue (`CueWord.cue`). That is all the chunker needs to keep the cue's own, exact
times at chunk edges: chunks are whole cues, packed like `vtembed.chunking` packs sentences
(whole sentences first, then whole cues, then words), so only a cue longer than the token limit
is cut inside, and those chunks say their times are interpolated (`CaptionChunk`).

Nothing in `models.py` changes: `CueWord` is a `Word` and `CaptionChunk` a `TextChunk`, so code
that takes either takes these, and `CueChunkStream` has `ChunkStream`'s `add`/`finish`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vtembed.captions import Cue
from vtembed.chunking import _SENTENCE_END  # one idea of a sentence end for both chunkers
from vtembed.models import TextChunk, Transcript, Word

__all__ = ["CaptionChunk", "CueChunkStream", "CueWord", "chunk_cues", "cue_words", "transcript"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CueWord(Word):
    """A word of a caption cue; its times are interpolated, its cue's (first start, last end)
    are the file's own."""

    cue: int = 0
    """The cue's index in the list the words were made from: words of one cue share it."""


@dataclass(frozen=True)
class CaptionChunk(TextChunk):
    times_interpolated: bool = False
    """True when the chunk was cut inside a cue, so its start or end is an estimate."""


def cue_words(cue: Cue, index: int) -> list[CueWord]:
    """The cue's words back to back over [start, end], each lasting in proportion to its
    characters (a long word takes longer to say); the first starts and the last ends exactly
    where the cue does. Texts carry a leading space, as Whisper's do."""
    parts = cue.text.split()
    total = sum(len(p) for p in parts)
    span = cue.end_sec - cue.start_sec
    words, done = [], 0
    for n, part in enumerate(parts):
        start = round(cue.start_sec + span * done / total, 3)  # ms, like record ids
        done += len(part)
        end = cue.end_sec if n == len(parts) - 1 else round(cue.start_sec + span * done / total, 3)
        words.append(CueWord(f" {part}", cue.start_sec if n == 0 else start, end, cue=index))
    return words


def transcript(cues: Sequence[Cue], language: str = "en") -> Transcript:
    """All cues' words in cue order (overlapping cues give overlapping words)."""
    return Transcript(tuple(w for i, cue in enumerate(cues) for w in cue_words(cue, i)), language)


def chunk_cues(
    cues: Sequence[Cue],
    *,
    max_tokens: int,
    count: Callable[[str], int],
    max_pause_sec: float = 2.0,
) -> list[CaptionChunk]:
    """Cues packed into chunks of at most `max_tokens` (`count` includes the model's fixed
    overhead), edges at cue boundaries, never across a pause over `max_pause_sec`."""
    stream = CueChunkStream(max_tokens=max_tokens, count=count, max_pause_sec=max_pause_sec)
    return [*stream.add(transcript(cues).words), *stream.finish()]


class CueChunkStream:
    """`ChunkStream` for caption words: the same interface, chunks handed out once final.

    A run of cues ending at a sentence end is packed whole when it fits; a run too long for one
    chunk is packed cue by cue (its first cue starts a fresh chunk, so the edge before it stays
    at a sentence end); a cue too long for one chunk is cut at word boundaries."""

    def __init__(
        self, *, max_tokens: int, count: Callable[[str], int], max_pause_sec: float = 2.0
    ) -> None:
        if count("") >= max_tokens:
            raise ValueError(f"max_tokens={max_tokens} leaves no room for any text")
        self.max_tokens = max_tokens
        self.count = count
        self.max_pause_sec = max_pause_sec
        self._packer = _CuePacker(max_tokens, count)
        self._cue: list[CueWord] = []
        self._sentence: list[list[CueWord]] = []
        self._long = False  # the sentence being read is known not to fit one chunk
        self._last_end: float | None = None

    def add(self, words: Sequence[Word]) -> list[TextChunk]:
        for word in words:
            if not isinstance(word, CueWord):
                raise TypeError(f"CueChunkStream takes CueWords (from cue_words), not {word!r}")
            if self._cue and self._cue[-1].cue != word.cue:
                self._end_cue()
            self._cue.append(word)
        return self._take()

    def finish(self) -> list[TextChunk]:
        if self._cue:
            self._end_cue()
        self._end_sentence()
        self._packer.flush()
        return self._take()

    def _end_cue(self) -> None:
        cue, self._cue = self._cue, []
        if self._last_end is not None and cue[0].start_sec - self._last_end > self.max_pause_sec:
            self._end_sentence()  # chunks never cross a long pause
            self._packer.flush()
        end = max(w.end_sec for w in cue)
        self._last_end = end if self._last_end is None else max(self._last_end, end)
        if self._long:
            self._packer.add_cue(cue)
        else:
            self._sentence.append(cue)
            if self.count(_text([w for c in self._sentence for w in c])) > self.max_tokens:
                self._long = True
                self._packer.flush()
                for buffered in self._sentence:
                    self._packer.add_cue(buffered)
                self._sentence = []
        if _SENTENCE_END.search(cue[-1].text.strip()):
            self._end_sentence()

    def _end_sentence(self) -> None:
        if self._sentence:
            self._packer.add_words([w for c in self._sentence for w in c])
        self._sentence, self._long = [], False

    def _take(self) -> list[TextChunk]:
        done, self._packer.chunks = self._packer.chunks, []
        return list(done)


def _text(words: Sequence[Word]) -> str:
    return "".join(w.text for w in words).strip()


class _CuePacker:
    """Greedy packing of whole cues (or runs of them) into the chunk being filled."""

    def __init__(self, max_tokens: int, count: Callable[[str], int]) -> None:
        self.max_tokens = max_tokens
        self.count = count
        self.chunks: list[CaptionChunk] = []
        self._words: list[Word] = []
        self._tokens = 0

    def add_words(self, words: Sequence[Word]) -> None:
        """Whole cues that fit one chunk together: join the open chunk, or start the next."""
        candidate = [*self._words, *words]
        tokens = self.count(_text(candidate))  # counted joined: counts are not additive
        if tokens <= self.max_tokens:
            self._words, self._tokens = candidate, tokens
            return
        self.flush()
        self._words, self._tokens = list(words), self.count(_text(words))

    def add_cue(self, cue: Sequence[Word]) -> None:
        if self.count(_text(cue)) <= self.max_tokens:
            self.add_words(cue)
            return
        self.flush()
        piece: list[Word] = []
        for word in cue:
            if piece and self.count(_text([*piece, word])) <= self.max_tokens:
                piece.append(word)
                continue
            self._emit(piece, interpolated=True)
            piece = [word] if self.count(_text([word])) <= self.max_tokens else []
            if not piece:
                self._emit_truncated(word)
        self._emit(piece, interpolated=True)

    def flush(self) -> None:
        self._emit(self._words, interpolated=False, tokens=self._tokens)
        self._words, self._tokens = [], 0

    def _emit(
        self, words: Sequence[Word], *, interpolated: bool, tokens: int | None = None
    ) -> None:
        text = _text(words)
        if text:
            count = self.count(text) if tokens is None else tokens
            end = max(w.end_sec for w in words)  # overlapping cues: the latest end
            self.chunks.append(CaptionChunk(text, words[0].start_sec, end, count, interpolated))

    def _emit_truncated(self, word: Word) -> None:
        """One word over the limit (a pasted URL) keeps its longest prefix that fits."""
        text = word.text.strip()
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if self.count(text[:mid]) <= self.max_tokens else (lo, mid - 1)
        log.warning(
            "caption word of %d characters at %.2fs exceeds the %d-token limit; kept its first %d",
            len(text),
            word.start_sec,
            self.max_tokens,
            lo,
        )
        if lo:
            prefix = text[:lo]
            self.chunks.append(
                CaptionChunk(prefix, word.start_sec, word.end_sec, self.count(prefix), True)
            )
