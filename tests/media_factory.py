"""Generate the media that vtembed's tests and demo use, from nothing.

Plain module, no pytest inside: every file is made on the spot with espeak-ng (speech),
numpy (music, silence, exact sample placement) and ffmpeg (containers and codecs), called
through ``subprocess`` with argument lists, so paths with spaces, quotes and non-ASCII
characters work as they are.

Needs on the machine: ``ffmpeg``/``ffprobe``, ``espeak-ng`` and ``sox`` (Debian packages
``ffmpeg espeak-ng sox``). :func:`missing_tools` lists what is absent so a test can skip.

Every function that writes a file returns its :class:`~pathlib.Path` (``speech_after_music``
returns a :class:`SpeechPlacement`, which unpacks as ``path, start, end``). Functions that
take ``(dir, name, ...)`` write ``dir / f"{name}.{ext}"`` (``name`` may already end in the
extension) and create ``dir`` if needed.

All internal audio is 16 kHz mono signed 16-bit (exact sample placement); opus streams are
resampled to 48 kHz, opus's native rate, at encode time.
"""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
import subprocess
import tempfile
import time
import wave
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "CONTAINERS",
    "DEFAULT_RATE",
    "DEFAULT_VOICE",
    "DEMO_TEXT",
    "LONG_PARAGRAPHS",
    "OTHER_TEXT",
    "QUOTED_NAME",
    "SAMPLE_RATE",
    "SPEECH_TEXT",
    "UNICODE_NAME",
    "DecodeReport",
    "SpeechPlacement",
    "build_mixed_set",
    "corrupt_tail",
    "decode_report",
    "long_speech_wav",
    "missing_tools",
    "music_only",
    "no_audio_video",
    "not_media",
    "probe",
    "silent_media",
    "speech_after_music",
    "speech_duration",
    "speech_media",
    "speech_wav",
    "truncated",
    "truncated_tail_mkv",
    "truncated_tail_mp3",
    "two_audio_streams",
    "zero_bytes",
]

SAMPLE_RATE = 16_000

# Chosen by measuring Whisper tiny.en (faster-whisper 1.2.1, int8, beam 5, vad_filter, word
# timestamps) WER on SPEECH_TEXT at 130/150/165 wpm: en-us 1.3/0.0/0.0 %, en (en-gb)
# 1.3/0.0/0.0 %, mbrola mb-en1 4.0/1.3/1.3 %, mb-us2 5.3/10.7/13.3 %; at 150 wpm mb-us1
# 14.7 %, mb-us3 13.3 %. en-us at 150 gives 0 % in every container of CONTAINERS and needs no
# package beyond espeak-ng (mbrola voices are in Debian's contrib/non-free).
DEFAULT_VOICE = "en-us"
DEFAULT_RATE = 150  # words per minute (espeak-ng -s)

# ~75 words of plain English: common words, short sentences, full stops, no numbers or words
# with two spellings (so plain lower-case/no-punctuation normalisation is enough). For WER tests.
SPEECH_TEXT = (
    "The sun came up over the small town. "
    "A man walked his dog down the quiet street. "
    "The dog stopped to smell a red flower near the gate. "
    "The children walked to school together. "
    "A woman opened the shop and put fresh fruit on the table. "
    "The train came in the morning and took people to work. "
    "Later the sky turned dark and it started to rain. "
    "Everyone went inside to stay warm and dry."
)

# 26 words; the same sentences examples/make_example_media.sh speaks in the demo video
# (there one at a time, 2 s apart, the first word at 2.0 s).
DEMO_TEXT = (
    "A man is walking his dog across the street. "
    "A red car slows down to let the man cross. "
    "Then they go to the park together."
)

# Different speech for a second audio stream.
OTHER_TEXT = (
    "Please close the window before you leave the kitchen. The cat is sleeping on the blue chair."
)

# Paragraphs that long_speech_wav cycles through.
LONG_PARAGRAPHS = (
    SPEECH_TEXT,
    "My brother likes to cook on the weekend. He makes soup with carrots, potatoes and "
    "onions. We eat it with warm bread and cheese. After dinner we play cards and drink tea.",
    "The train left the station at nine in the morning. It was full of people going to the "
    "city. Some of them read books, and some looked out of the window at the green fields.",
    "Our team won the game on Saturday. The score was three to one. The fans sang all the way "
    "home, and the coach said he was very proud of the players.",
)

# File names (without extension) that break naive quoting and encoding.
UNICODE_NAME = "caf\u00e9 d\u00e9j\u00e0 vu \u2013 \u6771\u4eac"  # cafe deja vu, en dash, Tokyo
QUOTED_NAME = 'it\'s a "quoted" name'

