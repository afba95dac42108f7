"""The end-of-run account: what was done, what failed and why, how fast."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vtembed.models import AudioSegment, ImageFrame, TextChunk, VideoClip


@dataclass
class RunSummary:
    embedder: str
    model_name: str
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    done_before: int = 0
    records_written: int = 0
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    errors: list[dict[str, str]] = field(default_factory=list)
    text_requests: int = 0
    audio_requests: int = 0
    audio_request_seconds: float = 0.0
    image_requests: int = 0
    video_requests: int = 0
    video_request_seconds: float = 0.0
    input_tokens: dict[str, int] = field(default_factory=dict)
    """What the endpoint counted, by content type (`Embedder.usage`), when it reports it."""
    sink: str = ""
    """The store written, as its sink describes itself (credentials hidden)."""
    dry_run: bool = False
    cost: str | None = None
    """A dry run's cost estimate for what it would send, if the embedder has prices."""

    def add_error(self, item: str, error: str) -> None:
        self.failed += 1
        self.errors.append({"item": item, "error": error})

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "items": {
                "ok": self.ok,
                "failed": self.failed,
                "skipped": self.skipped,
                "done_before": self.done_before,
            },
            "errors": self.errors,
            "records_written": self.records_written,
            "audio_seconds": round(self.audio_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "embedder": self.embedder,
            "model_name": self.model_name,
            "requests": {
                "text": self.text_requests,
                "audio": self.audio_requests,
                "audio_seconds": round(self.audio_request_seconds, 3),
                "image": self.image_requests,
                "video": self.video_requests,
                "video_seconds": round(self.video_request_seconds, 3),
                "input_tokens": self.input_tokens,
            },
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n")

    def count_requests(
        self, inputs: Sequence[TextChunk | AudioSegment | ImageFrame | VideoClip]
    ) -> None:
        """Tally what goes to the embedder: one request per text chunk, audio segment or
        keyframe. An OCR'd keyframe (one with text) is text to the embedder and counted as
        text; one sent as a picture is an image request."""
        for item in inputs:
            if isinstance(item, AudioSegment):
                self.audio_requests += 1
                self.audio_request_seconds += item.end_sec - item.start_sec
            elif isinstance(item, ImageFrame) and not item.text:
                self.image_requests += 1
            elif isinstance(item, VideoClip):
                self.video_requests += 1
                self.video_request_seconds += item.end_sec - item.start_sec
            else:
                self.text_requests += 1

    def dry_run_line(self) -> str:
        cost = self.cost
        sent = [
            _count(self.text_requests, "text request"),
            f"{_count(self.audio_requests, 'audio request')} "
            f"({self.audio_request_seconds / 60:.1f} audio minutes)",
        ]
        if self.image_requests:
            sent.append(_count(self.image_requests, "image request"))
        if self.video_requests:
            sent.append(
                f"{_count(self.video_requests, 'video request')} "
                f"({self.video_request_seconds / 60:.1f} video minutes)"
            )
        what = ", ".join(sent[:-1]) + " and " + sent[-1]
        line = f"dry run: would send {what} for {_count(self.ok, 'item')}"
        return f"{line}; {cost}" if cost else line

    def lines(self, sink: str, dry_run: bool = False) -> list[str]:
        total = self.ok + self.failed + self.done_before
        if total == 0:
            return [f"nothing to do: no media found ({self.skipped} other files skipped)"]
        now = "planned (dry run)" if dry_run else "done now"
        items = f"{_count(total, 'item')}: {self.ok} {now}, {self.done_before} done before, "
        items += f"{self.failed} failed, {self.skipped} skipped"
        written = f"{_count(self.records_written, 'record')} written to {sink}"
        lines = [items, "no records written (dry run)" if dry_run else written, self._pace()]
        if self.input_tokens:
            counted = ", ".join(f"{kind} {n:,}" for kind, n in sorted(self.input_tokens.items()))
            lines.append(f"input tokens counted by {self.embedder}: {counted}")
        if self.ok == 0 and self.failed == 0:
            lines.insert(0, "nothing new: every item was already done")
        return lines

    def _pace(self) -> str:
        """Hours of audio done and how many times real time; a run that did none (every item
        done before, or failed: its audio may have been transcribed, but nothing came of it)
        has no speed to show, only its wall time."""
        if not self.audio_seconds:
            return f"no audio done now, {_clock(self.wall_seconds)} in all"
        hours = self.audio_seconds / 3600
        speed = self.audio_seconds / self.wall_seconds if self.wall_seconds else 0.0
        return f"{hours:.2f} h of audio in {_clock(self.wall_seconds)} ({speed:.1f}x real time)"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
