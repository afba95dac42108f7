"""Peak memory of a whole `vtembed ingest` on a long file vs. a short one, in the same run.

Decoding and transcription work in bounded windows, so peak RSS should barely grow with the
length of the file. One run's peak varies by a few percent (two Whisper calls side by side meet
their larger moments together or not: the 10-minute file's peak went from 721 to 745 MiB between
runs of the same code), so each file is ingested `--repeat` times, taking turns, and the ratio
is of the median peaks; every round's peak is kept. Writes
benchmarks/results/memory_long_file.json with the peaks, the ratio and each run's speed.

    .venv/bin/python benchmarks/memory_long_file.py [--short-min 10] [--long-min 120]
        [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
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


def ingest(media: SpeechInput, workdir: Path, n: int) -> Measured:
    """Round `n` writes a sink of its own: in one already written, nothing would be left to do."""
    out = workdir / f"{media.path.stem}-{n}.jsonl"
    return run_measured(ingest_argv(media.path, out), bench_env())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short-min", type=float, default=10.0)
    parser.add_argument("--long-min", type=float, default=120.0)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median peak counts")
    parser.add_argument("--quick", action="store_true", help="1 vs 3 minutes; *-quick.json")
    args = parser.parse_args()
    if args.quick:
        args.short_min, args.long_min = 1.0, 3.0
    short, long = speech_input(args.short_min), speech_input(args.long_min)
    with tempfile.TemporaryDirectory() as tmp:
        warm_up(Path(tmp))
        load = load_average()
        work = Path(tmp)
        rounds = [(ingest(short, work, n), ingest(long, work, n)) for n in range(args.repeat)]
    short_peaks = [round(s.peak_rss_mib, 1) for s, _ in rounds]
    long_peaks = [round(lg.peak_rss_mib, 1) for _, lg in rounds]
    short_peak, long_peak = statistics.median(short_peaks), statistics.median(long_peaks)
    short_sec = min(s.wall_sec for s, _ in rounds)
    long_sec = min(lg.wall_sec for _, lg in rounds)
    write_result(
        result_name("memory_long_file", args.quick),
        {
            "short_input": short.path.name,
            "long_input": long.path.name,
            "short_minutes": args.short_min,
            "long_minutes": args.long_min,
            "short_peak_rss_mib": short_peak,
            "long_peak_rss_mib": long_peak,
            "ratio_long_to_short": round(long_peak / short_peak, 3),
            "target_ratio": TARGET,
            "short_peaks_rss_mib": short_peaks,
            "long_peaks_rss_mib": long_peaks,
            "rounds": args.repeat,
            "short_sec": round(short_sec, 1),
            "long_sec": round(long_sec, 1),
            "short_x_realtime": round(short.seconds / short_sec, 2),
            "long_x_realtime": round(long.seconds / long_sec, 2),
            "load_avg_1m_before": load,
            "load_avg_1m_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
