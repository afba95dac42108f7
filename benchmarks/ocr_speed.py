"""OCR of 1280x720 keyframes (vtembed.ocr, RapidOCR's bundled PP-OCRv6 models) against the
baseline of getting that keyframe out of a 720p H.264 video with ffmpeg, in the same run.

Each side runs in its own fresh interpreter so import time, engine load and peak RSS are its own;
the baseline worker decodes the same JPEG frames with Pillow to numpy, so the OCR's extra memory is
the difference of the two peaks. Textless frames (black, gradients, noise, a Mandelbrot set,
colour bars) are read with no confidence or length filter, to show what false text the filters in
vtembed.ocr remove. Writes benchmarks/results/ocr_speed.json; no assertions on time.

    .venv/bin/python benchmarks/ocr_speed.py [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.measure import load_average, result_name  # noqa: E402
from benchmarks.results_file import write_result  # noqa: E402

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SIZE = "1280x720"
TEXT = {
    "slide": (
        f"color=c=0x1f3a5f:s={SIZE}",
        [("Quarterly sales figures", 64, 200), ("Revenue up 12 percent in Q3", 36, 420)],
    ),
    "caption_on_picture": (
        f"mandelbrot=s={SIZE}",
        [("Interview with the mayor", 30, 640)],
    ),
}
TEXTLESS = {
    "black": "color=c=black:s=" + SIZE,
    "gradient": f"gradients=s={SIZE}:seed=3",
    "noise": f"nullsrc=s={SIZE},geq=random(1)*255:128:128",
    "mandelbrot": f"mandelbrot=s={SIZE}",
    "colour_bars": f"smptehdbars=s={SIZE}",
}
ENGINE = "(PP-OCRv6 small, no angle classifier, detector long side 960 px)"  # as vtembed.ocr
# The distributions rapidocr added to a venv that already held numpy, onnxruntime and Pillow.
ADDED_DISTS = (
    "rapidocr",
    "opencv-python-headless",
    "shapely",
    "pyclipper",
    "omegaconf",
    "colorlog",
)

WORKER = """
import json, resource, sys, time
from pathlib import Path
mode, paths, repeats = sys.argv[1], [Path(p) for p in sys.argv[2].split(",")], int(sys.argv[3])
started = time.perf_counter()
import numpy as np
from PIL import Image
out = {}
if mode == "ocr":
    from vtembed import ocr
    out["import_sec"] = time.perf_counter() - started
    first = time.perf_counter()
    ocr.read_text(paths[0])
    out["first_call_sec"] = time.perf_counter() - first
frames = {}
for path in paths:
    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        if mode == "ocr":
            result = ocr.read_text(path, min_confidence=0.0, min_chars=0)
        else:
            np.asarray(Image.open(path).convert("RGB"))
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    if mode == "ocr":  # the same lines again through read_text's filters, untimed
        lines = [[line.text, round(line.confidence, 3)] for line in result.lines]
        kept = ocr.read_text(path).text
    else:
        lines, kept = [], ""
    frames[path.stem] = {"sec": sorted(times)[len(times) // 2],
                         "cpu_sec": sorted(cpu)[len(cpu) // 2], "raw_lines": lines, "text": kept}
out["frames"] = frames
out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True)


def make_frames(folder: Path) -> dict[str, Path]:
    """Each frame as a JPEG (what a keyframe extractor hands over), drawn by ffmpeg."""
    frames = {}
    for name, (source, texts) in TEXT.items():
        draw = ",".join(
            f"drawtext=fontfile={FONT}:text='{t}':fontcolor=white:fontsize={size}"
            f":x=(w-text_w)/2:y={y}:box=1:boxcolor=black@0.4"
            for t, size, y in texts
        )
        frames[name] = folder / f"{name}.jpg"
        ffmpeg("-f", "lavfi", "-i", source, "-vf", draw, "-frames:v", "1", str(frames[name]))
    for name, source in TEXTLESS.items():
        frames[name] = folder / f"{name}.jpg"
        ffmpeg("-f", "lavfi", "-i", source, "-frames:v", "1", str(frames[name]))
    return frames


def keyframe_extract_sec(folder: Path, repeats: int) -> float:
    """Median wall time of `ffmpeg -ss 5 -i video.mp4 -frames:v 1` to a JPEG on a 10-s 720p H.264
    video of the slide: the work that hands OCR its input."""
    video = folder / "slide.mp4"
    ffmpeg(
        "-loop", "1", "-i", str(folder / "slide.jpg"), "-t", "10", "-r", "25",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "250", str(video),
    )  # fmt: skip
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        ffmpeg("-ss", "5", "-i", str(video), "-frames:v", "1", str(folder / "extracted.jpg"))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def worker(mode: str, frames: dict[str, Path], repeats: int) -> dict:
    paths = ",".join(str(p) for p in frames.values())
    run = subprocess.run(
        [sys.executable, "-c", WORKER, mode, paths, str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    if run.stderr.strip():
        print(f"{mode} worker printed to stderr: {run.stderr.strip()}", file=sys.stderr)
    return json.loads(run.stdout.splitlines()[-1])


def installed_mib(names: tuple[str, ...]) -> float:
    """Bytes on disk of the files each distribution's RECORD lists."""
    total = 0
    for name in names:
        dist = metadata.distribution(name)
        for file in dist.files or ():
            path = Path(dist.locate_file(file))
            total += path.stat().st_size if path.is_file() else 0
    return total / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1 repeat; ocr_speed-quick.json")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as tmp:
        frames = make_frames(Path(tmp))
        load = load_average()
        extract = keyframe_extract_sec(Path(tmp), repeats)
        base = worker("decode", frames, repeats)
        ocr = worker("ocr", frames, repeats)
    text_frames = [ocr["frames"][name] for name in TEXT]
    ocr_sec = statistics.median(f["sec"] for f in text_frames)
    write_result(
        result_name("ocr_speed", args.quick),
        {
            "frame_size": SIZE,
            "repeats": repeats,
            "engine": f"rapidocr {metadata.version('rapidocr')} {ENGINE}",
            "installed_mib_added": round(installed_mib(ADDED_DISTS), 1),
            "import_sec": round(ocr["import_sec"], 3),
            "first_call_sec": round(ocr["first_call_sec"], 2),
            "ocr_sec_per_text_frame": round(ocr_sec, 2),
            "ocr_cpu_sec_per_text_frame": round(
                statistics.median(f["cpu_sec"] for f in text_frames), 2
            ),
            "ocr_sec_per_textless_frame": round(
                statistics.median(ocr["frames"][name]["sec"] for name in TEXTLESS), 2
            ),
            "keyframe_extract_sec": round(extract, 3),
            "ocr_vs_keyframe_extract": round(ocr_sec / extract, 1),
            "pillow_decode_sec": round(base["frames"]["slide"]["sec"], 4),
            "peak_rss_mib": round(ocr["peak_rss_mib"], 1),
            "baseline_peak_rss_mib": round(base["peak_rss_mib"], 1),
            "ocr_added_rss_mib": round(ocr["peak_rss_mib"] - base["peak_rss_mib"], 1),
            "text_read": {name: ocr["frames"][name]["text"] for name in TEXT},
            "unfiltered_lines": {name: f["raw_lines"] for name, f in ocr["frames"].items()},
            "filtered_text_on_textless": {name: ocr["frames"][name]["text"] for name in TEXTLESS},
            "load_average_1min": load,
        },
    )


if __name__ == "__main__":
    main()
