"""Whether an item's transcript comes from captions it already has, and which ones.

Captions someone made (a feed's `podcast:transcript`, a sidecar file, a subtitle stream) are
usually better than tiny.en's guess and cost nothing, so they stand in for Whisper unless
`[captions] prefer = "whisper"`. With "auto" only captions in the language Whisper would
transcribe (or with no language) do: a French subtitle track of an English talk is a
translation, not what is said. Captions that cannot be read are one warning line each, and the
next candidate (in the end Whisper) is used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vtembed.assets import KeptTranscript, TranscriptSource, transcript_key
from vtembed.captions import CaptionError, Cue
from vtembed.models import MediaInfo, MediaItem
from vtembed.settings import Settings


@dataclass(frozen=True)
class _Candidate:
    source: TranscriptSource
    description: str
    language: str | None
    read: Callable[[], list[Cue]]


def captions_transcript(
    item: MediaItem, info: MediaInfo, settings: Settings, warn: Callable[[str], None]
) -> KeptTranscript | None:
    """The item's captions as its transcript, or None: Whisper transcribes it."""
    prefer = settings.captions.prefer
    if prefer == "whisper":
        return None
    wanted = settings.whisper.language
    candidates = [c for c in _candidates(item, info) if prefer == "captions" or _fits(c, wanted)]
    failed: list[str] = []
    for candidate in candidates:
        try:
            cues = candidate.read()
        except CaptionError as exc:
            failed.append(str(exc))
            continue
        _warn_failed(failed, f"using {candidate.description} instead", warn)
        return KeptTranscript(
            item=item,
            info=info,
            duration_sec=info.duration_sec,
            source=candidate.source,
            language=_short(candidate.language) or _default_language(wanted),
            key=transcript_key(item, settings),
            cues=tuple(cues),
            origin=candidate.description,
        )
    _warn_failed(failed, "transcribing with Whisper instead", warn)
    return None


def _candidates(item: MediaItem, info: MediaInfo) -> list[_Candidate]:
    from vtembed.caption_finder import find_captions

    found: list[_Candidate] = []
    if item.transcript_url:
        from vtembed.feed_captions import fetch_captions, shown_url

        found.append(
            _Candidate("feed", shown_url(item.transcript_url), None, lambda: fetch_captions(item))
        )
    for c in find_captions(info.path):
        found.append(_Candidate(c.kind, c.description, c.language, c.read))
    return found


def _fits(candidate: _Candidate, wanted: str) -> bool:
    """Untagged captions, or captions in Whisper's language (any, when it detects it)."""
    if candidate.language is None or wanted in ("", "auto"):
        return True
    return _short(candidate.language) == _short(wanted)


_THREE_LETTER = {"eng": "en", "spa": "es", "fra": "fr", "fre": "fr", "deu": "de", "ger": "de"}


def _short(language: str | None) -> str | None:
    """'en' for en, eng, en-US, en_GB: the forms tags and settings use."""
    if not language:
        return None
    base = language.casefold().replace("_", "-").split("-")[0]
    return _THREE_LETTER.get(base, base)


def _default_language(wanted: str) -> str:
    return "en" if wanted in ("", "auto") else wanted


def _warn_failed(failed: list[str], then: str, warn: Callable[[str], None]) -> None:
    for n, message in enumerate(failed):
        warn(f"{message}; {then if n == len(failed) - 1 else 'trying the next captions'}")
