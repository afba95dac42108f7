"""Long video with shots for the frames benchmark, generated once and cached in benchmarks/.cache/.

Speech alone says nothing about what frames cost: that grows with the number of shots (one
keyframe and one OCR each) and with the picture's size (scene detection decodes every frame). So
the input is the speech benchmark's sound (`benchmarks.inputs.speech_input`, the same minutes)
under a 1280x720 25 fps H.264 picture cut into shots of 4-16 s (seeded), of four kinds, as a
talk or a news archive has them: a slide (plain colour, a title and a line of text), a caption on
a moving picture (gradients, scrolling cellular automata), a plain colour and a moving picture
with no text. Each shot is encoded alone and the shots joined without re-encoding, so the file
takes a few minutes to build once. The name carries a hash of everything that shapes it.

    .venv/bin/python benchmarks/shots_input.py 3 30    # generate ahead of time (optional)
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.inputs import CACHE, speech_input  # noqa: E402

GENERATOR = 1  # bump when the assembly below changes in a way the parameters do not show
SEED = 11
SIZE, FPS = "1280x720", 25
SHOT_SEC = (4.0, 16.0)
KINDS = (("slide", 0.4), ("caption", 0.25), ("plain", 0.15), ("moving", 0.2))
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
_TOPICS = (
    "Quarterly sales figures",
    "Welcome to the lecture",
    "Planting tomatoes in spring",
    "The history of the harbour",
    "Fixing a broken chair",
    "Our new bakery opens",
    "Weather for the weekend",
    "Questions from the audience",
)
_LINES = (
    "Revenue up 12 percent in the third quarter",
    "Three things to remember before you start",
    "Interview with the mayor of the town",
    "Prices of bread and milk since 1990",
    "What the students built this term",
    "Next week: the old railway station",
)
_COLOURS = ("0x1f3b73", "0x7a1f1f", "0x1f6b3a", "0x4a4a4a", "0x6b5a1f", "0x3d1f6b")


@dataclass(frozen=True)
class ShotsInput:
    path: Path
    seconds: float
    shots: int
    with_text: int  # shots that show text (slides and captions)
    generation_sec: float | None  # None: found in the cache

    def describe(self) -> dict[str, object]:
        """The input's part of a result file."""
        return {
            "input": self.path.name,
            "input_seconds": round(self.seconds, 1),
            "input_shots": self.shots,
            "input_shots_with_text": self.with_text,
            "input_size": f"{SIZE} {FPS} fps",
            "input_generation_sec": self.generation_sec,
        }


def shots_input(minutes: float) -> ShotsInput:
    """The cached input of `minutes`, generated first if it is not there."""
    sound = speech_input(minutes)
    plan = _plan(minutes * 60.0)
    params = {"generator": GENERATOR, "sound": sound.path.name, "plan": plan, "size": SIZE}
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    path = CACHE / f"shots-{minutes:g}min-{key}.mp4"
    generated = None
    if not path.exists():
        started = time.perf_counter()
        _generate(path, sound.path, plan)
        generated = round(time.perf_counter() - started, 1)
        print(f"generated {path.name} in {generated} s (not part of any figure)", file=sys.stderr)
    with_text = sum(1 for _, kind, _, _ in plan if kind in ("slide", "caption"))
    return ShotsInput(path, minutes * 60.0, len(plan), with_text, generated)


def _plan(seconds: float) -> list[tuple[float, str, str, str]]:
    """(length, kind, colour, text) of each shot, filling `seconds` exactly."""
    rng = random.Random(SEED)
    plan: list[tuple[float, str, str, str]] = []
    left = round(seconds * 100)  # centiseconds: whole numbers add up exactly
    kinds, weights = zip(*KINDS, strict=True)
    while left > 0:
        length = min(round(rng.uniform(*SHOT_SEC) * 100), left)
        if left - length < SHOT_SEC[0] * 100:  # no sliver of a last shot
            length = left
        left -= length
        kind = rng.choices(kinds, weights)[0]
        colour = rng.choice(_COLOURS)
        text = f"{rng.choice(_TOPICS)}|{rng.choice(_LINES)}" if kind == "slide" else ""
        if kind == "caption":
            text = rng.choice(_LINES)
        if plan and plan[-1][1:3] == (kind, colour):  # two alike in a row would show no cut
            colour = _COLOURS[(_COLOURS.index(colour) + 1) % len(_COLOURS)]
        plan.append((length / 100, kind, colour, text))
    return plan


def _draw(text: str, size: str, y: str, box: bool = False) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    boxed = ":box=1:boxcolor=black@0.6:boxborderw=12" if box else ""
    return (
        f"drawtext=fontfile={FONT}:text='{escaped}':fontcolor=white:fontsize={size}"
        f":x=(w-text_w)/2:y={y}{boxed}"
    )


def _source(kind: str, colour: str, length: float, seed: int) -> str:
    if kind in ("slide", "plain"):
        return f"color=c={colour}:s={SIZE}:r={FPS}:d={length}"
    if seed % 2:
        return f"gradients=s={SIZE}:r={FPS}:d={length}:seed={seed}:speed=0.02"
    return f"cellauto=s={SIZE}:r={FPS}:rule=18:random_seed={seed},trim=duration={length}"


def _generate(path: Path, sound: Path, plan: list[tuple[float, str, str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    with tempfile.TemporaryDirectory(prefix="bench-shots-", dir=path.parent) as tmp:
        listing = []
        for n, (length, kind, colour, text) in enumerate(plan):
            graph = _source(kind, colour, length, n)
            if kind == "slide":
                title, line = text.split("|")
                graph += "," + _draw(title, "h/12", "h/3")
                graph += "," + _draw(line, "h/22", "h*0.58")
            elif kind == "caption":
                graph += "," + _draw(text, "h/20", "h*0.8", box=True)
            clip = Path(tmp) / f"{n:05d}.mp4"
            video = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
            subprocess.run(
                [*ffmpeg, "-f", "lavfi", "-i", graph + ",format=yuv420p", *video, str(clip)],
                check=True,
            )
            listing.append(f"file '{clip.name}'")
        (Path(tmp) / "list.txt").write_text("\n".join(listing) + "\n")
        partial = path.with_name(path.name + ".part")
        subprocess.run(
            [
                *ffmpeg,
                *("-f", "concat", "-safe", "0", "-i", str(Path(tmp) / "list.txt")),
                *("-i", str(sound)),
                *("-map", "0:v", "-map", "1:a", "-c", "copy", "-shortest", "-f", "mp4"),
                str(partial),
            ],
            check=True,
        )
        partial.replace(path)


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["3", "30"]:
        made = shots_input(float(arg))
        print(made.path, made.shots, "shots,", made.with_text, "with text")
