"""The stages of an ingest and their order; an executor decides how they are scheduled.

    open + probe ─► transcript ─► chunk + segment ─► embed ─► store ─► mark done
                     (kept, captions, or decode windows ─► Whisper)

Each stage is a method that takes the previous stage's value. The first ones hand an item's
embedder inputs to an executor as messages (`Part`s, then `Ended`), made one of two ways:
`stream` window by window, each input as soon as it is final, so it can be embedded while Whisper
goes on; `at_once` (or `from_transcript`, for a transcript made elsewhere, as on a Ray worker)
from the whole transcript, one stage after the other. Both give the same inputs (a test compares
their records), so everything after them — embedding, writing, resume state, error isolation per
item — is one piece of code for every executor: `vtembed.executors.item_job`.

An item's transcript is Whisper's only when there is nothing better: a transcript kept from an
earlier run of the same file and settings (`vtembed.asset_reuse`), else captions the item has
(`vtembed.caption_choice`). Whichever it is, it is kept for the next run (`vtembed.assets`), and
its records say where their text came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from threading import Event

from vtembed.asset_reuse import Reuse
from vtembed.assets import KeptTranscript, TranscriptSource
from vtembed.caption_choice import captions_transcript
from vtembed.captions import Cue
from vtembed.embedder import Embeddable, Embedder
from vtembed.errors import Stopped
from vtembed.frame_inputs import keyframe_inputs, takes_pictures
from vtembed.item_windows import ItemWindow
from vtembed.media import DecodeResult, pcm_windows, probe
from vtembed.models import ImageFrame, MediaInfo, MediaItem, Transcript, VideoClip, Word
from vtembed.planning import ItemPlanner
from vtembed.prefetch import Ahead, prefetch
from vtembed.progress import Reporter
from vtembed.settings import Settings
from vtembed.source import Source
from vtembed.store import Store
from vtembed.transcriber import Transcriber


@dataclass(frozen=True)
class Transcribed:
    item: MediaItem
    info: MediaInfo
    duration_sec: float
    transcript: Transcript
    source: TranscriptSource = "whisper"
    """whisper, sidecar, stream or feed (a caption transcript's words are `CueWord`s)."""
    cues: tuple[Cue, ...] = ()
    """A caption transcript's cues, as the file had them (what is kept)."""
    fresh: bool = True
    """Made by this run (Whisper, or captions just read): kept for the next one."""


@dataclass(frozen=True)
class Planned:
    """What goes to the embedder for one item: its text chunks, then its audio segments."""

    item: MediaItem
    duration_sec: float
    inputs: tuple[Embeddable, ...]
    source: str | None = None
    """Where the item's transcript came from (the records' `transcript_source`)."""
    language: str | None = None


@dataclass(frozen=True)
class Part:
    """Inputs of one item that became final after a window: they can be embedded now."""

    item: MediaItem
    inputs: tuple[Embeddable, ...]
    media_sec: float
    """The item's length as probed: its records carry it (they are stored before the decoded
    length is known)."""
    source: str | None = None
    """Where the transcript of the item's text and audio inputs came from (None: pictures)."""
    language: str | None = None


@dataclass(frozen=True)
class Ended:
    """The item is fully transcribed; every one of its inputs was in an earlier `Part`."""

    item: MediaItem
    duration_sec: float


@dataclass(frozen=True)
class ItemFailed:
    """The item failed before all its inputs were handed out; `error` is its one-line reason."""

    item: MediaItem
    error: str


Message = Part | Ended | ItemFailed
"""What the transcribing side of an executor hands to the embedding side, per item, in order."""


@dataclass
class Stages:
    settings: Settings
    sources: dict[str, Source]
    transcriber: Transcriber | Callable[[], Transcriber]
    """The loaded model, or what loads it the first time an item needs Whisper (an ingest whose
    items all have kept transcripts or captions never loads it)."""
    embedder: Embedder
    store: Store
    reporter: Reporter
    frames_root: Path | None = None
    """Where keyframes go (the store's frames folder, a dry run's throwaway one); None: none."""
    reuse: Reuse | None = None
    """The store's kept transcripts and shots (None: nothing kept or reused)."""

    def stream(self, item: MediaItem, stop: Event | None = None) -> Iterator[Part | Ended]:
        """Open, decode (a window ahead, in a thread), transcribe and plan one item, yielding its
        inputs as Whisper settles them (segment by segment) and then `Ended`. Its keyframes are
        cut and read in a thread of their own beside Whisper (at most `frames_ahead` waiting):
        those ready go out between Whisper's segments, the rest after the sound. Once `stop` is
        set, Whisper is left between two of its segments by raising `Stopped`, and the picture
        thread ends at its next keyframe. A transcript that is ready (kept or captions) is
        planned at once instead."""
        info, ready = self.begin(item)
        decoded = DecodeResult()
        pictures = self._pictures_beside(item, info, stop)
        try:
            if ready is not None:
                self._keep(ready)
                yield self._part(self.plan(ready), info)
            else:
                yield from self._sound(item, info, decoded, stop, pictures)
            for frame in pictures or ():
                yield Part(item, (frame,), info.duration_sec)
        finally:
            if pictures is not None:
                pictures.close()
        yield Ended(item, ready.duration_sec if ready is not None else decoded.duration_sec)

    def _sound(
        self,
        item: MediaItem,
        info: MediaInfo,
        decoded: DecodeResult,
        stop: Event | None,
        pictures: Ahead[ImageFrame | VideoClip] | None,
    ) -> Iterator[Part]:
        windows = prefetch(
            pcm_windows(info, self.settings.whisper.window_sec, decoded),
            self.settings.pipeline.windows_ahead,
        )
        planner = ItemPlanner(item, info, self.embedder, self.settings.max_pause_sec)
        heard: list[Word] = []  # kept for the next run: a few MB for hours of speech
        language: str | None = None  # the item's, fixed or detected on its first window

        def seen() -> Iterator[Part]:  # keyframes read by now, one Part each
            for frame in pictures.ready() if pictures is not None else ():
                yield Part(item, (frame,), info.duration_sec)

        def part(inputs: list[Embeddable]) -> Part:
            return Part(item, tuple(inputs), info.duration_sec, "whisper", language)

        whisper = self._whisper()
        # Windows are transcribed side by side (`vtembed.whisper_workers`), handed back in order.
        for window, groups, spoken in whisper.windows_groups(windows, self._progress(item, stop)):
            language = spoken  # what `part` stamps on the item's inputs
            planner.feed(window)
            for words in groups:
                heard.extend(words)
                # Whisper's words come in time order: none still to come starts earlier.
                inputs = planner.add(words, words[-1].start_sec)
                if inputs:
                    yield part(inputs)
                yield from seen()
            inputs = planner.add([], window.end_sec)
            if inputs:
                yield part(inputs)
            yield from seen()
        if decoded.warning:
            self.reporter.warn(item.label, decoded.warning)
        rest = planner.finish(decoded.duration_sec)
        if rest:
            yield part(rest)
        heard_all = Transcript(tuple(heard), language or whisper.language or "en")
        self._keep(Transcribed(item, info, decoded.duration_sec, heard_all))

    def _pictures_beside(
        self, item: MediaItem, info: MediaInfo, stop: Event | None
    ) -> Ahead[ImageFrame | VideoClip] | None:
        if not takes_pictures(self.settings.frames, self.embedder, self.frames_root):
            return None
        found = self._keyframes(item, info)
        return Ahead(found, self.settings.pipeline.frames_ahead, "vtembed-frames", stop)

    def _keyframes(self, item: MediaItem, info: MediaInfo) -> Iterator[ImageFrame | VideoClip]:
        return keyframe_inputs(
            item, info, self.settings.frames, self.embedder, self.frames_root, self.reuse
        )

    def at_once(self, item: MediaItem) -> Iterator[Part | Ended]:
        """The item one stage after the other: the whole transcript, then its plan. Segments
        carry no samples (no window is kept for them), so an uploading embedder cuts them."""
        yield from self.from_transcript(self.transcribe(item))

    def from_transcript(self, done: Transcribed) -> Iterator[Part | Ended]:
        """A transcript's plan as one `Part`, then `Ended`."""
        self._keep(done)
        planned = self.plan(done)
        yield self._part(planned, done.info)
        yield from self.pictures(done.item, done.info)
        yield Ended(done.item, planned.duration_sec)

    def pictures(self, item: MediaItem, info: MediaInfo) -> Iterator[Part]:
        """The item's keyframes, one `Part` each, after its sound (see `vtembed.frame_inputs`)."""
        for frame in self._keyframes(item, info):
            yield Part(item, (frame,), info.duration_sec)

    def transcribe(self, item: MediaItem) -> Transcribed:
        """The item's transcript (kept, captions, else Whisper's); `from_transcript` keeps it."""
        info, ready = self.begin(item)
        return ready if ready is not None else self.hear(item, info)

    def hear(
        self, item: MediaItem, info: MediaInfo, window: ItemWindow | None = None
    ) -> Transcribed:
        """Whisper's transcript of the opened item, or of one of its windows (`item_windows`,
        in the item's language): then only that window's words, and `duration_sec` is the
        second its decoding reached."""
        decoded = DecodeResult()
        span = (window.start_sample, window.end_sample) if window else (0, None)
        windows = pcm_windows(
            info, self.settings.whisper.window_sec, decoded,
            start_sample=span[0], end_sample=span[1],
        )  # fmt: skip
        language = window.language if window else None
        transcript = self._whisper().transcribe(windows, self._progress(item), language)
        if decoded.warning:
            self.reporter.warn(item.label, decoded.warning)
        return Transcribed(item, info, decoded.duration_sec, transcript)

    def item_windows(self, item: MediaItem, info: MediaInfo) -> list[ItemWindow]:
        """The opened item's Whisper windows, cut as `hear` cuts them, found in one decoding
        pass without Whisper, each with the item's language (fixed, else detected on the first
        window as `Transcriber.windows_groups` does); [] when it has only one."""
        decoded = DecodeResult()
        bounds: list[tuple[int, int]] = []
        first = None
        for window in pcm_windows(info, self.settings.whisper.window_sec, decoded):
            bounds.append((window.start_sample, window.end_sample))
            first = window.samples if first is None else first
        if decoded.warning:
            self.reporter.warn(item.label, decoded.warning)
        if first is None or len(bounds) < 2:
            return []
        language = self._whisper().item_language(first)[0]
        count = len(bounds)
        return [
            ItemWindow(item, i, count, start, end, language)
            for i, (start, end) in enumerate(bounds)
        ]

    def plan(self, done: Transcribed) -> Planned:
        captions = done.source != "whisper"
        planner = ItemPlanner(
            done.item, done.info, self.embedder, self.settings.max_pause_sec, captions=captions
        )
        found = [
            *planner.add(done.transcript.words, done.duration_sec),
            *planner.finish(done.duration_sec),
        ]
        language = done.transcript.language or None
        return Planned(done.item, done.duration_sec, tuple(found), done.source, language)

    def _part(self, planned: Planned, info: MediaInfo) -> Part:
        return Part(
            planned.item, planned.inputs, info.duration_sec, planned.source, planned.language,
        )  # fmt: skip

    def begin(self, item: MediaItem) -> tuple[MediaInfo, Transcribed | None]:
        """The opened item, and its transcript if one is ready without Whisper: kept from an
        earlier run, else the item's captions."""
        kept = self.reuse.transcript(item) if self.reuse is not None else None
        if kept is not None and not self._needs_media(item):
            self.reporter.item_start(item.label, kept.info.duration_sec)
            return kept.info, _transcribed(kept)  # nothing read from the file: it may be gone
        info = self.open(item)
        if kept is not None:
            return info, _transcribed(kept)
        found = captions_transcript(
            item, info, self.settings, lambda line: self.reporter.warn(item.label, line)
        )
        return info, None if found is None else _transcribed(found, fresh=True)

    def _needs_media(self, item: MediaItem) -> bool:
        """Whether the embedder reads the file itself (uploaded audio, video clips), or its
        pictures have to be found (no shots kept)."""
        e = self.embedder
        if e.uploads_audio(item.uri) or e.video_input:
            return True
        if not takes_pictures(self.settings.frames, e, self.frames_root):
            return False
        return self.reuse is None or self.reuse.shots(item) is None

    def _keep(self, done: Transcribed) -> None:
        if self.reuse is None or not done.fresh:
            return
        self.reuse.keep_transcript(
            KeptTranscript(
                item=done.item,
                info=done.info,
                duration_sec=done.duration_sec,
                source=done.source,
                language=done.transcript.language,
                key=self.reuse.transcript_key(done.item),
                words=() if done.cues else done.transcript.words,
                cues=done.cues,
            )
        )

    def _whisper(self) -> Transcriber:
        """The model, loaded the first time an item needs it."""
        if not isinstance(self.transcriber, Transcriber):
            self.transcriber = self.transcriber()
        return self.transcriber

    def open(self, item: MediaItem) -> MediaInfo:
        """The item's file, probed (a URL is downloaded first, by its source)."""
        path = self.sources[item.source].open(item)
        info = probe(str(path))
        self.reporter.item_start(item.label, info.duration_sec)
        return info

    def _progress(self, item: MediaItem, stop: Event | None = None) -> Callable[[float], None]:
        def report(sec: float) -> None:
            if stop is not None and stop.is_set():
                raise Stopped
            self.reporter.item_progress(item.label, sec)

        return report

    @property
    def batch_size(self) -> int:
        """Inputs per embedder call: the configured size, within what the embedder takes."""
        return max(1, min(self.settings.embed_batch_size, self.embedder.batch_size))

    async def embed_inputs(self, inputs: Sequence[Embeddable]) -> list[list[float]]:
        """Vectors for inputs, in order, in calls of at most `batch_size`; an embedder that
        answers a call with another number of vectors fails the item here, before any pairing."""
        size = self.batch_size
        vectors: list[list[float]] = []
        for start in range(0, len(inputs), size):
            batch = inputs[start : start + size]
            got = await self.embedder.embed(batch)
            if len(got) != len(batch):
                raise RuntimeError(f"embedder returned {len(got)} vectors for {len(batch)} inputs")
            vectors.extend(got)
        return vectors


def _transcribed(kept: KeptTranscript, fresh: bool = False) -> Transcribed:
    transcript = kept.transcript()
    return Transcribed(
        kept.item, kept.info, kept.duration_sec, transcript, kept.source, kept.cues, fresh
    )
