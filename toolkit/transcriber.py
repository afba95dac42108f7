"""Speech to timestamped words with faster-whisper, on windows of decoded audio.

Times come from word timestamps, not from VAD segment bounds: with VAD alone, speech that follows
music can be stamped many seconds early. Words are shifted by their window's start, so every time
is absolute in the original media.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from vtembed.errors import MediaError, UsageError
from vtembed.media import PcmWindow
from vtembed.models import Transcript, Word
from vtembed.settings import WhisperSettings
from vtembed.whisper_model import model_dir

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.transcribe import Segment

log = logging.getLogger(__name__)

# Segments Whisper itself judges as probably not speech are dropped: on silence and music tiny.en
# otherwise invents "you" or "Thank you.".
NO_SPEECH_MAX = 0.6
LOGPROB_MIN = -1.0


class Transcriber:
    """Holds one loaded Whisper model; reuse it across items, loading costs about a second."""

    def __init__(self, settings: WhisperSettings) -> None:
        self.settings = settings
        source = model_dir(settings)
        try:
            self.model = _load(str(source), settings.compute_type, settings.cpu_threads)
        except Exception as exc:
            raise UsageError(f"cannot load Whisper model {source}: {exc}") from None

    def transcribe(
        self, windows: Iterable[PcmWindow], progress: Callable[[float], None] | None = None
    ) -> Transcript:
        """`progress` is called with the absolute second reached, as Whisper gets there."""
        words: list[Word] = []
        for window in windows:
            words.extend(self.window_words(window, progress))
            if progress:
                progress(window.end_sec)
        return Transcript(tuple(words), language=self.settings.language)

    def window_words(
        self, window: PcmWindow, progress: Callable[[float], None] | None = None
    ) -> list[Word]:
        return [w for group in self.window_groups(window, progress) for w in group]

    def window_groups(
        self, window: PcmWindow, progress: Callable[[float], None] | None = None
    ) -> Iterator[list[Word]]:
        """The window's words one Whisper segment at a time, as Whisper produces them, so
        what they settle can go on to the embedder before the window is done."""
        s = self.settings
        segments, _info = self.model.transcribe(
            window.samples,
            language=s.language or None,
            beam_size=s.beam_size,
            vad_filter=s.vad,
            word_timestamps=True,
            condition_on_previous_text=False,
        )
        try:
            yield from self._words(window, segments, progress)
        except IndexError as exc:  # faster-whisper aligns words on non-speech and fails
            raise MediaError(
                f"faster-whisper failed to align words ({exc}); this happens on silence with "
                "whisper.vad = false (SYSTRAN/faster-whisper#1342): keep VAD on"
            ) from None

    def _words(
        self,
        window: PcmWindow,
        segments: Iterable[Segment],
        progress: Callable[[float], None] | None,
    ) -> Iterator[list[Word]]:
        for segment in segments:
            if progress:
                progress(window.start_sec + float(segment.end))
            if segment.no_speech_prob > NO_SPEECH_MAX and segment.avg_logprob < LOGPROB_MIN:
                log.debug("dropped non-speech segment %r", segment.text)
                continue
            words = []
            for w in segment.words or []:
                if not w.word.strip():
                    continue
                words.append(
                    Word(
                        text=w.word,
                        start_sec=round(window.start_sec + float(w.start), 3),
                        end_sec=round(window.start_sec + float(w.end), 3),
                        probability=round(float(w.probability), 4),
                    )
                )
            if words:
                yield words


@functools.lru_cache(maxsize=2)
def _load(source: str, compute_type: str, cpu_threads: int) -> WhisperModel:
    """One loaded model per process and configuration: a program (or a test session) that
    ingests many times pays the second or so of loading once. CTranslate2 models take calls
    from several threads, so sharing one is safe."""
    from faster_whisper import WhisperModel

    return WhisperModel(
        source,
        device="cpu",
        compute_type=compute_type,
        cpu_threads=cpu_threads,
        local_files_only=True,
    )