VIDEO_SIZE = "160x120"
VIDEO_FPS = 10


@dataclass(frozen=True)
class _Container:
    ext: str
    fmt: str  # ffmpeg muxer name
    acodec: list[str]
    vcodec: list[str] | None = None  # None: audio-only container
    audio_rate: int = SAMPLE_RATE
    extra: list[str] = field(default_factory=list)


_X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
_VP8 = ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "150k"]
_VP9 = [
    "-c:v",
    "libvpx-vp9",
    "-deadline",
    "realtime",
    "-cpu-used",
    "8",
    "-b:v",
    "150k",
    "-row-mt",
    "1",
]
_MPEG4 = ["-c:v", "mpeg4", "-q:v", "5"]
_AAC = ["-c:a", "aac", "-b:a", "64k"]
_OPUS = ["-c:a", "libopus", "-b:a", "48k"]

#: container key -> how it is written. Keys are what ``speech_media(..., container)`` takes.
CONTAINERS: dict[str, _Container] = {
    "mp4": _Container("mp4", "mp4", _AAC, _X264),
    "mp4-faststart": _Container("mp4", "mp4", _AAC, _X264, extra=["-movflags", "+faststart"]),
    "mkv": _Container("mkv", "matroska", _OPUS, _VP8, audio_rate=48_000),
    "mkv-h264": _Container("mkv", "matroska", _OPUS, _X264, audio_rate=48_000),
    "webm": _Container("webm", "webm", _OPUS, _VP9, audio_rate=48_000),
    "mov": _Container("mov", "mov", ["-c:a", "pcm_s16le"], _X264),
    "mov-mpeg4": _Container("mov", "mov", ["-c:a", "pcm_s16le"], _MPEG4),
    "ts": _Container("ts", "mpegts", _AAC, _X264),
    "wav": _Container("wav", "wav", ["-c:a", "pcm_s16le"]),
    "mp3": _Container("mp3", "mp3", ["-c:a", "libmp3lame", "-b:a", "64k"]),
    "flac": _Container("flac", "flac", ["-c:a", "flac"]),
    "ogg": _Container("ogg", "ogg", ["-c:a", "libvorbis", "-q:a", "3"]),
    "opus": _Container("opus", "ogg", _OPUS, audio_rate=48_000),
    "m4a": _Container("m4a", "ipod", _AAC),
}


class SpeechPlacement(NamedTuple):
    """A file with speech at a known place. Unpacks as ``path, speech_start, speech_end``."""

    path: Path
    speech_start: float  # seconds: first non-silent sample of the voice
    speech_end: float  # seconds: last non-silent sample of the voice


@dataclass(frozen=True)
class DecodeReport:
    """What a full ``ffmpeg`` decode of a file gave."""

    returncode: int
    decoded_seconds: float  # audio actually decoded (samples / rate)
    errors: list[str]  # ffmpeg's error lines (loglevel error)


# --------------------------------------------------------------------------------------
# tools
# --------------------------------------------------------------------------------------

_TOOLS = ("ffmpeg", "ffprobe", "espeak-ng", "sox")


def missing_tools() -> list[str]:
    """The external programs this module needs that are not on PATH (empty when all are)."""
    return [t for t in _TOOLS if shutil.which(t) is None]


def _run(cmd: list[str], *, input: bytes | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, input=input, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{cmd[0]} failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
            + proc.stderr.decode("utf-8", "replace")[-4000:]
        )
    return proc


def _ffmpeg(*args: str | os.PathLike) -> None:
    _run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)])


def probe(path: str | os.PathLike) -> dict:
    """``ffprobe -show_format -show_streams`` as a dict."""
    out = _run(
        [
            "ffprobe",
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            str(path),
        ]
    ).stdout
    return json.loads(out)


def _out(directory: str | os.PathLike, name: str, ext: str) -> Path:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    fname = name if name.lower().endswith("." + ext) else f"{name}.{ext}"
    return (d / fname).absolute()


# --------------------------------------------------------------------------------------
# PCM helpers (16 kHz mono int16 numpy arrays)
# --------------------------------------------------------------------------------------


def _write_wav(path: str | os.PathLike, samples: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.asarray(samples)
    if data.dtype != np.int16:
        data = np.clip(np.round(data * 32767.0), -32768, 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.astype("<i2").tobytes())
    return path


def _read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ValueError(f"{path}: expected mono 16-bit WAV")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16), (
            w.getframerate()
        )


