"""A long item's Whisper windows as jobs of their own, so several processes transcribe one file.

In one process a long file is already spread over Whisper calls by its windows
(`vtembed.whisper_workers`). Ray's actors are processes, each with its own model: handing them the
windows' PCM would move about 19 MB per 5 minutes through Ray's object store. So one actor finds
the windows (one quick decoding pass, about 0.3 s for 10 minutes of AAC, cut exactly where
`pcm_windows` cuts them in a run of one process) and each window is then decoded again, alone,
by whichever actor transcribes it: only sample numbers and words travel. An item is heard in one
language: with none fixed, it is detected on its first window, as in one process, and every
window is given it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from vtembed.media import SAMPLE_RATE
from vtembed.models import MediaItem, Transcript


@dataclass(frozen=True)
class ItemWindow:
    """One window of an item, to be transcribed on its own; its times are the media's."""

    item: MediaItem
    index: int
    count: int
    start_sample: int
    end_sample: int
    language: str

    @property
    def start_sec(self) -> float:
        return self.start_sample / SAMPLE_RATE

    def describe(self) -> str:
        """`window 2 of 4 (300.0-600.0 s)`, for a message about it."""
        span = f"{self.start_sec:.1f}-{self.end_sample / SAMPLE_RATE:.1f} s"
        return f"window {self.index + 1} of {self.count} ({span})"


def joined(parts: list[Transcript]) -> Transcript:
    """An item's windows' transcripts as one, in order: the words as if heard in one go."""
    return replace(parts[0], words=tuple(w for part in parts for w in part.words))
