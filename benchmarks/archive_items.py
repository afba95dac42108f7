"""An archive of many short files: items per minute of `vtembed ingest` with today's scheduling
vs one item at a time with the plain Whisper call, in the same run.

Podcast clips and news segments come as many files of a minute or so. One at a time, each file's
fixed costs (open, probe, the first window's decode, VAD) leave Whisper idle, and a short file
has too few speech chunks to fill a batch; side by side (`pipeline.items_at_once`), one item's
set-up runs while another is transcribed. The baseline is the settings that restore the plain
path: `whisper.batch_size = 1`, `whisper.workers = 1`, `pipeline.items_at_once = 1`.

The archive is N audio files of 30-90 s (AAC in .m4a) cut from the speech input, made once into
benchmarks/.cache/. Besides speed, each run's records per item are checked to come in time order
(an item's chunks, then its segments, as one item alone gives them).
Writes benchmarks/results/archive_items.json.

    .venv/bin/python benchmarks/archive_items.py [--items 20] [--repeat 1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.inputs import CACHE, speech_input  # noqa: E402
from benchmarks.measure import (  # noqa: E402
    alternate,
    bench_env,
    fresh_ingest,
    load_average,
    result_name,
    warm_up,
)
from benchmarks.results_file import write_result  # noqa: E402

TARGET = 1.5
"""Items per minute, today's scheduling over one item at a time with the plain call."""
SEED = 3
SECONDS = (30.0, 90.0)
PLAIN = {
    "VTEMBED_WHISPER__BATCH_SIZE": "1",
    "VTEMBED_WHISPER__WORKERS": "1",
    "VTEMBED_PIPELINE__ITEMS_AT_ONCE": "1",
}


def archive(items: int) -> tuple[Path, float]:
    """The folder of `items` short files (made once) and their total length in seconds."""
    rng = random.Random(SEED)
    lengths = [round(rng.uniform(*SECONDS), 1) for _ in range(items)]
    source = speech_input(math.ceil(sum(lengths) / 60.0))
    folder = CACHE / f"archive-{items}-{source.path.stem}"
    if not (folder / "complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        start = 0.0
        for n, length in enumerate(lengths):
            cut = ["-ss", f"{start:.1f}", "-t", f"{length:.1f}", "-i", str(source.path)]
            out = ["-vn", "-c:a", "aac", "-b:a", "64k", str(folder / f"clip-{n:02d}.m4a")]
            ffmpeg = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
            subprocess.run([*ffmpeg, *cut, *out], check=True)
            start += length
        (folder / "complete").touch()
    return folder, sum(lengths)


def in_time_order(jsonl: Path) -> bool:
    """Whether every item's records come in the order one item alone writes them: its text
    chunks and audio segments each by start time."""
    seen: dict[tuple[str, str], float] = {}
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        key = (r["media"]["id"], r["modality"])
        if r["start_sec"] < seen.get(key, -1.0):
            return False
        seen[key] = r["start_sec"]
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1, help="rounds, for a busy machine")
    parser.add_argument("--quick", action="store_true", help="6 items; writes *-quick.json")
    args = parser.parse_args()
    items = 6 if args.quick else args.items
    folder, seconds = archive(items)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        warm_up(work)
        load = load_average()

        plain, now = alternate(
            args.repeat,
            fresh_ingest(folder, work, "plain", bench_env(**PLAIN)),
            fresh_ingest(folder, work, "now", bench_env()),
        )
        records = {
            name: len((work / f"{name}-0.jsonl").read_text().splitlines())
            for name in ("plain", "now")
        }
        ordered = all(in_time_order(work / f"{name}-0.jsonl") for name in ("plain", "now"))
    per_min = {name: items / (m.wall_sec / 60.0) for name, m in (("plain", plain), ("now", now))}
    write_result(
        result_name("archive_items", args.quick),
        {
            "items": items,
            "item_seconds": list(SECONDS),
            "archive_seconds": round(seconds, 1),
            "plain_sec": round(plain.wall_sec, 2),
            "now_sec": round(now.wall_sec, 2),
            "plain_items_per_min": round(per_min["plain"], 2),
            "now_items_per_min": round(per_min["now"], 2),
            "speedup_items_per_min": round(per_min["now"] / per_min["plain"], 3),
            "target_speedup": TARGET,
            "plain_records": records["plain"],
            "now_records": records["now"],
            "records_per_item_in_time_order": ordered,
            "plain_cpu_sec": round(plain.cpu_sec, 1),
            "now_cpu_sec": round(now.cpu_sec, 1),
            "plain_peak_rss_mib": round(plain.peak_rss_mib, 1),
            "now_peak_rss_mib": round(now.peak_rss_mib, 1),
            "rounds": args.repeat,
            "load_avg_1m_before": load,
            "load_avg_1m_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
