"""One long file on Ray: its windows heard by every actor at once vs the whole file by one actor,
in the same run.

Under Ray each Whisper actor is a process with one call at a time, so a single long file heard
by one actor leaves the others idle; with `[ray] split_files` (the default) one actor finds the
file's windows in a quick pass and every actor transcribes some of them. Both runs start a local
Ray of their own with the default sizing (on 2 cores: two actors of one thread), so each figure
includes Ray's start-up. Both cut the windows in the same places, but a window decoded alone
starts with an ffmpeg seek, after which AAC decodes a little differently (about 0.1 % of the
signal; WAV and MP3 decode the same): Whisper may hear a word of such a window differently, so
the records are compared by how many are the same and by both runs' WER.
Writes benchmarks/results/ray_split.json.

    .venv/bin/python benchmarks/ray_split.py [--minutes 20] [--repeat 1] [--quick]
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

from benchmarks.inputs import speech_input  # noqa: E402
from benchmarks.measure import (  # noqa: E402
    Measured,
    alternate,
    bench_env,
    fresh_ingest,
    load_average,
    result_name,
    warm_up,
)
from benchmarks.results_file import write_result  # noqa: E402
from benchmarks.wer import records_text, wer  # noqa: E402
from vtembed.media import DecodeResult, pcm_windows, probe  # noqa: E402
from vtembed.settings import load_settings  # noqa: E402

SPLIT = {"VTEMBED_RAY__SPLIT_FILES": "true", "VTEMBED_FRAMES__ENABLED": "false"}
WHOLE = {"VTEMBED_RAY__SPLIT_FILES": "false", "VTEMBED_FRAMES__ENABLED": "false"}


def keys(jsonl: Path) -> set[tuple[str, str, float, float]]:
    found = set()
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        found.add((r["id"], r.get("text") or "", r["start_sec"], r["end_sec"]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=1, help="rounds, for a busy machine")
    parser.add_argument("--quick", action="store_true", help="10 minutes; writes *-quick.json")
    args = parser.parse_args()
    media = speech_input(10.0 if args.quick else args.minutes)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        warm_up(work)
        load = load_average()

        def ingest(name: str, env: dict[str, str]) -> Callable[[int], Measured]:
            return fresh_ingest(media.path, work, name, bench_env(**env), "--executor", "ray")

        split, whole = alternate(args.repeat, ingest("split", SPLIT), ingest("whole", WHOLE))
        split_keys, whole_keys = keys(work / "split-0.jsonl"), keys(work / "whole-0.jsonl")
        heard = {name: records_text(work / f"{name}-0.jsonl") for name in ("split", "whole")}
    window_sec = load_settings({}).whisper.window_sec
    windows = len(list(pcm_windows(probe(str(media.path)), window_sec, DecodeResult())))
    write_result(
        result_name("ray_split", args.quick),
        {
            "input_seconds": media.seconds,
            "split_sec": round(split.wall_sec, 2),
            "whole_sec": round(whole.wall_sec, 2),
            "ratio_split_to_whole": round(split.wall_sec / whole.wall_sec, 3),
            "windows": windows,
            "split_records": len(split_keys),
            "whole_records": len(whole_keys),
            "records_the_same": len(split_keys & whole_keys),
            "split_wer": wer(media.reference, heard["split"]),
            "whole_wer": wer(media.reference, heard["whole"]),
            "rounds": args.repeat,
            "load_avg_1m_before": load,
            "load_avg_1m_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
