"""What an ingest keeps of each item so that it never computes it again: the transcript (word
times, or the captions' cues) and the shots (each keyframe's file and what OCR read in it).

Whisper is by far the dearest step (12-20x real time on 2 cores), scene detection the next, and
embedding models change more often than media does. So both are kept beside the store
(`PATH.assets/MEDIA_ID/`, one gzip'd JSON each; the keyframe JPEGs stay in the frames folder),
each with the key of what made it: the item's fingerprint and the settings that shape it. A rerun
of an unchanged file with the same settings reuses them, anything else computes them afresh and
replaces them; `vtembed reembed` builds another model's store from them alone, and `vtembed
transcript` prints them.

Writes are atomic (a temporary file renamed over the old one), so a killed run leaves the old
asset or the new one, never half of one; `prune` removes an item's folder with its records.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from vtembed.models import MediaInfo, MediaItem, Transcript, Word, stable_id
from vtembed.settings import Settings
from vtembed.subtitles import Cue

FORMAT = 1
TRANSCRIPT = "transcript.json.gz"
SHOTS = "shots.json.gz"
TranscriptSource = Literal["whisper", "sidecar", "stream", "feed"]


@dataclass(frozen=True)
class KeptTranscript:
    """An item's transcript as an ingest made it: Whisper's words, or a caption file's cues
    (their words are made from them when needed, `vtembed.caption_words`)."""

    item: MediaItem
    info: MediaInfo
    duration_sec: float
    """The decoded length (what the records' media duration says)."""
    source: TranscriptSource
    language: str
    key: str
    words: tuple[Word, ...] = ()
    cues: tuple[Cue, ...] = ()
    origin: str = ""
    """Which captions, for messages: a sidecar's path, a stream's description, a feed's URL."""

    def transcript(self) -> Transcript:
        if self.cues:
            from vtembed.caption_words import transcript

            return transcript(self.cues, self.language)
        return Transcript(self.words, self.language)


@dataclass(frozen=True)
class KeptShot:
    index: int
    start_sec: float
    end_sec: float
    image: str
    """The keyframe's file name in the item's frames folder (its thumbnail is beside it)."""
    thumbnail: str
    text: str | None = None
    """What OCR read in the keyframe; None when it was never read (the embedder took files)."""


@dataclass(frozen=True)
class KeptShots:
    key: str
    fingerprint: str
    video_stream: int
    shots: tuple[KeptShot, ...]


def transcript_key(item: MediaItem, settings: Settings) -> str:
    """Everything that decides an item's transcript: the file's content (its sidecars are in
    a local file's fingerprint, a feed's transcript URL in an episode's), where captions may
    come from, and how Whisper was run."""
    w = settings.whisper
    return stable_id(
        "transcript", item.fingerprint, settings.captions.prefer, w.model, w.compute_type,
        w.beam_size, w.vad, w.language, w.window_sec,
        *(("batched",) if w.batched else ()),  # plain: the key it always had
    )  # fmt: skip


def shots_key(item: MediaItem, settings: Settings) -> str:
    f = settings.frames
    return stable_id(
        "shots", item.fingerprint, f.scene_threshold, f.min_shot_sec, f.max_shot_sec,
        f.thumbnail_width,
    )  # fmt: skip


class AssetStore:
    """`root` is the store's assets folder (`PATH.assets`); `writable=False` (a dry run, the
    store `reembed` reads from) reads what is there and writes nothing."""

    def __init__(self, root: Path, writable: bool = True) -> None:
        self.root = root
        self.writable = writable

    def folder(self, media_id: str) -> Path:
        return self.root / media_id

    def media_ids(self) -> list[str]:
        with contextlib.suppress(OSError):
            return sorted(p.name for p in self.root.iterdir() if p.is_dir())
        return []

    def transcript(self, media_id: str) -> KeptTranscript | None:
        """The kept transcript, or None (none kept, or one vtembed cannot read: recomputed)."""
        data = self._read(media_id, TRANSCRIPT)
        if data is None:
            return None
        try:
            return KeptTranscript(
                item=MediaItem(**data["item"]),
                info=MediaInfo(**data["info"]),
                duration_sec=float(data["duration_sec"]),
                source=data["source"],
                language=data["language"],
                key=data["key"],
                words=tuple(Word(*w) for w in data.get("words", ())),
                cues=tuple(Cue(*c) for c in data.get("cues", ())),
                origin=data.get("origin", ""),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def keep_transcript(self, kept: KeptTranscript) -> None:
        data = {
            "format": FORMAT,
            "item": asdict(kept.item),
            "info": asdict(kept.info),
            "duration_sec": kept.duration_sec,
            "source": kept.source,
            "language": kept.language,
            "key": kept.key,
            "origin": kept.origin,
        }
        if kept.cues:
            data["cues"] = [[c.start_sec, c.end_sec, c.text] for c in kept.cues]
        else:
            data["words"] = [[w.text, w.start_sec, w.end_sec, w.probability] for w in kept.words]
        self._write(kept.item.id, TRANSCRIPT, data)

    def shots(self, media_id: str) -> KeptShots | None:
        data = self._read(media_id, SHOTS)
        if data is None:
            return None
        try:
            shots = tuple(KeptShot(**s) for s in data["shots"])
            return KeptShots(data["key"], data["fingerprint"], int(data["video_stream"]), shots)
        except (KeyError, TypeError, ValueError):
            return None

    def keep_shots(self, media_id: str, kept: KeptShots) -> None:
        data = {"format": FORMAT, **asdict(kept)}
        self._write(media_id, SHOTS, data)

    def remove(self, media_id: str) -> None:
        if self.writable:
            shutil.rmtree(self.folder(media_id), ignore_errors=True)

    def copy_from(self, other: AssetStore, media_id: str) -> None:
        """Another store's assets of one item, as they are (`reembed`'s new store keeps them)."""
        if not self.writable or other.root == self.root:
            return
        for name in (TRANSCRIPT, SHOTS):
            source = other.folder(media_id) / name
            if source.is_file():
                self._put(media_id, name, source.read_bytes())

    def _read(self, media_id: str, name: str) -> dict[str, Any] | None:
        try:
            data = orjson.loads(gzip.decompress((self.folder(media_id) / name).read_bytes()))
        except (OSError, EOFError, orjson.JSONDecodeError):
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        return data

    def _write(self, media_id: str, name: str, data: dict[str, Any]) -> None:
        if self.writable:
            self._put(media_id, name, gzip.compress(orjson.dumps(data), compresslevel=6))

    def _put(self, media_id: str, name: str, blob: bytes) -> None:
        folder = self.folder(media_id)
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(blob)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, folder / name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