def _voiced_bounds(samples: np.ndarray, threshold: int = 100) -> tuple[int, int]:
    """Index of the first and one past the last sample whose magnitude exceeds threshold.

    100/32768 is about -50 dBFS: espeak-ng's leading/trailing padding is digital zero, so
    the bound lands on the first audible sample of the voice.
    """
    idx = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if idx.size == 0:
        return 0, 0
    return int(idx[0]), int(idx[-1]) + 1


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(round(float(seconds * SAMPLE_RATE)), dtype=np.int16)


@functools.lru_cache(maxsize=64)
def _speech_samples(text: str, voice: str, rate: int, trim: bool) -> np.ndarray:
    """espeak-ng speech as 16 kHz mono int16 (cached: the same text is spoken once)."""
    with tempfile.TemporaryDirectory(prefix="vtembed-tts-") as tmp:
        raw = Path(tmp) / "espeak.wav"
        res = Path(tmp) / "speech16k.wav"
        # Text goes in on stdin: nothing in it can be taken for an option.
        _run(
            ["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(raw), "--stdin"],
            input=text.encode("utf-8"),
        )
        # espeak voices are 22050 Hz, mbrola ones 16 kHz: bring all to 16 kHz mono s16.
        # -D: no dither, so silence stays digital zero and the output is repeatable.
        _run(["sox", "-D", "-q", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(res)])
        samples, _ = _read_wav(res)
    if trim:
        a, b = _voiced_bounds(samples)
        samples = samples[a:b]
    samples = samples.copy()
    samples.setflags(write=False)
    return samples


# --------------------------------------------------------------------------------------
# music-like audio (no speech)
# --------------------------------------------------------------------------------------

_NOTE = {"C": -9, "D": -7, "E": -5, "F": -4, "G": -2, "A": 0, "B": 2}


def _freq(note: str) -> float:
    """'A4' -> 440.0; sharps as '#': 'F#3'."""
    name, octave = note[:-1], int(note[-1])
    semis = _NOTE[name[0]] + (1 if name.endswith("#") else 0) + 12 * (octave - 4)
    return 440.0 * 2.0 ** (semis / 12.0)


def _music(seconds: float, *, bpm: float = 120.0, level: float = 0.35) -> np.ndarray:
    """A chord progression of plucked tones with bass and a hi-hat tick on each beat.

    Harmonic, rhythmic, no formants: music-like and nothing like speech. Deterministic.
    """
    n = round(float(seconds * SAMPLE_RATE))
    out = np.zeros(n, dtype=np.float64)
    beat = 60.0 / bpm
    beat_n = round(float(beat * SAMPLE_RATE))
    chords = [  # I - vi - IV - V in C, four beats each
        ("C3", "C4", "E4", "G4"),
        ("A2", "A3", "C4", "E4"),
        ("F2", "F3", "A3", "C4"),
        ("G2", "G3", "B3", "D4"),
    ]
    t = np.arange(beat_n) / SAMPLE_RATE
    env = np.exp(-t * 5.0) * (1.0 - np.exp(-t * 400.0))  # pluck: fast attack, decay
    rng = np.random.default_rng(1234)
    hat = rng.standard_normal(beat_n) * np.exp(-t * 60.0) * 0.08
    for k, start in enumerate(range(0, n, beat_n)):
        chord = chords[(k // 4) % len(chords)]
        tone = np.zeros(beat_n)
        for j, note in enumerate(chord):
            f = _freq(note)
            amp = 0.5 if j == 0 else 0.25
            for h, ha in ((1, 1.0), (2, 0.4), (3, 0.2)):
                tone += amp * ha * np.sin(2 * np.pi * f * h * t)
        tone = tone * env + hat * (1.0 if k % 2 else 0.5)
        end = min(n, start + beat_n)
        out[start:end] += tone[: end - start]
    peak = np.max(np.abs(out)) or 1.0
    # short fades so the music does not click in and out
    fade = min(n // 2, int(0.02 * SAMPLE_RATE))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return np.round(out / peak * level * 32767).astype(np.int16)


def _tone(seconds: float, freq: float = 440.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(round(float(seconds * SAMPLE_RATE))) / SAMPLE_RATE
    return np.round(np.sin(2 * np.pi * freq * t) * level * 32767).astype(np.int16)


# --------------------------------------------------------------------------------------
# encoding
# --------------------------------------------------------------------------------------


def _container(container: str) -> _Container:
    try:
        return CONTAINERS[container]
    except KeyError:
        raise ValueError(
            f"unknown container {container!r}; one of: {', '.join(CONTAINERS)}"
        ) from None


def _testsrc(seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc=size={VIDEO_SIZE}:rate={VIDEO_FPS}:duration={seconds}"]


def _encode(
    out: Path,
    c: _Container,
    audio: list[np.ndarray] | None,
    seconds: float,
    *,
    video: bool,
    audio_args: list[str] | None = None,
) -> Path:
    """Mux ``audio`` streams (each int16 16 kHz) and optionally testsrc video into ``out``."""
    want_video = video and c.vcodec is not None
    with tempfile.TemporaryDirectory(prefix="vtembed-enc-") as tmp:
        args: list[str] = []
        maps: list[str] = []
        n_in = 0
        for i, pcm in enumerate(audio or []):
            wav = _write_wav(Path(tmp) / f"a{i}.wav", pcm)
            args += ["-i", str(wav)]
            maps += ["-map", f"{n_in}:a"]
            n_in += 1
        if want_video:
            args += _testsrc(seconds)
            maps = ["-map", f"{n_in}:v", *maps]
            n_in += 1
        if not maps:
            raise ValueError("nothing to encode: no audio and no video")
        codec: list[str] = []
        if want_video:
            codec += c.vcodec  # type: ignore[operator]
        if audio:
            codec += [*c.acodec, "-ar", str(c.audio_rate), "-ac", "1"]
        _ffmpeg(
            *args,
            *maps,
            *codec,
            *(audio_args or []),
            "-t",
            f"{seconds:.6f}",
            *c.extra,
            "-map_metadata",
            "-1",
            "-f",
            c.fmt,
            out,
        )
    return out


# --------------------------------------------------------------------------------------
# public: speech
# --------------------------------------------------------------------------------------


def speech_wav(
    path: str | os.PathLike,
    text: str = SPEECH_TEXT,
    *,
    voice: str = DEFAULT_VOICE,
    rate: int = DEFAULT_RATE,
    trim: bool = False,
) -> Path:
    """espeak-ng ``text`` into a 16 kHz mono 16-bit WAV at ``path``.

    ``trim=True`` cuts espeak's leading and trailing silence so the file starts on the
    first audible sample of the voice and ends on the last.
    """
    return _write_wav(Path(path).absolute(), _speech_samples(text, voice, rate, trim))


def speech_duration(
    text: str = SPEECH_TEXT, *, voice: str = DEFAULT_VOICE, rate: int = DEFAULT_RATE
) -> float:
    """Seconds of voice (trimmed) that ``text`` gives."""
    return len(_speech_samples(text, voice, rate, True)) / SAMPLE_RATE


def speech_media(
    directory: str | os.PathLike,
    name: str,
    container: str = "mp4",
    *,
    text: str = SPEECH_TEXT,
    video: bool = True,
    lead_silence: float = 0.0,
    tail_silence: float = 0.5,
    voice: str = DEFAULT_VOICE,
    rate: int = DEFAULT_RATE,
) -> Path:
    """Speech in the given container (see :data:`CONTAINERS`), with testsrc video if it has one.

    The voice is trimmed and starts exactly ``lead_silence`` seconds in (in the PCM that was
    encoded; lossy codecs smear the onset by a few ms). ``video`` is ignored for audio-only
    containers (wav, mp3, flac, ogg, opus, m4a).
    """
    c = _container(container)
    out = _out(directory, name, c.ext)
    speech = _speech_samples(text, voice, rate, True)
    pcm = np.concatenate([_silence(lead_silence), speech, _silence(tail_silence)])
    return _encode(out, c, [pcm], len(pcm) / SAMPLE_RATE, video=video)


def two_audio_streams(
    directory: str | os.PathLike,
    name: str,
    *,
    text: str = SPEECH_TEXT,
    speech_stream: int = 0,
    other: str = "tone",
    container: str = "mkv-h264",
    voice: str = DEFAULT_VOICE,
    rate: int = DEFAULT_RATE,
) -> Path:
    """Video with two audio streams; the one carrying ``text`` is the only *default* one.

    ``speech_stream=0``: audio stream 0 is speech and default, stream 1 is not default.
    ``speech_stream=1``: stream 0 (not default) carries the other content, stream 1 is the
    speech and the default (``-disposition:a:1 default -disposition:a:0 0``), so a reader
    that takes the first stream instead of the default one gets the wrong audio.
    ``other`` is ``"tone"`` (440 Hz sine) or ``"speech"`` (:data:`OTHER_TEXT`).
    Stream titles are "speech" and "other". The dispositions are checked with ffprobe.
    """
    if speech_stream not in (0, 1):
        raise ValueError("speech_stream must be 0 or 1")
    c = _container(container)
    if c.vcodec is None:
        raise ValueError(f"{container!r} is audio-only; use a video container")
    out = _out(directory, name, c.ext)
    speech = np.concatenate(
        [_silence(0.3), _speech_samples(text, voice, rate, True), _silence(0.5)]
    )
    seconds = len(speech) / SAMPLE_RATE
    if other == "tone":
        alt = _tone(seconds)
    elif other == "speech":
        alt = _speech_samples(OTHER_TEXT, voice, rate, True)
        alt = np.concatenate([_silence(0.3), alt])[: len(speech)]
        alt = np.concatenate([alt, _silence((len(speech) - len(alt)) / SAMPLE_RATE)])
    else:
        raise ValueError("other must be 'tone' or 'speech'")
    streams = [speech, alt] if speech_stream == 0 else [alt, speech]
    o = 1 - speech_stream
    meta = [
        "-disposition:v:0",
        "default",
        f"-disposition:a:{speech_stream}",
        "default",
        f"-disposition:a:{o}",
        "0",
        f"-metadata:s:a:{speech_stream}",
        "title=speech",
        f"-metadata:s:a:{o}",
        "title=other",
        f"-metadata:s:a:{speech_stream}",
        "language=eng",
        f"-metadata:s:a:{o}",
        "language=eng",
    ]
    _encode(out, c, streams, seconds, video=True, audio_args=meta)
    flags = [
        s["disposition"]["default"] for s in probe(out)["streams"] if s["codec_type"] == "audio"
    ]
    want = [1, 0] if speech_stream == 0 else [0, 1]
    if flags != want:
        raise RuntimeError(f"{out}: audio default dispositions are {flags}, wanted {want}")
    return out


def speech_after_music(
    directory: str | os.PathLike,
    name: str,
    *,
    speech_start: float = 30.0,
    music_start: float = 15.0,
    music_end: float | None = None,
    tail_silence: float = 1.0,
    text: str = SPEECH_TEXT,
    container: str = "mp4",
    video: bool = True,
    voice: str = DEFAULT_VOICE,
    rate: int = DEFAULT_RATE,
) -> SpeechPlacement:
    """Silence, then music, then speech whose first audible sample is at ``speech_start``.

    Default timeline: 0-15 s digital silence, 15-30 s music, speech from exactly 30.0 s to
    ``speech_end`` (30.0 + trimmed voice length), then ``tail_silence``. ``container`` is
    "mp4" (h264+aac with video) or "wav", or any key of :data:`CONTAINERS`.
    Returns ``SpeechPlacement(path, speech_start, speech_end)``.
    """
    music_end = speech_start if music_end is None else music_end
    if not 0.0 <= music_start <= music_end <= speech_start:
        raise ValueError("need 0 <= music_start <= music_end <= speech_start")
    c = _container(container)
    out = _out(directory, name, c.ext)
    speech = _speech_samples(text, voice, rate, True)
    start_n = round(float(speech_start * SAMPLE_RATE))
    pcm = np.concatenate(
        [
            _silence(music_start),
            _music(music_end - music_start),
            _silence(speech_start - music_end),
        ]
    )
    pcm = np.concatenate([pcm[:start_n], _silence((start_n - len(pcm)) / SAMPLE_RATE)])
    pcm = np.concatenate([pcm, speech, _silence(tail_silence)])
    _encode(out, c, [pcm], len(pcm) / SAMPLE_RATE, video=video)
    return SpeechPlacement(out, start_n / SAMPLE_RATE, (start_n + len(speech)) / SAMPLE_RATE)


def long_speech_wav(
    path: str | os.PathLike,
    minutes: float,
    *,
    paragraphs: Iterable[str] = LONG_PARAGRAPHS,
    pause: float = 0.8,
    voice: str = DEFAULT_VOICE,
    rate: int = DEFAULT_RATE,
) -> Path:
    """A WAV of at least ``minutes`` of speech: the paragraphs, spoken once each, repeated
    with ``pause`` seconds between them, written in a stream (memory stays small)."""
    path = Path(path).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    gap = _silence(pause)
    blocks = [
        np.concatenate([_speech_samples(p, voice, rate, True), gap]).astype("<i2").tobytes()
        for p in paragraphs
    ]
    target = math.ceil(minutes * 60.0 * SAMPLE_RATE) * 2  # bytes
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        written = 0
        i = 0
        while written < target:
            block = blocks[i % len(blocks)][: target - written]
            w.writeframes(block)
            written += len(block)
            i += 1
    return path


# --------------------------------------------------------------------------------------
# public: no speech
# --------------------------------------------------------------------------------------


def silent_media(
    directory: str | os.PathLike,
    name: str,
    seconds: float,
    *,
    container: str = "mp4",
    video: bool = True,
) -> Path:
    """testsrc video with an all-silent audio track (ffmpeg ``anullsrc``)."""
    c = _container(container)
    out = _out(directory, name, c.ext)
    want_video = video and c.vcodec is not None
    args = ["-f", "lavfi", "-i", f"anullsrc=r={c.audio_rate}:cl=mono"]
    maps = ["-map", "0:a"]
    codec = list(c.acodec)
    if want_video:
        args += _testsrc(seconds)
        maps = ["-map", "1:v", *maps]
        codec = [*c.vcodec, *codec]  # type: ignore[misc]
    _ffmpeg(
        *args,
        *maps,
        *codec,
        "-t",
        f"{seconds:.6f}",
        *c.extra,
        "-map_metadata",
        "-1",
        "-f",
        c.fmt,
        out,
    )
    return out


def music_only(
    directory: str | os.PathLike,
    name: str,
    seconds: float,
    *,
    container: str = "mp4",
    video: bool = True,
) -> Path:
    """Music-like audio (plucked chords, bass, hi-hat; no voice) for ``seconds``."""
    c = _container(container)
    out = _out(directory, name, c.ext)
    return _encode(out, c, [_music(seconds)], seconds, video=video)


def no_audio_video(
    directory: str | os.PathLike,
    name: str,
    seconds: float = 3.0,
    *,
    container: str = "mp4",
) -> Path:
    """testsrc video with no audio stream at all."""
    c = _container(container)
    if c.vcodec is None:
        raise ValueError(f"{container!r} is audio-only")
    out = _out(directory, name, c.ext)
    return _encode(out, c, None, seconds, video=True)


# --------------------------------------------------------------------------------------
# public: bad files
# --------------------------------------------------------------------------------------


def zero_bytes(path: str | os.PathLike) -> Path:
    """An empty file (give it a media extension, e.g. ``empty.mp4``)."""
    path = Path(path).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def not_media(path: str | os.PathLike, text: str | None = None) -> Path:
    """A text file under a media name, e.g. ``notes.mp4``."""
    path = Path(path).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        text
        if text is not None
        else "Meeting notes\n- buy milk\n- call the plumber about the sink\n" * 20,
        encoding="utf-8",
    )
    return path


def truncated(
    path_of_good: str | os.PathLike, out: str | os.PathLike, fraction: float = 0.4
) -> Path:
    """The first ``fraction`` of the bytes of a good file.

    For an ordinary (non-faststart) mp4 the ``moov`` index is at the end, so the result
    cannot be probed or decoded at all: the "broken file" case.
    """
    data = Path(path_of_good).read_bytes()
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


def corrupt_tail(
    path_of_good: str | os.PathLike,
    out: str | os.PathLike,
    *,
    keep: float = 0.5,
    garbage: int = 16_384,
    seed: int = 7,
) -> Path:
    """The first ``keep`` of the bytes of a good file, then ``garbage`` random bytes.

    For mp3, mkv/webm, ogg or a faststart mp4 the head still decodes and ffmpeg reports errors
    at the tail: the "what decodes plus a warning" case. (Not MPEG-TS: ffmpeg skips the junk
    there without a word.) ffmpeg still exits 0: look at its stderr (:func:`decode_report`).
    """
    data = Path(path_of_good).read_bytes()
    junk = np.random.default_rng(seed).integers(0, 256, garbage, dtype=np.uint8).tobytes()
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data[: int(len(data) * keep)] + junk)
    return out


def _bad_tail(directory, name, container, text, keep, voice, rate, video, garbage) -> Path:
    c = _container(container)
    final = _out(directory, name, c.ext)
    with tempfile.TemporaryDirectory(prefix="vtembed-good-") as tmp:
        good = speech_media(tmp, "good", container, text=text, video=video, voice=voice, rate=rate)
        if garbage:
            corrupt_tail(good, final, keep=keep)
        else:
            truncated(good, final, fraction=keep)
    return final


def truncated_tail_mp3(
    directory: str | os.PathLike,
    name: str,
    *,
    text: str = SPEECH_TEXT,
    keep: float = 0.5,
    voice: str = DEFAULT_VOICE,
    rate: int = DEFAULT_RATE,
) -> Path:
    """An mp3 of ``text`` cut after ``keep`` of its bytes and ended with random bytes.

    The head decodes (about ``keep`` of the duration, ~12.9 s of ~25.9 s by default) and
    ffmpeg's mp3 decoder reports "Header missing" / "Invalid data found when processing
    input" for the tail. (A plain cut mp3, without the garbage, decodes with no error.)
    """
    return _bad_tail(directory, name, "mp3", text, keep, voice, rate, False, True)


def truncated_tail_mkv(
    directory: str | os.PathLike,
    name: str,
    *,
    text: str = SPEECH_TEXT,
    keep: float = 0.5,
    voice: str = DEFAULT_VOICE,
    rate: int = DEFAULT_RATE,
) -> Path:
    """An mkv (h264 + opus, with video) cut after ``keep`` of its bytes, as an interrupted
    download or copy leaves it: the head decodes, the matroska demuxer reports
    "File ended prematurely". (Cut MPEG-TS is not used: ffmpeg decodes it with no error.)
    """
    return _bad_tail(directory, name, "mkv-h264", text, keep, voice, rate, True, False)


def decode_report(path: str | os.PathLike) -> DecodeReport:
    """Decode the first audio stream fully with ffmpeg; how much decoded and which errors."""
    proc = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-ac",
            "1",
            "-ar",
            str(SAMPLE_RATE),
            "-f",
            "s16le",
            "-",
        ],
        capture_output=True,
        check=False,
    )
    errors = [ln for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return DecodeReport(proc.returncode, len(proc.stdout) / 2 / SAMPLE_RATE, errors)


# --------------------------------------------------------------------------------------
# the whole set
# --------------------------------------------------------------------------------------


def build_mixed_set(directory: str | os.PathLike) -> dict[str, Path]:
    """Every kind of file above in ``directory``; returns ``{label: path}``.

    Includes names with spaces, quotes and non-ASCII. ``python tests/media_factory.py DIR``
    builds it and prints sizes and the time taken (~15 s on 2 cores).
    """
    d = Path(directory)
    files: dict[str, Path] = {}
    for key in CONTAINERS:
        files[f"speech-{key}"] = speech_media(d, f"speech {key}", key)
    files["speech-mp4-lead2"] = speech_media(d, "speech lead 2s", "mp4", lead_silence=2.0)
    files["speech-mp4-audio-only"] = speech_media(d, "speech audio only", "mp4", video=False)
    files["weird-name"] = speech_media(d, UNICODE_NAME, "mp4", text=DEMO_TEXT)
    files["quotes-name"] = speech_media(d, QUOTED_NAME, "mkv", text=DEMO_TEXT)
    files["speech-wav-plain"] = speech_wav(d / "speech plain.wav", SPEECH_TEXT)
    files["two-streams-first-default"] = two_audio_streams(d, "two streams first default")
    files["two-streams-second-default"] = two_audio_streams(
        d, "two streams second default", speech_stream=1
    )
    files["two-streams-mp4-second-default"] = two_audio_streams(
        d, "two streams mp4 second default", speech_stream=1, container="mp4", other="speech"
    )
    files["speech-after-music"] = speech_after_music(d, "speech after music").path
    files["speech-after-music-wav"] = speech_after_music(
        d, "speech after music", container="wav"
    ).path
    files["silent"] = silent_media(d, "silent", 10.0)
    files["music"] = music_only(d, "music", 15.0)
    files["no-audio"] = no_audio_video(d, "no audio")
    files["zero-bytes"] = zero_bytes(d / "empty.mp4")
    files["not-media"] = not_media(d / "notes.mp4")
    files["truncated-mp4"] = truncated(files["speech-mp4"], d / "truncated.mp4")
    files["bad-tail-mp3"] = truncated_tail_mp3(d, "bad tail")
    files["bad-tail-mkv"] = truncated_tail_mkv(d, "bad tail")
    files["long-2min"] = long_speech_wav(d / "long 2 min.wav", 2.0)
    return files


if __name__ == "__main__":  # python tests/media_factory.py OUTDIR
    import sys

    outdir = Path(sys.argv[1] if len(sys.argv) > 1 else "media-out")
    t0 = time.perf_counter()
    made = build_mixed_set(outdir)
    dt = time.perf_counter() - t0
    for label, p in made.items():
        print(f"{label:34s} {p.stat().st_size:>10,d}  {p.name}")
    print(f"{len(made)} files in {dt:.1f} s")


# --------------------------------------------------------------------------------------
# public: shots (what is seen)
# --------------------------------------------------------------------------------------

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # Debian fonts-dejavu-core

#: (seconds, colour, on-screen text or None) of each shot of :func:`shots_video`: 30 s, cuts
#: at 6, 11, 18 and 22 s; shots 0, 2 and 4 show text, 1 and 3 are plain colour.
SHOTS = (
    (6.0, "0x1f3b73", "Quarterly sales figures"),
    (5.0, "0x7a1f1f", None),
    (7.0, "0x1f6b3a", "Welcome to the lecture"),
    (4.0, "0x4a4a4a", None),
    (8.0, "0x6b5a1f", "Thank you for watching"),
)


class ShotsVideo(NamedTuple):
    """A video with known cuts. Unpacks as ``path, cuts, texts`` (``texts[i]``: shot i's text
    or None)."""

    path: Path
    cuts: list[float]
    texts: list[str | None]


def shots_video(
    directory: str | os.PathLike,
    name: str,
    *,
    shots: Iterable[tuple[float, str, str | None]] = SHOTS,
    size: str = "320x240",
    fps: int = 25,
    speech: str | None = DEMO_TEXT,
) -> ShotsVideo:
    """An mp4 (h264 + aac) of plain ``color`` shots cut hard into one another, the text of a
    shot drawn on it with ``drawtext`` (DejaVu Sans), with ``speech`` (or silence) as audio.
    The cuts are the shots' start times after the first."""
    spec = list(shots)
    out = _out(directory, name, "mp4")
    seconds = sum(s for s, _, _ in spec)
    args: list[str] = []
    chains = []
    for i, (length, colour, text) in enumerate(spec):
        args += ["-f", "lavfi", "-i", f"color=c={colour}:s={size}:r={fps}:d={length}"]
        draw = ""
        if text:
            escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
            draw = (
                f",drawtext=fontfile={FONT}:text='{escaped}':fontcolor=white:fontsize=h/12"
                ":x=(w-text_w)/2:y=(h-text_h)/2"
            )
        chains.append(f"[{i}:v]setsar=1,format=yuv420p{draw}[v{i}]")
    joined = "".join(f"[v{i}]" for i in range(len(spec)))
    graph = ";".join([*chains, f"{joined}concat=n={len(spec)}:v=1:a=0[v]"])
    pcm = _speech_samples(speech, DEFAULT_VOICE, DEFAULT_RATE, True) if speech else _silence(0)
    n = round(seconds * SAMPLE_RATE)
    pcm = np.concatenate([_silence(1.0), pcm, _silence(seconds)])[:n]
    with tempfile.TemporaryDirectory(prefix="vtembed-shots-") as tmp:
        wav = _write_wav(Path(tmp) / "audio.wav", pcm)
        _ffmpeg(
            *args,
            "-i",
            wav,
            "-filter_complex",
            graph,
            "-map",
            "[v]",
            "-map",
            f"{len(spec)}:a",
            *_X264,
            *_AAC,
            "-t",
            f"{seconds:.6f}",
            "-map_metadata",
            "-1",
            "-f",
            "mp4",
            out,
        )
    cuts, at = [], 0.0
    for length, _, _ in spec[:-1]:
        at += length
        cuts.append(round(at, 6))
    return ShotsVideo(out, cuts, [text for _, _, text in spec])


def cover_art_audio(
    directory: str | os.PathLike,
    name: str,
    container: str = "mp3",
    *,
    text: str = DEMO_TEXT,
) -> Path:
    """Speech in an mp3 or m4a with an attached picture (a 300x300 JPEG cover), which ffprobe
    lists as a video stream with ``disposition.attached_pic == 1``."""
    if container not in ("mp3", "m4a"):
        raise ValueError("cover art is written for mp3 and m4a")
    c = _container(container)
    out = _out(directory, name, c.ext)
    with tempfile.TemporaryDirectory(prefix="vtembed-cover-") as tmp:
        wav = _write_wav(
            Path(tmp) / "audio.wav", _speech_samples(text, DEFAULT_VOICE, DEFAULT_RATE, True)
        )
        cover = Path(tmp) / "cover.jpg"
        _ffmpeg("-f", "lavfi", "-i", "testsrc=s=300x300:d=1", "-frames:v", "1", cover)
        tags = ["-id3v2_version", "3"] if container == "mp3" else []
        _ffmpeg(
            "-i", wav, "-i", cover, "-map", "0:a", "-map", "1:v", *c.acodec, "-c:v", "mjpeg",
            "-disposition:v:0", "attached_pic", *tags, "-f", c.fmt, out,
        )  # fmt: skip
    pics = [s for s in probe(out)["streams"] if s.get("disposition", {}).get("attached_pic")]
    if not pics:
        raise RuntimeError(f"{out}: no attached picture")
    return out


def undecodable_video(directory: str | os.PathLike, name: str) -> Path:
    """A :func:`shots_video` remuxed to mkv with every byte of its video packets damaged (the
    ``noise`` bitstream filter): ffprobe still lists an h264 stream, no frame of it decodes."""
    out = _out(directory, name, "mkv")
    with tempfile.TemporaryDirectory(prefix="vtembed-bad-video-") as tmp:
        good = shots_video(tmp, "good", speech=None).path
        _ffmpeg("-i", good, "-map", "0", "-c", "copy", "-bsf:v", "noise=amount=1", out)
    return out
