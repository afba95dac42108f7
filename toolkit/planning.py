"""Transcribed words to what the embedder gets (text chunks and audio segments), handed out as
soon as each is final.

Whisper works through a long file one window at a time; everything before the window's end is
settled, so its chunks and segments can be embedded while the next window is transcribed. The
inputs handed out are exactly those a whole-transcript plan would make: chunks come from the
same packer (`ChunkStream`), segments from the same grid as `media.audio_segments`, and a
segment's text is the words whose midpoint lies inside it (`Transcript.words_between`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from vtembed.caption_words import CueChunkStream
from vtembed.chunking import ChunkStream
from vtembed.embedder import Embeddable, Embedder
from vtembed.media import SAMPLE_RATE, PcmWindow, audio_segments
from vtembed.models import AudioSegment, MediaInfo, MediaItem, Word


class SegmentStream:
    """Back-to-back audio segments with their spoken text, each handed out once audio up to its
    end has been transcribed; only the words of segments not yet handed out are kept.

    With `keep_audio`, each segment also carries its samples, sliced from the decoded windows it
    is `feed` (copied, so a queued segment holds 10 s of audio, not a whole window); a window is
    let go once every segment over it is out."""

    def __init__(
        self, info: MediaInfo, segment_sec: float, media_uri: str, keep_audio: bool = False
    ) -> None:
        self.info = info
        self.segment_sec = segment_sec
        self.media_uri = media_uri
        self.keep_audio = keep_audio
        self._words: list[Word] = []
        self._windows: deque[PcmWindow] = deque()
        self._index = 0
        self._start = 0.0

    def feed(self, window: PcmWindow) -> None:
        """The next decoded window (windows come back to back), before its words are added."""
        if self.keep_audio:
            self._windows.append(window)

    def add(self, words: Sequence[Word], reached_sec: float) -> list[AudioSegment]:
        """`reached_sec`: transcription is complete up to here (no later word starts before)."""
        self._words.extend(words)
        out = []
        while round(self._start + self.segment_sec, 3) <= reached_sec:
            out.append(self._segment(round(self._start + self.segment_sec, 3)))
        return out

    def finish(self, duration_sec: float) -> list[AudioSegment]:
        """The rest of the grid over the decoded length (the last segment may be shorter)."""
        rest = audio_segments(self.info, duration_sec, self.segment_sec)[self._index :]
        return [self._segment(seg.end_sec) for seg in rest]

    def _segment(self, end_sec: float) -> AudioSegment:
        inside = [w for w in self._words if _mid(w) < end_sec]
        self._words = [w for w in self._words if _mid(w) >= end_sec]
        text = "".join(w.text for w in inside if _mid(w) >= self._start).strip()
        segment = AudioSegment(
            self._index, round(self._start, 3), end_sec, self.info.path, self.info.audio_stream
        )
        samples = self._take(self._start, end_sec) if self.keep_audio else None
        self._index += 1
        self._start = end_sec
        return replace(segment, text=text, media_uri=self.media_uri, samples=samples)

    def _take(self, start_sec: float, end_sec: float) -> np.ndarray:
        """A copy of the samples in [start, end); windows wholly before `end` are let go."""
        first, last = round(start_sec * SAMPLE_RATE), round(end_sec * SAMPLE_RATE)
        pieces = []
        for window in self._windows:
            lo = max(first, window.start_sample) - window.start_sample
            hi = min(last, window.end_sample) - window.start_sample
            if lo < hi:
                pieces.append(window.samples[lo:hi])
        while self._windows and self._windows[0].end_sample <= last:
            self._windows.popleft()
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)


class ItemPlanner:
    """One item's chunks and segments, filtered by what the embedder wants."""

    def __init__(
        self,
        item: MediaItem,
        info: MediaInfo,
        embedder: Embedder,
        max_pause_sec: float,
        captions: bool = False,
    ) -> None:
        """`captions`: the words are a caption file's (`CueWord`s), chunked at cue edges."""
        self.embedder = embedder
        chunker = CueChunkStream if captions else ChunkStream
        self.chunks: ChunkStream | CueChunkStream = chunker(
            max_tokens=embedder.text_token_limit,
            count=embedder.token_counter().count,  # the model's own units, not always CLIP's
            max_pause_sec=max_pause_sec,
        )
        self.segments = SegmentStream(
            info, embedder.audio_segment_sec, item.uri, keep_audio=embedder.uploads_audio(item.uri)
        )

    def feed(self, window: PcmWindow) -> None:
        self.segments.feed(window)

    def add(self, words: Sequence[Word], reached_sec: float) -> list[Embeddable]:
        found = [*self.chunks.add(words), *self.segments.add(words, reached_sec)]
        return [x for x in found if self.embedder.wants(x)]

    def finish(self, duration_sec: float) -> list[Embeddable]:
        found = [*self.chunks.finish(), *self.segments.finish(duration_sec)]
        return [x for x in found if self.embedder.wants(x)]


def _mid(word: Word) -> float:
    return (word.start_sec + word.end_sec) / 2
