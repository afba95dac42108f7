"""Transcripts as people read them: cues of a sentence or a breath, in txt, SRT, WebVTT or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from vtembed.models import Transcript, Word

_MAX_CUE_CHARS = 84
_PAUSE_SEC = 1.0
_SENTENCE_END = (".", "?", "!", "…")


@dataclass(frozen=True)
class Cue:
    start_sec: float
    end_sec: float
    text: str


def cues(transcript: Transcript) -> list[Cue]:
    """Break at sentence ends, pauses over a second, or when a cue would not fit two lines."""
    out: list[Cue] = []
    current: list[Word] = []
    for word in transcript.words:
        if current and (
            word.start_sec - current[-1].end_sec > _PAUSE_SEC
            or len(_join(current) + word.text) > _MAX_CUE_CHARS
        ):
            out.append(_cue(current))
            current = []
        current.append(word)
        if word.text.strip().endswith(_SENTENCE_END):
            out.append(_cue(current))
            current = []
    if current:
        out.append(_cue(current))
    return out


def render(transcript: Transcript, fmt: str, given: Sequence[Cue] = ()) -> str:
    """`given`: the cues to print (a caption file's own), else cut from the words."""
    items = list(given) or cues(transcript)
    if fmt == "json":
        return json.dumps(
            {
                "language": transcript.language,
                "cues": [asdict(c) for c in items],
                "words": [asdict(w) for w in transcript.words],
            },
            ensure_ascii=False,
            indent=2,
        )
    if fmt == "srt":
        blocks = [
            f"{i}\n{_stamp(c.start_sec, ',')} --> {_stamp(c.end_sec, ',')}\n{c.text}\n"
            for i, c in enumerate(items, 1)
        ]
        return "\n".join(blocks)
    if fmt == "vtt":
        blocks = [
            f"{_stamp(c.start_sec, '.')} --> {_stamp(c.end_sec, '.')}\n{c.text}\n" for c in items
        ]
        return "WEBVTT\n\n" + "\n".join(blocks)
    return "\n".join(
        f"[{_stamp(c.start_sec, '.')} → {_stamp(c.end_sec, '.')}] {c.text}" for c in items
    )


def _cue(words: list[Word]) -> Cue:
    return Cue(words[0].start_sec, words[-1].end_sec, _join(words))


def _join(words: list[Word]) -> str:
    return "".join(w.text for w in words).strip()


def _stamp(seconds: float, sep: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"
