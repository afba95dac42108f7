"""`vtembed ingest` against the faster-whisper call a user would write, on the same audio, in the
same run.

Two floors, each faster-whisper alone in its own process:
- the plain call (the user's one-liner): `WhisperModel(path, compute_type=...)
  .transcribe(decode_audio(f), vad_filter=True)`, beam 5, no word timestamps, on the device and
  compute type vtembed itself chooses (so the script runs unchanged on a GPU box);
- the same settings as vtembed's own (threads, beam, VAD, language, word timestamps, no
  conditioning on earlier text), one call after another: what vtembed adds on top of Whisper.
The ingest runs with frames off (speech only, as both floors). Each side's words are scored
against what the input says (WER, normalised text). All are timed from spawn to exit, after an
untimed warm-up ingest; on a busy machine `--repeat N` alternates them N times and keeps each
one's fastest run. Writes benchmarks/results/ingest_vs_whisper.json.

    .venv/bin/python benchmarks/ingest_vs_whisper.py [--minutes 10] [--repeat 1] [--quick]
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
TARGET = 0.7
"""Ingest vs the plain call."""


def transcribe_bare(media: Path, plain: bool) -> None:
    """A floor, run in a child process: print its text and in-process timings as JSON."""
    from faster_whisper import WhisperModel, decode_audio

    from vtembed.settings import load_settings
    from vtembed.whisper_device import device_for
    from vtembed.whisper_model import bundled_model_dir

    s = load_settings().whisper
    device = device_for(s)
    path = str(s.model or bundled_model_dir())
    started = time.perf_counter()
    if plain:  # the one-liner: the library's own defaults for everything else
        model = WhisperModel(path, device=device.device, compute_type=device.compute_type)
        loaded = time.perf_counter()
        segments, _info = model.transcribe(decode_audio(str(media)), vad_filter=True)
    else:
        model = WhisperModel(
            path,
            device=device.device,
            compute_type=device.compute_type,
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
    text = " ".join(segment.text for segment in segments)
    done = time.perf_counter()
    timings = {"load_sec": loaded - started, "transcribe_sec": done - loaded}
    print(json.dumps({"text": text, **timings}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=1, help="rounds, for a busy machine")
    parser.add_argument("--quick", action="store_true", help="3 minutes; writes *-quick.json")
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)  # the children's modes
    parser.add_argument("--plain", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor or args.plain:
        transcribe_bare(args.plain or args.floor, plain=bool(args.plain))
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
    from benchmarks.wer import records_text, wer

    media = speech_input(minutes)
    with tempfile.TemporaryDirectory() as tmp:
        warm_up(Path(tmp))
        load = load_average()

        env = bench_env()

        def bare(mode: str) -> Callable[[int], Measured]:
            def run(_n: int) -> Measured:
                return run_measured([sys.executable, __file__, mode, str(media.path)], env)

            return run

        def ingest_run(n: int) -> Measured:  # a fresh sink each round: nothing is done yet
            flags = ("--summary-json", str(Path(tmp) / f"{n}.json"))
            argv = ingest_argv(media.path, Path(tmp) / f"{n}.jsonl", *flags)
            return run_measured(argv, bench_env(VTEMBED_FRAMES__ENABLED="false"))

        plain, floor, ingest = alternate(repeat, bare("--plain"), bare("--floor"), ingest_run)
        lines = (Path(tmp) / "0.jsonl").read_text(encoding="utf-8").splitlines()
        heard = records_text(Path(tmp) / "0.jsonl")
        summaries = [json.loads((Path(tmp) / f"{n}.json").read_text()) for n in range(repeat)]
    said_plain, said_floor = json.loads(plain.stdout), json.loads(floor.stdout)
    scores = {
        "plain": wer(media.reference, said_plain["text"]),
        "floor": wer(media.reference, said_floor["text"]),
        "ingest": wer(media.reference, heard),
    }
    ratio = ingest.wall_sec / plain.wall_sec
    write_result(
        result_name("ingest_vs_whisper", quick),
        {
            **media.describe(),
            "plain_sec": round(plain.wall_sec, 2),
            "plain_cpu_sec": round(plain.cpu_sec, 1),
            "plain_peak_rss_mib": round(plain.peak_rss_mib, 1),
            "plain_wer": scores["plain"],
            "floor_sec": round(floor.wall_sec, 2),
            "floor_transcribe_sec": round(said_floor["transcribe_sec"], 2),
            "floor_model_load_sec": round(said_floor["load_sec"], 2),
            "floor_words": len(said_floor["text"].split()),
            "floor_cpu_sec": round(floor.cpu_sec, 1),
            "floor_peak_rss_mib": round(floor.peak_rss_mib, 1),
            "floor_x_realtime": round(media.seconds / floor.wall_sec, 2),
            "floor_wer": scores["floor"],
            "ingest_sec": round(ingest.wall_sec, 2),
            "ingest_run_sec": min(s["wall_seconds"] for s in summaries),  # without start-up
            "rounds": repeat,
            "ingest_words": len(heard.split()),
            "ingest_records": len(lines),
            "ingest_cpu_sec": round(ingest.cpu_sec, 1),
            "ingest_peak_rss_mib": round(ingest.peak_rss_mib, 1),
            "ingest_x_realtime": round(media.seconds / ingest.wall_sec, 2),
            "ingest_wer": scores["ingest"],
            "ratio_ingest_to_plain": round(ratio, 3),
            "target_ratio": TARGET,
            "ratio_ingest_to_floor": round(ingest.wall_sec / floor.wall_sec, 3),
            "wer_points_over_plain": round(
                100 * (wer(media.reference, heard) - wer(media.reference, said_plain["text"])), 2
            ),
            "target_wer_points": 1.0,
            "load_avg_1m_before": load,
            "load_avg_1m_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
