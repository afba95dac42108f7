"""Does remote embedding hide behind transcription? `vtembed ingest --embedder twelvelabs` against
a stub endpoint on 127.0.0.1 that sleeps 150 ms per request, vs. transcription alone.

Transcription alone is the same command with `--dry-run`: it transcribes and plans (chunks and
segments) exactly as the full run does and stops before the first request, so the two runs
differ only by embedding and writing, the part an overlapped pipeline should hide. (Bare
faster-whisper would also count vtembed's start-up and planning; ingest_vs_whisper.py measures
that.) For reference the full run is also timed with the pipeline's overlap switched off
(`VTEMBED_PIPELINE__OVERLAP=false`). All run after an untimed warm-up; on a busy machine
`--repeat N` alternates them N times and keeps each one's fastest run. Frames are off: the stub
answers text and audio requests only (keyframes would go to the image endpoint).
Writes benchmarks/results/remote_overlap.json.

    .venv/bin/python benchmarks/remote_overlap.py [--minutes 10] [--repeat 1] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.inputs import speech_input  # noqa: E402
from benchmarks.measure import (  # noqa: E402
    Measured,
    alternate,
    bench_env,
    ingest_argv,
    load_average,
    result_name,
    run_measured,
    warm_up,
)
from benchmarks.results_file import write_result  # noqa: E402
from benchmarks.stub_endpoint import API_KEY, DELAY_SEC, sleeping_stub  # noqa: E402
from vtembed.plugins.embedders.twelvelabs import TwelveLabsSettings  # noqa: E402

TARGET = 1.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=1, help="rounds, for a busy machine")
    parser.add_argument("--quick", action="store_true", help="3 minutes; writes *-quick.json")
    args = parser.parse_args()
    media = speech_input(3.0 if args.quick else args.minutes)
    with sleeping_stub() as stub, tempfile.TemporaryDirectory() as tmp:
        # Speech only: the stub answers text and audio, and the input's video is a test card.
        env = bench_env(
            TWELVELABS_API_KEY=API_KEY,
            TWELVELABS_BASE_URL=stub.url,
            VTEMBED_FRAMES__ENABLED="false",
        )
        warm_up(Path(tmp))
        load = load_average()

        answers: dict[float, list[float]] = {}  # a run's wall time: when its requests returned

        def ingest(name: str, *flags: str, **extra_env: str) -> Callable[[int], Measured]:
            def run(n: int) -> Measured:  # a fresh sink each round: nothing is done yet
                out = Path(tmp) / f"{name}{n}.jsonl"
                summary = ("--summary-json", str(Path(tmp) / f"{name}{n}.json"))
                flags_ = ("--embedder", "twelvelabs", *summary, *flags)
                started = time.perf_counter()
                done = run_measured(ingest_argv(media.path, out, *flags_), {**env, **extra_env})
                answers[done.wall_sec] = stub.answered_since(started)
                return done

            return run

        alone, overlapped, one_by_one = alternate(
            args.repeat,
            ingest("dry-run", "--dry-run"),
            ingest("full"),
            ingest("one-stage-at-a-time", VTEMBED_PIPELINE__OVERLAP="false"),
        )
        planned = json.loads((Path(tmp) / "dry-run0.json").read_text())["requests"]
        done = json.loads((Path(tmp) / "full0.json").read_text())
        times = answers[overlapped.wall_sec]
    in_flight = TwelveLabsSettings().max_in_flight  # bench_env leaves the default in place
    write_result(
        result_name("remote_overlap", args.quick),
        {
            **media.describe(),
            "stub_delay_sec": DELAY_SEC,
            "requests": len(times),
            "planned_requests": planned["text"] + planned["audio"],
            "records_written": done["records_written"],
            "in_flight": in_flight,
            "requests_alone_sec": round(len(times) * DELAY_SEC / in_flight, 2),
            "first_answer_at_sec": round(min(times), 1),  # from the start of the overlapped run
            "last_answer_at_sec": round(max(times), 1),
            "transcription_alone_sec": round(alone.wall_sec, 2),
            "overlapped_sec": round(overlapped.wall_sec, 2),
            "not_overlapped_sec": round(one_by_one.wall_sec, 2),
            "transcription_alone_cpu_sec": round(alone.cpu_sec, 1),
            "overlapped_cpu_sec": round(overlapped.cpu_sec, 1),
            "ratio_overlapped_to_transcription": round(overlapped.wall_sec / alone.wall_sec, 3),
            "target_ratio": TARGET,
            "rounds": args.repeat,
            "x_realtime": round(media.seconds / overlapped.wall_sec, 2),
            "load_avg_1m_before": load,
            "load_avg_1m_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
