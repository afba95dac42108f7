"""Ways of running faster-whisper on the same 10 minutes, in one run: the plain call, batched,
several calls at once, window lengths. What docs/whisper.md's table and vtembed's defaults
(`whisper.batch_size`, `workers`, `window_sec`) were chosen from.

Whisper alone: each way is a child process that loads the model, decodes the file in-process
(PyAV) and transcribes it, timed from spawn to exit; WER against what the input says. Not part
of `make bench` (about 2 minutes). Writes benchmarks/results/whisper_ways.json.

    .venv/bin/python benchmarks/whisper_ways.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WAYS = {  # name: (workers, threads each, window seconds, batch size; 1 = the plain call)
    "plain call, word timestamps, 1 call": (1, 0, 300, 1),
    "plain call, word timestamps, 2 calls of 1 thread": (2, 1, 300, 1),
    "batched 8, 1 call": (1, 0, 300, 8),
    "batched 8, 2 calls of 1 thread": (2, 1, 300, 8),
    "batched 4, 2 calls of 1 thread": (2, 1, 300, 4),
    "batched 4, 2 calls of 1 thread, 150-s windows": (2, 1, 150, 4),
    "batched 4, 2 calls of 1 thread, 60-s windows": (2, 1, 60, 4),
}


def transcribe(media: Path, workers: int, threads: int, window_sec: int, batch: int) -> None:
    """One way, in a child process: print its text as JSON."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio

    from vtembed.whisper_model import bundled_model_dir

    model = WhisperModel(
        str(bundled_model_dir()),
        compute_type="int8",
        cpu_threads=threads,
        num_workers=workers,
        local_files_only=True,
    )
    audio = decode_audio(str(media))
    step = window_sec * 16_000

    def window(start: int) -> str:
        part = audio[start : start + step]
        if batch > 1:
            pipeline = BatchedInferencePipeline(model)
            segments, _ = pipeline.transcribe(
                part, language="en", word_timestamps=True, vad_filter=True, batch_size=batch
            )
        else:
            segments, _ = model.transcribe(
                part,
                language="en",
                word_timestamps=True,
                vad_filter=True,
                condition_on_previous_text=False,
            )
        return " ".join(s.text for s in segments)

    with ThreadPoolExecutor(workers) as pool:
        print(json.dumps({"text": " ".join(pool.map(window, range(0, len(audio), step)))}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--way", help=argparse.SUPPRESS)  # the child's mode
    parser.add_argument("--media", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.way:
        transcribe(args.media, *WAYS[args.way])
        return
    from benchmarks.inputs import speech_input
    from benchmarks.measure import bench_env, load_average, run_measured
    from benchmarks.results_file import write_result
    from benchmarks.wer import wer

    media = speech_input(args.minutes)
    load = load_average()
    found = {}
    for name in WAYS:
        argv = [sys.executable, __file__, "--way", name, "--media", str(media.path)]
        run = run_measured(argv, bench_env())
        found[name] = {
            "sec": round(run.wall_sec, 2),
            "cpu_sec": round(run.cpu_sec, 1),
            "peak_rss_mib": round(run.peak_rss_mib, 1),
            "wer": wer(media.reference, json.loads(run.stdout)["text"]),
        }
        print(name, found[name], file=sys.stderr)
    write_result(
        "whisper_ways",
        {
            **media.describe(),
            "ways": found,
            "load_avg_1m_before": load,
            "load_avg_1m_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
