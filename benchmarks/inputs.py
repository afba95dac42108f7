"""Long speech media for the benchmarks, generated once and cached in benchmarks/.cache/.

Real archives are compressed video with varied speech, pauses, music and silence, and a WAV of
four paragraphs on repeat would flatter decoding, VAD and Whisper alike. So the input is an mp4
(h264 + AAC, as archives are) assembled from espeak-ng paragraphs built from sentence templates,
two voices at several speeds, pauses of varying length, music interludes and stretches of
silence. The file name carries a hash of everything that shapes it: a second run finds it, and a
changed generator makes a new one instead of measuring a stale file.

    .venv/bin/python benchmarks/inputs.py 10 60    # generate ahead of time (optional)
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import media_factory as mf  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache"
GENERATOR = 2  # bump when the assembly below changes in a way the parameters do not show
SEED = 7
PARAGRAPHS = 48
VOICES = (("en-us", 150), ("en-us", 170), ("en", 140), ("en", 160))
PAUSE_SEC = (0.4, 2.2)  # between paragraphs
MUSIC_EVERY_SEC = (120.0, 240.0)  # an interlude this often
MUSIC_SEC = (6.0, 20.0)
SILENCE_CHANCE = 0.06  # after a paragraph
SILENCE_SEC = (3.0, 9.0)

_PEOPLE = (
    "my sister",
    "the old farmer",
    "a young doctor",
    "our neighbour",
    "the teacher",
    "a tired driver",
    "the new student",
    "my grandfather",
    "the baker",
    "a quiet boy",
)
_ACTS = (
    "walked to the market",
    "cooked a large dinner",
    "painted the kitchen wall",
    "read a long letter",
    "fixed the broken chair",
    "planted tomatoes in the garden",
    "waited for the last bus",
    "cleaned the windows",
    "wrote a short story",
    "carried the boxes upstairs",
)
_WHEN = (
    "early in the morning",
    "after lunch",
    "on a cold Sunday",
    "before the storm",
    "late at night",
    "during the holidays",
    "every second week",
    "when the rain stopped",
)
_AFTER = (
    "Nobody said a word about it.",
    "Then everyone went home.",
    "It took much longer than we thought.",
    "The whole street could hear the music.",
    "Later we found the keys under the table.",
    "The dog slept near the warm stove.",
    "Most people agreed it was a good idea.",
    "The price of bread went up again.",
    "We still talk about that day.",
    "The children laughed for an hour.",
)


@dataclass(frozen=True)
class SpeechInput:
    path: Path
    seconds: float
    composition: dict[str, float]  # seconds of speech, pause, music and silence
    generation_sec: float | None  # None: found in the cache
    reference: str = ""
    """What is said, in order: the paragraphs spoken whole (a WER reference)."""

    def describe(self) -> dict[str, object]:
        """The input's part of a result file."""
        return {
            "input": self.path.name,
            "input_seconds": round(self.seconds, 1),
            "input_composition_sec": self.composition,
            "input_generation_sec": self.generation_sec,
        }


def speech_input(minutes: float, container: str = "mp4") -> SpeechInput:
    """The cached input of `minutes`, generated first if it is not there."""
    params = _parameters(minutes, container)
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    ext = mf.CONTAINERS[container].ext
    path = CACHE / f"speech-{minutes:g}min-{container}-{key}.{ext}"
    manifest = path.with_name(path.name + ".json")
    reference = path.with_name(path.name + ".txt")
    generated = None
    if not (path.exists() and manifest.exists() and reference.exists()):
        started = time.perf_counter()
        composition, spoken = _generate(path, minutes, container)
        manifest.write_text(json.dumps(composition, indent=2) + "\n")
        reference.write_text("\n".join(spoken) + "\n", encoding="utf-8")
        generated = round(time.perf_counter() - started, 1)
        print(f"generated {path.name} in {generated} s (not part of any figure)", file=sys.stderr)
    composition = json.loads(manifest.read_text())
    said = reference.read_text(encoding="utf-8").strip()
    return SpeechInput(path, minutes * 60.0, composition, generated, said)


def _parameters(minutes: float, container: str) -> dict[str, object]:
    c = mf.CONTAINERS[container]
    return {
        "generator": GENERATOR,
        "minutes": minutes,
        "container": asdict(c),
        "video": [mf.VIDEO_SIZE, mf.VIDEO_FPS],
        "seed": SEED,
        "paragraphs": _paragraphs(),
        "voices": VOICES,
        "pause_sec": PAUSE_SEC,
        "music_every_sec": MUSIC_EVERY_SEC,
        "music_sec": MUSIC_SEC,
        "silence": [SILENCE_CHANCE, SILENCE_SEC],
    }


