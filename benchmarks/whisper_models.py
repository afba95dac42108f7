"""The bundled multilingual base beside the bundled tiny.en: transcription speed on the same
60-s espeak-ng input (benchmarks/inputs.py), both measured in this run, alternating, each round's
fastest kept, so the ratio holds on a busy machine. Each model is loaded once (untimed) and warmed
on the input's first window; the audio is decoded once, so the figure is Whisper's own work
through vtembed's Transcriber (VAD, beam, word timestamps), on whatever `whisper.device` picks
here (a GPU box runs it unchanged). Writes benchmarks/results/whisper_models.json.

    .venv/bin/python benchmarks/whisper_models.py [--minutes 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODELS = {"tiny.en": "", "base": "base"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each model's fastest kept")
    args = parser.parse_args()

    from benchmarks.inputs import speech_input
    from benchmarks.measure import load_average
    from benchmarks.results_file import write_result
    from vtembed.media import DecodeResult, pcm_windows, probe
    from vtembed.settings import load_settings
    from vtembed.transcriber import Transcriber

    media = speech_input(args.minutes)
    settings = load_settings()
    windows = list(pcm_windows(probe(str(media.path)), settings.whisper.window_sec, DecodeResult()))
    transcribers = {}
    for name, model in MODELS.items():
        whisper = settings.whisper.model_copy(update={"model": model, "language": "en"})
        transcribers[name] = Transcriber(whisper, settings.cache_dir)
        transcribers[name].transcribe(windows[:1])  # warm-up: first-call costs are not speed
    load_before = load_average()
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for name, transcriber in transcribers.items():
            wall, cpu = time.perf_counter(), time.process_time()
            words = len(transcriber.transcribe(windows).words)
            took = {"wall_sec": time.perf_counter() - wall, "cpu_sec": time.process_time() - cpu}
            if name not in best or took["wall_sec"] < best[name]["wall_sec"]:
                best[name] = {**took, "words": words}
    figures = {
        name: {
            "wall_sec": round(b["wall_sec"], 2),
            "cpu_sec": round(b["cpu_sec"], 2),
            "realtime_factor": round(media.seconds / b["wall_sec"], 1),
            "words": int(b["words"]),
            "device": transcribers[name].device.describe(),
        }
        for name, b in best.items()
    }
    write_result(
        "whisper_models",
        {
            **media.describe(),
            "models": figures,
            "base_vs_tiny_en": round(best["base"]["wall_sec"] / best["tiny.en"]["wall_sec"], 2),
            "repeat": args.repeat,
            "beam_size": settings.whisper.beam_size,
            "cpu_threads": settings.whisper.cpu_threads,
            "load_average": [load_before, load_average()],
        },
    )


if __name__ == "__main__":
    main()
