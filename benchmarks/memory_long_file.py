"""Peak memory of a whole `vtembed ingest` on a long file vs. a short one, in the same run.

Decoding and transcription work in bounded windows, so peak RSS should barely grow with the
length of the file. Writes benchmarks/results/memory_long_file.json with both peaks and the ratio.

    .venv/bin/python benchmarks/memory_long_file.py [--short-min 10] [--long-min 120]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import write_result  # noqa: E402
from tests import media_factory as mf  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache"
_PEAK = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)\n"
)


def speech_file(minutes: float) -> Path:
    path = CACHE / f"speech-{minutes:g}min.wav"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        mf.long_speech_wav(path, minutes)
    return path


def peak_rss_mib(media: Path, workdir: Path) -> tuple[float, float]:
    out = workdir / f"{media.stem}.jsonl"
    argv = [
        sys.executable,
        "-m",
        "vtembed",
        "ingest",
        str(media),
        "--sink",
        f"jsonl:{out}",
        "--progress",
        "none",
    ]
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, *argv],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "VTEMBED_CACHE_DIR": str(CACHE / "models")},
    )
    wall = time.monotonic() - started
    kib, code = proc.stdout.split()
    if code != "0":
        raise SystemExit(f"ingest of {media} failed with exit code {code}")
    return int(kib) / 1024, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short-min", type=float, default=10.0)
    parser.add_argument("--long-min", type=float, default=120.0)
    args = parser.parse_args()
    short, long = speech_file(args.short_min), speech_file(args.long_min)
    with tempfile.TemporaryDirectory() as tmp:
        short_mib, short_wall = peak_rss_mib(short, Path(tmp))
        long_mib, long_wall = peak_rss_mib(long, Path(tmp))
    write_result(
        "memory_long_file",
        {
            "short_minutes": args.short_min,
            "long_minutes": args.long_min,
            "short_peak_rss_mib": round(short_mib, 1),
            "long_peak_rss_mib": round(long_mib, 1),
            "ratio_long_to_short": round(long_mib / short_mib, 3),
            "short_x_realtime": round(args.short_min * 60 / short_wall, 2),
            "long_x_realtime": round(args.long_min * 60 / long_wall, 2),
        },
    )


if __name__ == "__main__":
    main()
