"""Find the captions a local media file already has: sidecar files beside it and text subtitle
streams inside its container, best first.

Which captions stand in for a transcript matters more than finding many: a forced track (only
the lines in a foreign language) or a commentary in another language would replace what is
said with a fraction of it. So forced captions are never offered, and the order is:

1. language: English first (``en``, ``eng``, ``en-US``…: the offline Whisper model is English
   only, so that is what it would compete with), then unspecified (no tag, ``und``), then any
   other language, by tag;
2. a sidecar before a stream (someone put that file there on purpose), a stream marked default
   before others;
3. then by name (sidecars) or stream order.

A sidecar is ``STEM[.TAG…].EXT`` next to ``STEM.MEDIAEXT`` (case ignored), EXT one of srt,
vtt, ass, ssa; its language is the first tag that looks like one (``movie.en-US.vtt``,
``movie.eng.sdh.srt``). When another media file's stem is a longer match (``talk.part2.mp4``
beside ``talk.mp4``), ``talk.part2.srt`` is that file's, not ``talk.mp4``'s. Streams are the
text codecs below; picture subtitles (DVD, Blu-ray PGS, DVB) hold no text and are skipped.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import ffmpeg

from vtembed.captions import CaptionError, Cue, read_captions
from vtembed.media import last_stderr_line
from vtembed.source import MEDIA_EXTENSIONS

__all__ = ["FoundCaptions", "extract_stream", "find_captions", "read_first", "sidecars", "streams"]

log = logging.getLogger(__name__)

SIDECAR_FORMATS = {".srt": "srt", ".vtt": "vtt", ".ass": "ass", ".ssa": "ass"}
# ffprobe codec name -> the format ffmpeg writes it out in (its own encoder and muxer for each)
TEXT_CODECS = {
    "subrip": "srt", "srt": "srt", "mov_text": "srt", "text": "srt",
    "webvtt": "vtt", "ass": "ass", "ssa": "ass",
}  # fmt: skip
_OUTPUT = {"srt": ("subrip", "srt"), "vtt": ("webvtt", "webvtt"), "ass": ("ass", "ass")}
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][a-z0-9]{2,8})*$")
_UNSPECIFIED = {"", "und"}


@dataclass(frozen=True)
class FoundCaptions:
    """Captions found for a media file, not yet read (reading a stream runs ffmpeg)."""

    kind: Literal["sidecar", "stream"]
    description: str
    """How messages name them: the sidecar's path, or ``PATH subtitle stream N (codec, lang)``."""
    fmt: str
    language: str | None
    path: str
    """The sidecar file, or the media file holding the stream."""
    stream: int | None = None
    """For a stream: its index among the file's subtitle streams (ffmpeg's ``0:s:N``)."""
    default: bool = False

    def read(self) -> list[Cue]:
        """The cues; a CaptionError (one line, naming these captions) if they cannot be used."""
        if self.stream is None:
            try:
                data = Path(self.path).read_bytes()
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                raise CaptionError(f"{self.description}: cannot read captions: {reason}") from None
        else:
            data = extract_stream(self.path, self.stream, self.fmt, self.description)
        return read_captions(data, self.fmt, name=self.description)

    def rank(self) -> tuple[int, str, int, int, str, int]:
        language = _language_rank(self.language)
        return (
            language,
            self.language or "" if language == 2 else "",  # other languages: by tag
            0 if self.kind == "sidecar" else 1,
            0 if self.default else 1,
            self.path,
            self.stream or 0,
        )


def find_captions(media_path: str, probe_info: dict[str, Any] | None = None) -> list[FoundCaptions]:
    """Every usable caption source for the file, best first (the order in the module doc).

    `probe_info` is ffprobe's JSON for the file if the caller has it; else ffprobe runs."""
    found = [*sidecars(media_path), *streams(media_path, probe_info)]
    return sorted(found, key=FoundCaptions.rank)


