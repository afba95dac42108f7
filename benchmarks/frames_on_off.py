"""`vtembed ingest` of a video with shots and on-screen text, frames on vs. off, in the same run.

With frames on, each shot's keyframe is cut and read by OCR (the offline default) beside
Whisper; off (`VTEMBED_FRAMES__ENABLED=false`) the same file gives its speech only. The ratio
is what seeing costs on top of hearing, with Whisper, scene detection, keyframes and OCR sharing
the same cores. A third run is the faster-whisper call a user would write for the file's sound
(`ingest_vs_whisper.py --plain`): seeing and hearing together against that one-liner hearing
alone. All are timed from spawn to exit after an untimed warm-up; `--repeat N`
alternates them N times and keeps each one's fastest run. Writes
benchmarks/results/frames_on_off.json (or -quick.json).

    .venv/bin/python benchmarks/frames_on_off.py [--minutes 30] [--repeat 1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.measure import (  # noqa: E402
    Measured,
    alternate,
    bench_env,
    fresh_ingest,
    load_average,
    result_name,
    run_measured,
    warm_up,
)
from benchmarks.results_file import write_result  # noqa: E402
from benchmarks.shots_input import shots_input  # noqa: E402

TARGET = 1.5
TARGET_PLAIN = 1.0
"""Frames on, against the faster-whisper call a user would write for the sound alone."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=1, help="rounds, for a busy machine")
    parser.add_argument("--quick", action="store_true", help="3 minutes; writes *-quick.json")
    args = parser.parse_args()
    minutes = 3.0 if args.quick else args.minutes
    media = shots_input(minutes)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        warm_up(work)
        load = load_average()

        def ingest(frames: bool) -> Callable[[int], Measured]:
            env = bench_env(VTEMBED_FRAMES__ENABLED=str(frames).lower())
            return fresh_ingest(media.path, work, "on" if frames else "off", env)

        def plain(_n: int) -> Measured:  # the user's one-liner on the same file's sound
            argv = [sys.executable, str(ROOT / "benchmarks" / "ingest_vs_whisper.py")]
            return run_measured([*argv, "--plain", str(media.path)], bench_env())

        off, on, bare = alternate(args.repeat, ingest(False), ingest(True), plain)
        found = [json.loads(line) for line in (work / "on-0.jsonl").read_text().splitlines()]
        sound = (work / "off-0.jsonl").read_text().splitlines()
    images = sum(1 for r in found if r["modality"] == "image")
    ratio = on.wall_sec / off.wall_sec
    extra = on.wall_sec - off.wall_sec
    write_result(
        result_name("frames_on_off", args.quick),
        {
            **media.describe(),
            "frames_off_sec": round(off.wall_sec, 2),
            "frames_on_sec": round(on.wall_sec, 2),
            "ratio_on_to_off": round(ratio, 3),
            "target_ratio": TARGET,
            "images": images,
            "images_per_sec": round(images / on.wall_sec, 3),
            "images_per_extra_sec": round(images / extra, 3) if extra > 0 else None,
            "records_off": len(sound),
            "records_on": len(found),
            "frames_off_cpu_sec": round(off.cpu_sec, 1),
            "frames_on_cpu_sec": round(on.cpu_sec, 1),
            "frames_off_peak_rss_mib": round(off.peak_rss_mib, 1),
            "frames_on_peak_rss_mib": round(on.peak_rss_mib, 1),
            "plain_sec": round(bare.wall_sec, 2),
            "plain_cpu_sec": round(bare.cpu_sec, 1),
            "ratio_on_to_plain": round(on.wall_sec / bare.wall_sec, 3),
            "target_ratio_on_to_plain": TARGET_PLAIN,
            "rounds": args.repeat,
            "load_avg_1m_before": load,
            "load_avg_1m_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
