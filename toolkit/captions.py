"""Read caption files people already made (SRT, WebVTT, ASS/SSA, podcast JSON) as timed cues.

A file that already has captions should not be transcribed again: its captions are usually
better than a tiny Whisper model and cost nothing. Real caption files are messy, though, so the
reader is tolerant of what players tolerate (a BOM, CRLF, Windows-1252 text, styling tags,
HTML entities, empty cues, cues out of order, rolling captions that repeat the previous line)
and strict only where a guess would put text at the wrong second: a timing line it cannot read
is a `CaptionError` with the line number, so the caller can fall back to Whisper.

SRT and WebVTT are parsed here rather than by pysubs2: pysubs2 1.8.1 drops a cue whose timing
line is malformed without a word, folds WebVTT NOTE blocks and cue identifiers into the previous
cue's text, and takes a YouTube karaoke line holding two inline timestamps for a timing line.
ASS/SSA (styles, override tags, comments, drawings) is pysubs2's.
"""

from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from vtembed.errors import MediaError
from vtembed.subtitles import Cue

__all__ = ["CaptionError", "Cue", "caption_format", "read_captions"]

log = logging.getLogger(__name__)

_NAMES = {"srt": "SRT", "vtt": "WebVTT", "ass": "ASS", "json": "JSON transcript"}
_ALIASES = {
    "srt": "srt", "subrip": "srt", "application/srt": "srt", "application/x-subrip": "srt",
    "text/srt": "srt", "vtt": "vtt", "webvtt": "vtt", "text/vtt": "vtt", "ass": "ass",
    "ssa": "ass", "text/x-ssa": "ass", "json": "json", "application/json": "json",
}  # fmt: skip
_STAMP = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[,.](\d{1,3}))?"
_TIMING = re.compile(rf"^\s*{_STAMP}\s*-->\s*{_STAMP}(?:\s.*)?$")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d[\d:.]*>")  # <i>, <c.red>, <v Bob>, <00:00:01.500>
_OVERRIDE = re.compile(r"\{\\[^{}]*\}")  # {\an8}, {\i1} left in SRT by ASS converters
_SPACE = re.compile(r"\s+")
_ROLL_GAP_SEC = 0.1  # a repeat counts as rolling only if it (nearly) touches the cue it repeats


class CaptionError(MediaError):
    """A caption file vtembed cannot use: one line naming the file, its format and the fault."""


@dataclass
class _Raw:
    start: float
    end: float
    lines: list[str]
    shown: list[str] | None = None
    """The lines the cue showed, before repeats of the cue before it were dropped."""


def caption_format(hint: str | None) -> str | None:
    """'srt' | 'vtt' | 'ass' | 'json' for a format name, file extension or MIME type (the
    `type` of a podcast:transcript tag), or None when it names nothing we read."""
    if not hint:
        return None
    key = hint.strip().lower().split(";")[0].strip().lstrip(".")
    return _ALIASES.get(key)


def read_captions(
    data: bytes | str, fmt: str | None = None, *, name: str = "captions"
) -> list[Cue]:
    """Cues sorted by start, with text cleaned of styling and repeats merged (see `_tidy`).

    `fmt` may be a name, extension or MIME type; None (or one we do not know) sniffs the
    content. `name` is how a `CaptionError` names the file."""
    text = _decode(data, name)
    if not text.strip():
        raise CaptionError(f"{name}: cannot read captions: the file is empty")
    kind = caption_format(fmt) or _sniff(text, name)
    label = f"{name}: cannot read {_NAMES[kind]} captions"
    if kind == "json":
        raw = _json_cues(text, label)
    elif kind == "ass":
        raw = _ass_cues(text, label)
    else:
        raw = _block_cues(text, kind, label)
    if not raw:
        raise CaptionError(f"{label}: no cues found")
    cues = _tidy(raw, rolling=kind != "json")
    if not cues:
        raise CaptionError(f"{label}: none of its {len(raw)} cues has any text")
    return cues