def _paragraphs() -> list[str]:
    rng = random.Random(SEED)
    paragraphs = []
    for _ in range(PARAGRAPHS):
        sentences = [
            f"{rng.choice(_PEOPLE).capitalize()} {rng.choice(_ACTS)} {rng.choice(_WHEN)}."
            for _ in range(rng.randint(2, 4))
        ]
        sentences.insert(rng.randint(1, len(sentences)), rng.choice(_AFTER))
        paragraphs.append(" ".join(sentences))
    return paragraphs


def _generate(path: Path, minutes: float, container: str) -> tuple[dict[str, float], list[str]]:
    """The input written to `path`; its composition and the paragraphs spoken whole, in order."""
    rng = random.Random(SEED)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-input-", dir=path.parent) as tmp:
        voiced = []
        for i, text in enumerate(_paragraphs()):
            voice, rate = rng.choice(VOICES)
            wav = mf.speech_wav(Path(tmp) / f"p{i}.wav", text, voice=voice, rate=rate, trim=True)
            voiced.append(_read(wav))
        music = _read(mf.music_only(tmp, "music", MUSIC_SEC[1], container="wav"))
        timeline = Path(tmp) / "timeline.wav"
        composition, order = _write_timeline(timeline, minutes * 60.0, voiced, music, rng)
        partial = path.with_name(path.name + ".part")
        _encode(timeline, partial, container, minutes * 60.0)
        partial.replace(path)
    paragraphs = _paragraphs()
    return composition, [paragraphs[i] for i in order]


def _write_timeline(
    wav: Path, seconds: float, voiced: list[np.ndarray], music: np.ndarray, rng: random.Random
) -> tuple[dict[str, float], list[int]]:
    """Paragraphs in shuffled rounds with pauses, music and silence, streamed to `wav`; returns
    the composition and which paragraphs were spoken whole, in order (the last may be cut)."""
    rate = mf.SAMPLE_RATE
    target = math.ceil(seconds * rate)
    spent = {"speech": 0, "pause": 0, "music": 0, "silence": 0}
    next_music = rng.uniform(20.0, MUSIC_EVERY_SEC[0]) * rate  # short inputs get music too
    order: list[int] = []
    spoken: list[int] = []
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)

        def put(kind: str, samples: np.ndarray) -> bool:
            room = target - sum(spent.values())
            chunk = samples[: max(room, 0)]
            out.writeframes(chunk.astype("<i2").tobytes())
            spent[kind] += len(chunk)
            return len(chunk) == len(samples)

        while sum(spent.values()) < target:
            if not order:
                order = rng.sample(range(len(voiced)), len(voiced))
            said = order.pop()
            if put("speech", voiced[said]):
                spoken.append(said)
            put("pause", np.zeros(int(rng.uniform(*PAUSE_SEC) * rate), np.int16))
            if rng.random() < SILENCE_CHANCE:
                put("silence", np.zeros(int(rng.uniform(*SILENCE_SEC) * rate), np.int16))
            if sum(spent.values()) >= next_music:
                put("music", music[: int(rng.uniform(*MUSIC_SEC) * rate)])
                put("pause", np.zeros(rate, np.int16))
                next_music += rng.uniform(*MUSIC_EVERY_SEC) * rate
    return {kind: round(n / rate, 1) for kind, n in spent.items()}, spoken


def _encode(wav: Path, out: Path, container: str, seconds: float) -> None:
    c = mf.CONTAINERS[container]
    video = (
        ["-f", "lavfi", "-i", f"testsrc=size={mf.VIDEO_SIZE}:rate={mf.VIDEO_FPS}:d={seconds}"]
        if c.vcodec
        else []
    )
    maps = ["-map", "1:v", "-map", "0:a"] if c.vcodec else ["-map", "0:a"]
    audio = [*c.acodec, "-ar", str(c.audio_rate), "-ac", "1"]
    ffmpeg = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav)]
    args = [*video, *maps, *(c.vcodec or []), *audio, *c.extra, "-f", c.fmt, str(out)]
    subprocess.run([*ffmpeg, *args], check=True)


def _read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["10", "60"]:
        made = speech_input(float(arg))
        print(made.path, made.composition)
