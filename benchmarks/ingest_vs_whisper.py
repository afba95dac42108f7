"""End-to-end `vtembed ingest` against bare faster-whisper on the same audio, in the same run.

The floor is faster-whisper alone, in its own process, loaded and called with vtembed's own
Whisper settings (model directory, compute type, threads, beam, VAD, language, word timestamps),
so the ratio is what vtembed adds on top of transcription: start-up, windowed decoding, chunking,
embedding and writing. Both are timed from spawn to exit, after an untimed warm-up ingest; on a
busy machine `--repeat N` alternates them N times and keeps each one's fastest run.
Writes benchmarks/results/ingest_vs_whisper.json.

    .venv/bin/python benchmarks/ingest_vs_whisper.py [--minutes 10] [--repeat 1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET = 1.15


def transcribe_bare(media: Path) -> None:
    """The floor, run in a child process: print the word count and in-process timings as JSON."""
    from faster_whisper import WhisperModel

    from vtembed.settings import load_settings
    from vtembed.whisper_model import bundled_model_dir

    s = load_settings().whisper
    started = time.perf_counter()
    model = WhisperModel(
        str(s.model or bundled_model_dir()),
        device="cpu",
        compute_type=s.compute_type,
        cpu_threads=s.cpu_threads,
        local_files_only=True,
    )
    loaded = time.perf_counter()
    segments, _info = model.transcribe(
        str(media),
        language=s.language or None,
        beam_size=s.beam_size,
        vad_filter=s.vad,
        word_timestamps=True,
        condition_on_previous_text=False,  # as vtembed.transcriber calls it
    )
    words = sum(len(segment.words or []) for segment in segments)
    done = time.perf_counter()
    timings = {"load_sec": loaded - started, "transcribe_sec": done - loaded}
    print(json.dumps({"words": words, **timings}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=1, help="rounds, for a busy machine")
    parser.add_argument("--quick", action="store_true", help="3 minutes; writes *-quick.json")
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)  # the child's mode
    args = parser.parse_args()
    if args.floor:
        transcribe_bare(args.floor)
    else:
        compare(3.0 if args.quick else args.minutes, args.repeat, args.quick)


def compare(minutes: float, repeat: int, quick: bool) -> None:
    # Imported here, not at the top, so that the floor's process loads nothing it does not need.
    from benchmarks.inputs import speech_input
    from benchmarks.measure import (
        Measured,
        alternate,
        bench_env,
        ingest_argv,
        load_average,
        result_name,
        run_measured,
        warm_up,
    )
    from benchmarks.results_file import write_result

    media = speech_input(minutes)
    with tempfile.TemporaryDirectory() as tmp:
        warm_up(Path(tmp))
        load = load_average()

        env = bench_env()

        def bare_run(_n: int) -> Measured:
            return run_measured([sys.executable, __file__, "--floor", str(media.path)], env)

        def ingest_run(n: int) -> Measured:  # a fresh sink each round: nothing is done yet
            flags = ("--summary-json", str(Path(tmp) / f"{n}.json"))
            return run_measured(ingest_argv(media.path, Path(tmp) / f"{n}.jsonl", *flags), env)

        floor, ingest = alternate(repeat, bare_run, ingest_run)
        lines = (Path(tmp) / "0.jsonl").read_text(encoding="utf-8").splitlines()
        summaries = [json.loads((Path(tmp) / f"{n}.json").read_text()) for n in range(repeat)]
    texts = [r["text"] for r in map(json.loads, lines) if r["modality"] == "text"]
    bare = json.loads(floor.stdout)
    ratio = ingest.wall_sec / floor.wall_sec
    write_result(
        result_name("ingest_vs_whisper", quick),
        {
            **media.describe(),
            "floor_sec": round(floor.wall_sec, 2),
            "floor_transcribe_sec": round(bare["transcribe_sec"], 2),
            "floor_model_load_sec": round(bare["load_sec"], 2),
            "floor_words": bare["words"],
            "floor_cpu_sec": round(floor.cpu_sec, 1),
            "floor_peak_rss_mib": round(floor.peak_rss_mib, 1),
            "floor_x_realtime": round(media.seconds / floor.wall_sec, 2),
            "ingest_sec": round(ingest.wall_sec, 2),
            "ingest_run_sec": min(s["wall_seconds"] for s in summaries),  # without start-up
            "rounds": repeat,
            "ingest_words": sum(len(t.split()) for t in texts),
            "ingest_records": len(lines),
            "ingest_cpu_sec": round(ingest.cpu_sec, 1),
            "ingest_peak_rss_mib": round(ingest.peak_rss_mib, 1),
            "ingest_x_realtime": round(media.seconds / ingest.wall_sec, 2),
            "ratio_ingest_to_floor": round(ratio, 3),
            "target_ratio": TARGET,
            "load_avg_1m_before": load,
            "load_avg_1m_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