def _decode(data: bytes | str, name: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252: what caption files
    made on Windows are in when they are not UTF-8."""
    if isinstance(data, str):
        text = data
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", "replace")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", "replace")
    if "\x00" in text:
        raise CaptionError(f"{name}: cannot read captions: binary data, not text")
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _sniff(text: str, name: str) -> str:
    head = text.lstrip()
    if head.startswith("WEBVTT"):
        return "vtt"
    if head.startswith(("{", "[")) and not head.startswith("[Script Info]"):
        return "json"
    if "[Script Info]" in text or "[Events]" in text:
        return "ass"
    if "-->" in text:
        return "srt"
    raise CaptionError(f"{name}: cannot read captions: not SRT, WebVTT, ASS or a JSON transcript")


def _seconds(groups: tuple[str | None, ...]) -> float:
    hours, minutes, secs, frac = groups
    fraction = int(frac) / 10 ** len(frac) if frac else 0.0  # ",5" is half a second
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(secs) + fraction


def _block_cues(text: str, kind: str, label: str) -> list[_Raw]:
    """SRT and WebVTT alike: a timing line starts a cue, a line just before it that is not blank
    is its identifier (in SRT only a number: a file may omit both ids and blank lines), and
    the cue's text runs to the next blank line. Text after a stray
    blank line joins the cue before it in SRT (players show it); WebVTT blocks without timing
    (NOTE, STYLE, REGION, the header) are skipped, as its spec says."""
    lines = text.split("\n")
    cues: list[_Raw] = []
    current: _Raw | None = None
    for number, line in enumerate(lines, 1):
        if "-->" in line:
            match = _TIMING.match(line)
            if match is None:
                shown = line.strip()[:60]
                raise CaptionError(f"{label}: line {number}: cannot read the timing {shown!r}")
            previous = lines[number - 2].strip() if number > 1 else ""
            if current and current.lines and previous and (kind == "vtt" or previous.isdigit()):
                current.lines.pop()  # this cue's identifier, read as the last one's text
            groups = match.groups()
            current = _Raw(_seconds(groups[:4]), _seconds(groups[4:]), [])
            cues.append(current)
        elif not line.strip():
            if kind == "vtt":
                current = None
        elif current is not None:
            current.lines.append(line)
    return cues


def _ass_cues(text: str, label: str) -> list[_Raw]:
    import pysubs2

    try:
        subs = pysubs2.SSAFile.from_string(text, format_="ass")
    except Exception as exc:  # pysubs2 raises plain ValueErrors and its own types alike
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CaptionError(f"{label}: {reason}") from None
    return [
        _Raw(e.start / 1000, e.end / 1000, e.plaintext.split("\n"))
        for e in subs.events
        if e.is_text
    ]


def _json_cues(text: str, label: str) -> list[_Raw]:
    """Podcasting 2.0 JSON (`segments` of `startTime`, `endTime`, `body`; a segment without
    `endTime` ends where the next starts), plus the `start`/`end`/`text` segments many
    speech-to-text tools write and the `cues` of `vtembed transcribe --format json`."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaptionError(f"{label}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    items = doc.get("segments", doc.get("cues")) if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise CaptionError(f"{label}: no 'segments' list")
    found: list[tuple[float, float | None, str]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise CaptionError(f"{label}: segment {index} is not an object")
        start = _number(item, ("startTime", "start", "start_sec"), index, label)
        end = _number(item, ("endTime", "end", "end_sec"), index, label, required=False)
        found.append((start or 0.0, end, str(item.get("body", item.get("text")) or "")))
    cues = []
    for index, (start, end, body) in enumerate(found):
        if end is None:
            later = found[index + 1][0] if index + 1 < len(found) else start
            end = max(start, later)
        cues.append(_Raw(start, end, body.split("\n")))
    return cues


def _number(
    item: dict[str, Any], keys: tuple[str, ...], index: int, label: str, required: bool = True
) -> float | None:
    for key in keys:
        if item.get(key) is not None:
            try:
                return float(item[key])
            except (TypeError, ValueError):
                shown = f"{key} {item[key]!r}"
                raise CaptionError(f"{label}: segment {index}: {shown} is not a number") from None
    if required:
        raise CaptionError(f"{label}: segment {index} has no {keys[0]}")
    return None


def _clean(line: str) -> str:
    """Text as it is read aloud: no tags or ASS overrides, entities decoded, spaces collapsed."""
    line = _TAG.sub("", _OVERRIDE.sub("", line))
    line = html.unescape(line).replace("\\N", " ").replace("\\n", " ").replace("\\h", " ")
    line = line.replace("\u200e", "").replace("\u200f", "")
    return _SPACE.sub(" ", line).strip()


def _tidy(raw: list[_Raw], rolling: bool = True) -> list[Cue]:
    """Clean, drop empty cues, sort by start, and merge repeats with the cue just before:

    - the same text again, overlapping or touching it (a cue stored twice, YouTube's 10 ms
      copies): one cue, spanning both;
    - rolling (roll-up) captions, where a cue opens with the last line(s) the cue before showed
      and adds one: the repeated lines are dropped from the later cue; a cue made only of
      repeated lines extends the earlier one instead.

    Only whole lines, case and spacing ignored, and only across a gap under 0.1 s count as
    repeats, so a line said twice with a pause between stays twice. Without `rolling` (JSON
    transcripts, often a word per segment: "no, no" is two segments) only a cue stored twice,
    same times and text, is merged. A cue ending before it starts is taken to end there."""
    cleaned = []
    for cue in raw:
        lines = [c for c in (_clean(line) for line in cue.lines) if c]
        if lines:
            cleaned.append(_Raw(cue.start, max(cue.start, cue.end), lines, lines))
    cleaned.sort(key=lambda c: (c.start, c.end))
    kept: list[_Raw] = []
    merged = trimmed = 0
    for cue in cleaned:
        last = kept[-1] if kept else None
        if last is None or cue.start > last.end + _ROLL_GAP_SEC:
            kept.append(cue)
            continue
        repeated = _repeated_lines(last.shown or last.lines, cue.lines)
        if not rolling and (
            repeated < len(cue.lines) or (cue.start, cue.end) != (last.start, last.end)
        ):
            kept.append(cue)
        elif repeated == len(cue.lines):
            last.end = max(last.end, cue.end)
            merged += 1
        elif repeated:
            kept.append(_Raw(cue.start, cue.end, cue.lines[repeated:], cue.lines))
            trimmed += 1
        else:
            kept.append(cue)
    if merged or trimmed:
        log.debug("captions: %d repeated cues merged, %d rolling cues trimmed", merged, trimmed)
    return [Cue(c.start, c.end, " ".join(c.lines)) for c in kept]


def _repeated_lines(before: list[str], after: list[str]) -> int:
    """How many of `after`'s first lines are `before`'s last lines (the longest such run), or
    all of `after` when its text is `before`'s."""
    key = [_key(x) for x in before]
    new = [_key(x) for x in after]
    if " ".join(new) == " ".join(key):
        return len(new)
    for size in range(min(len(key), len(new)), 0, -1):
        if key[-size:] == new[:size]:
            return size
    return 0


def _key(line: str) -> str:
    return line.casefold()
