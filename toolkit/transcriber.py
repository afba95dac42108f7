"""Speech to timestamped words with faster-whisper, on windows of decoded audio.

Times come from word timestamps, not from VAD segment bounds: with VAD alone, speech that follows
music can be stamped many seconds early. Words are shifted by their window's start, so every time
is absolute in the original media.
"""

from __future__ import annotations

import functools
import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from vtembed.errors import MediaError, Stopped, UsageError
from vtembed.malloc_tuning import give_back_free_memory
from vtembed.media import PcmWindow
from vtembed.models import Transcript, Word
from vtembed.settings import WhisperSettings
from vtembed.whisper_model import fixed_language, resolve
from vtembed.whisper_steps import chunk_by_chunk_on_cpu, vad_in_steps
from vtembed.whisper_workers import shared_calls, sizing

if TYPE_CHECKING:
    import numpy as np
    from faster_whisper import WhisperModel
    from faster_whisper.transcribe import Segment

log = logging.getLogger(__name__)

# Segments Whisper itself judges as probably not speech are dropped: on silence and music tiny.en
# otherwise invents "you" or "Thank you.".
NO_SPEECH_MAX = 0.6
LOGPROB_MIN = -1.0


class Transcriber:
    """Holds one loaded Whisper model; reuse it across items, loading costs about a second.

    `language` is the language every item is transcribed in, or None when the model is
    multilingual and told `auto`: then each item's language is detected (`item_language`, on
    its first window) and passed to `window_groups` for all its windows, so one item is never
    transcribed half in one language and half in another."""

    def __init__(self, settings: WhisperSettings, cache_dir: Path | None = None) -> None:
        self.settings = settings
        choice = resolve(settings, cache_dir)
        self.device = choice.device
        self.sizing = sizing(settings, choice.device.device)
        try:
            self.model = _load(
                str(choice.path),
                choice.device.device,
                choice.device.compute_type,
                self.sizing.cpu_threads,
                self.sizing.workers,
            )
        except Exception as exc:
            raise UsageError(f"cannot load Whisper model {choice.path}: {exc}") from None
        self._calls = shared_calls(self.sizing.workers)
        self.multilingual: bool = bool(self.model.model.is_multilingual)
        self.language: str | None = fixed_language(settings.language, self.multilingual)
        if self.language is not None and self.language not in self.model.supported_languages:
            raise UsageError(
                f"whisper.language {settings.language}: not a language this Whisper model "
                "knows (give a code such as en, es, de, or auto)"
            )

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]:
        """Whisper's guess at the language spoken in `samples` (16 kHz mono float32; the
        first 30 s of speech decide) and its probability; always ("en", 1.0) on an
        English-only model."""
        if not self.multilingual:
            return "en", 1.0
        speech = _speech(samples) if self.settings.vad else samples
        language, probability, _ = self.model.detect_language(speech if speech.size else samples)
        return language, round(float(probability), 4)

    def item_language(self, samples: np.ndarray) -> tuple[str, float]:
        """The language to transcribe an item in, from its first window: the fixed one
        (probability 1.0), else the detected one."""
        if self.language is not None:
            return self.language, 1.0
        return self.detect_language(samples)

    def transcribe(
        self,
        windows: Iterable[PcmWindow],
        progress: Callable[[float], None] | None = None,
        language: str | None = None,
    ) -> Transcript:
        """`progress` is called with the absolute second reached, as Whisper gets there.
        `language` None: the fixed language, else the one detected on the first window."""
        words: list[Word] = []
        spoken = language
        for _window, groups, spoken in self.windows_groups(windows, progress, language):  # noqa: B007
            words.extend(w for group in groups for w in group)
        return Transcript(tuple(words), language=spoken or self.language or "en")

    def windows_groups(
        self,
        windows: Iterable[PcmWindow],
        progress: Callable[[float], None] | None = None,
        language: str | None = None,
    ) -> Iterator[tuple[PcmWindow, Iterator[list[Word]], str | None]]:
        """Each window with its words (one list per Whisper segment, read as Whisper settles
        them) and the item's language, in order, while up to `sizing.workers` windows are
        transcribed at once (this item's, or another's beside it). A window's words must be
        read before the next window is asked for. `language` None: the fixed one, else
        detected on the first window before any is transcribed, so every window is heard in
        the same one. `progress` only ever moves forward, though windows end out of order."""
        cancelled = threading.Event()
        reached = _Reached(progress, cancelled)
        windows = iter(windows)
        first = next(windows, None)
        if first is None:
            return
        chosen = language or self.language
        if chosen is None:
            chosen, _ = self.item_language(first.samples)

        def heard(job: tuple[PcmWindow, queue.SimpleQueue[list[Word] | None]]) -> None:
            window, out = job
            try:
                for group in self.window_groups(window, reached, chosen):
                    out.put(group)
            finally:
                out.put(None)
                give_back_free_memory()  # see vtembed.malloc_tuning

        jobs = ((w, queue.SimpleQueue()) for w in itertools.chain((first,), windows))
        try:
            for (window, out), done in self._calls.ahead(heard, jobs):
                yield window, _read(out, done), chosen
                reached(window.end_sec)
        finally:
            cancelled.set()

    def window_words(
        self,
        window: PcmWindow,
        progress: Callable[[float], None] | None = None,
        language: str | None = None,
    ) -> list[Word]:
        return [w for group in self.window_groups(window, progress, language) for w in group]

    def window_groups(
        self,
        window: PcmWindow,
        progress: Callable[[float], None] | None = None,
        language: str | None = None,
    ) -> Iterator[list[Word]]:
        """The window's words one Whisper segment at a time, as Whisper produces them, so
        what they settle can go on to the embedder before the window is done. `language`:
        the item's (from `item_language`); None: the fixed one, or, with none fixed, what
        Whisper detects on this window alone."""
        s = self.settings
        if s.batched:  # both cores busy where the plain call leaves half idle (docs/whisper.md)
            from faster_whisper import BatchedInferencePipeline

            # A pipeline a call: it carries the last word's time from one batch to the next.
            segments, _info = BatchedInferencePipeline(self.model).transcribe(
                window.samples,
                language=language or self.language,
                beam_size=s.beam_size,
                word_timestamps=True,
                vad_filter=True,
                batch_size=s.batch_size,
            )
        else:
            segments, _info = self.model.transcribe(
                window.samples,
                language=language or self.language,
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


def _read(out: queue.SimpleQueue[list[Word] | None], done: Future[None]) -> Iterator[list[Word]]:
    """A window's groups as its call puts them, then the call's error if it failed."""
    while (group := out.get()) is not None:
        yield group
    done.result()


class _Reached:
    """The furthest second any window of an item has reached, for its progress bar (windows
    transcribed side by side end out of order); raises `Stopped` in a window's call once the
    item's transcription is given up, so the call ends at its next segment."""

    def __init__(self, progress: Callable[[float], None] | None, cancelled: threading.Event):
        self._progress = progress
        self._cancelled = cancelled
        self._lock = threading.Lock()
        self._sec = 0.0

    def __call__(self, sec: float) -> None:
        if self._cancelled.is_set():
            raise Stopped
        with self._lock:
            if sec <= self._sec:
                return
            self._sec = sec
        if self._progress is not None:
            self._progress(sec)


def _speech(samples: np.ndarray) -> np.ndarray:
    """The samples Silero VAD calls speech, end to end (empty if none), so music or silence
    before the first words does not decide the language."""
    import numpy as np
    from faster_whisper.vad import collect_chunks, get_speech_timestamps

    chunks, _ = collect_chunks(samples, get_speech_timestamps(samples))
    return np.concatenate(chunks) if chunks else samples[:0]


@functools.lru_cache(maxsize=2)
def _load(
    source: str, device: str, compute_type: str, cpu_threads: int, workers: int
) -> WhisperModel:
    """One loaded model per process and configuration: a program (or a test session) that
    ingests many times pays the second or so of loading once. CTranslate2 models take calls
    from several threads, `workers` of them at once, so sharing one is safe."""
    from faster_whisper import WhisperModel

    model = WhisperModel(
        source,
        device=device,
        compute_type=compute_type,
        cpu_threads=cpu_threads,
        num_workers=workers,
        local_files_only=True,
    )
    chunk_by_chunk_on_cpu(model, device)
    vad_in_steps()
    return model
