"""`vtembed reembed` against the `vtembed ingest` that made the store, on the same archive.

Re-embedding is worth having only if it is much cheaper than ingesting again: the target is
under 10 % of the ingest's wall time with the local embedder. The archive is the benchmark's
30-minute speech-with-music video (shots and keyframes too); the new store is planned for
another token limit (20 instead of 77) so chunks really are made again. Both are timed from
spawn to exit in the same run, after an untimed warm-up ingest.
Writes benchmarks/results/reembed_vs_ingest.json.

    .venv/bin/python benchmarks/reembed_vs_ingest.py [--minutes 30] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.measure import (  # noqa: E402
    bench_env,
    ingest_argv,
    load_average,
    result_name,
    run_measured,
    warm_up,
)
from benchmarks.results_file import write_result  # noqa: E402
from benchmarks.shots_input import shots_input  # noqa: E402

TARGET = 0.10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="3 minutes; writes *-quick.json")
    args = parser.parse_args()
    minutes = 3.0 if args.quick else args.minutes
    media = shots_input(minutes)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        warm_up(work)
        load = load_average()
        old, new = work / "old.jsonl", work / "new.jsonl"
        ingest = run_measured(ingest_argv(media.path, old), bench_env())
        config = work / "limit20.toml"
        config.write_text('[models."all-MiniLM-L6-v2"]\ntext_token_limit = 20\n')
        argv = [sys.executable, "-m", "vtembed", "--config", str(config), "reembed"]
        argv += ["--from", f"jsonl:{old}", "--sink", f"jsonl:{new}", "--progress", "none"]
        reembed = run_measured(argv, bench_env())
        before = [json.loads(line) for line in old.read_text().splitlines()]
        after = [json.loads(line) for line in new.read_text().splitlines()]
    ratio = reembed.wall_sec / ingest.wall_sec
    write_result(
        result_name("reembed_vs_ingest", args.quick),
        {
            **media.describe(),
            "ingest_sec": round(ingest.wall_sec, 2),
            "reembed_sec": round(reembed.wall_sec, 2),
            "ratio_reembed_to_ingest": round(ratio, 3),
            "target_ratio": TARGET,
            "ingest_cpu_sec": round(ingest.cpu_sec, 1),
            "reembed_cpu_sec": round(reembed.cpu_sec, 1),
            "records_before": len(before),
            "records_after": len(after),
            "text_records_before": sum(r["modality"] == "text" for r in before),
            "text_records_after": sum(r["modality"] == "text" for r in after),
            "load_avg_1m_before": load,
            "load_avg_1m_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