def read_first(found: Sequence[FoundCaptions]) -> tuple[FoundCaptions, list[Cue]] | None:
    """The first captions that read, with their cues; each that does not is logged as one
    warning line (the CaptionError's) and the next is tried. None: transcribe instead."""
    for candidate in found:
        try:
            return candidate, candidate.read()
        except CaptionError as exc:
            log.warning("%s", exc)
    return None


def sidecars(media_path: str) -> list[FoundCaptions]:
    """The caption files that belong to the media file (the rule in the module doc), by name;
    `find_captions` ranks them."""
    path = Path(media_path)
    stem = path.stem.casefold()
    try:
        names = sorted(entry.name for entry in os.scandir(path.parent) if entry.is_file())
    except OSError:
        return []
    longer = [
        s
        for s in (
            Path(n).stem.casefold() for n in names if Path(n).suffix.lower() in MEDIA_EXTENSIONS
        )
        if len(s) > len(stem) and s.startswith(stem + ".")
    ]
    found = []
    for name in names:
        fmt = SIDECAR_FORMATS.get(Path(name).suffix.lower())
        base = Path(name).stem.casefold()
        if fmt is None or not (base == stem or base.startswith(stem + ".")):
            continue
        if any(base == s or base.startswith(s + ".") for s in longer):
            continue  # another media file's sidecar
        tags = base[len(stem) + 1 :].split(".") if base != stem else []
        if "forced" in tags:
            continue
        language = next((t for t in tags if _LANGUAGE.match(t)), None)
        file = str(path.parent / name)
        found.append(FoundCaptions("sidecar", file, fmt, language, file))
    return found


def streams(media_path: str, probe_info: dict[str, Any] | None = None) -> list[FoundCaptions]:
    """The file's text subtitle streams (none if ffprobe cannot read the file: the item's own
    probe reports that)."""
    if probe_info is None:
        try:
            probe_info = ffmpeg.probe(media_path)
        except ffmpeg.Error as exc:
            log.debug("%s: no subtitle streams read (%s)", media_path, last_stderr_line(exc.stderr))
            return []
    subtitles = [s for s in probe_info.get("streams", []) if s.get("codec_type") == "subtitle"]
    found = []
    for n, stream in enumerate(subtitles):
        codec = str(stream.get("codec_name", ""))
        disposition = stream.get("disposition", {})
        fmt = TEXT_CODECS.get(codec)
        if fmt is None or disposition.get("forced"):
            log.debug("%s: subtitle stream %d (%s) skipped", media_path, n, codec or "unknown")
            continue
        tag = str(stream.get("tags", {}).get("language", "")).casefold()
        language = None if tag in _UNSPECIFIED else tag
        described = f"{media_path} subtitle stream {n} ({codec}, {language or 'no language'})"
        found.append(
            FoundCaptions(
                "stream", described, fmt, language, media_path, n, bool(disposition.get("default"))
            )
        )
    return found


def extract_stream(media_path: str, stream: int, fmt: str, description: str = "") -> bytes:
    """Subtitle stream N as a caption file in memory (ffmpeg converts any text codec). ffmpeg
    reads the whole container to do it: cheap next to decoding its audio, not free."""
    codec, muxer = _OUTPUT[fmt]
    try:
        out, _ = (
            ffmpeg.input(media_path)
            .output("pipe:", map=f"0:s:{stream}", f=muxer, **{"c:s": codec})
            .global_args("-nostdin", "-loglevel", "error")
            .run(capture_stdout=True, capture_stderr=True)
        )
    except ffmpeg.Error as exc:
        name = description or f"{media_path} subtitle stream {stream}"
        raise CaptionError(
            f"{name}: cannot extract captions ({last_stderr_line(exc.stderr)})"
        ) from None
    return bytes(out)


def _language_rank(language: str | None) -> int:
    if language is None:
        return 1
    if language in ("en", "eng") or language.startswith(("en-", "en_")):
        return 0
    return 2
