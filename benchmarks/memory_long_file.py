"""Peak memory of a whole `vtembed ingest` on a long file vs. a short one, in the same run.

Decoding and transcription work in bounded windows, so peak RSS should barely grow with the
length of the file. Writes benchmarks/results/memory_long_file.json with both peaks, the ratio
and each run's speed.

    .venv/bin/python benchmarks/memory_long_file.py [--short-min 10] [--long-min 120] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.inputs import SpeechInput, speech_input  # noqa: E402
from benchmarks.measure import (  # noqa: E402
    Measured,
    bench_env,
    ingest_argv,
    load_average,
    result_name,
    run_measured,
    warm_up,
)
from benchmarks.results_file import write_result  # noqa: E402

TARGET = 1.1


def ingest(media: SpeechInput, workdir: Path) -> Measured:
    return run_measured(ingest_argv(media.path, workdir / f"{media.path.stem}.jsonl"), bench_env())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short-min", type=float, default=10.0)
    parser.add_argument("--long-min", type=float, default=120.0)
    parser.add_argument("--quick", action="store_true", help="1 vs 3 minutes; *-quick.json")
    args = parser.parse_args()
    if args.quick:
        args.short_min, args.long_min = 1.0, 3.0
    short, long = speech_input(args.short_min), speech_input(args.long_min)
    with tempfile.TemporaryDirectory() as tmp:
        warm_up(Path(tmp))
        load = load_average()
        short_run = ingest(short, Path(tmp))
        long_run = ingest(long, Path(tmp))
    write_result(
        result_name("memory_long_file", args.quick),
        {
            "short_input": short.path.name,
            "long_input": long.path.name,
            "short_minutes": args.short_min,
            "long_minutes": args.long_min,
            "short_peak_rss_mib": round(short_run.peak_rss_mib, 1),
            "long_peak_rss_mib": round(long_run.peak_rss_mib, 1),
            "ratio_long_to_short": round(long_run.peak_rss_mib / short_run.peak_rss_mib, 3),
            "target_ratio": TARGET,
            "short_sec": round(short_run.wall_sec, 1),
            "long_sec": round(long_run.wall_sec, 1),
            "short_x_realtime": round(short.seconds / short_run.wall_sec, 2),
            "long_x_realtime": round(long.seconds / long_run.wall_sec, 2),
            "load_avg_1m_before": load,
            "load_avg_1m_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
