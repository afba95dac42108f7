"""`transcribe`: one file's timestamped words, embedding nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vtembed.errors import UsageError
from vtembed.models import Transcript
from vtembed.settings import Settings
from vtembed.whisper_model import model_dir


@dataclass(frozen=True)
class TranscribeResult:
    transcript: Transcript
    warning: str | None = None
    """Something about the file worth knowing that did not stop it (a truncated stream)."""

    def render(self, fmt: str = "txt") -> str:
        """The transcript as txt, srt, vtt or json."""
        from vtembed.subtitles import render

        return render(self.transcript, fmt)


def transcribe(file: Path, settings: Settings) -> TranscribeResult:
    """Raises `MediaError` for a file that is not usable media, `UsageError` for a missing one."""
    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    model_dir(settings.whisper, settings.cache_dir)
    from vtembed.media import DecodeResult, pcm_windows, probe
    from vtembed.transcriber import Transcriber

    info = probe(str(file))
    decoded = DecodeResult()
    transcript = Transcriber(settings.whisper).transcribe(
        pcm_windows(info, settings.whisper.window_sec, decoded)
    )
    return TranscribeResult(transcript, decoded.warning or None)
