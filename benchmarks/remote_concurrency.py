"""The TwelveLabs client's concurrency, measured against a stub endpoint on 127.0.0.1 that only
sleeps (150 ms per request) and returns vectors: the same planned transcripts and audio segments
are embedded with the configured concurrency and with one request at a time, in the same run.

Writes benchmarks/results/remote_concurrency.json.

    .venv/bin/python benchmarks/remote_concurrency.py [--minutes 3] [--in-flight 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import write_result  # noqa: E402
from benchmarks.stub_endpoint import API_KEY, DELAY_SEC, sleeping_stub  # noqa: E402
from tests import media_factory as mf  # noqa: E402
from vtembed.media import DecodeResult, pcm_windows, probe  # noqa: E402
from vtembed.models import AudioSegment, MediaItem  # noqa: E402
from vtembed.pipeline import Planned, Stages, Transcribed  # noqa: E402
from vtembed.plugin_manager import build_manager  # noqa: E402
from vtembed.progress import PlainReporter  # noqa: E402
from vtembed.registry import build_registry  # noqa: E402
from vtembed.settings import load_settings  # noqa: E402
from vtembed.transcriber import Transcriber  # noqa: E402


def plan(media: Path, settings: Any, registry: Any) -> Planned:
    """Transcribe once; both measured runs embed exactly this plan."""
    info = probe(str(media))
    decoded = DecodeResult()
    transcript = Transcriber(settings.whisper).transcribe(pcm_windows(info, 300.0, decoded))
    item = MediaItem(id="bench", uri=media.as_uri(), title=media.stem, source="local")
    embedder = registry.embedder("twelvelabs")(settings)
    stages = Stages(settings, {}, None, embedder, None, PlainReporter(quiet=True))  # type: ignore[arg-type]
    planned = stages.plan(Transcribed(item, info, decoded.duration_sec, transcript))
    assert any(isinstance(x, AudioSegment) for x in planned.inputs)
    return planned


def embed_seconds(planned: Planned, registry: Any, base: dict, in_flight: int) -> float:
    settings = load_settings(
        {**base, "twelvelabs": {**base["twelvelabs"], "max_in_flight": in_flight}},
        None,
        registry.settings_sections(),
    )
    embedder = registry.embedder("twelvelabs")(settings)
    stages = Stages(settings, {}, None, embedder, None, PlainReporter(quiet=True))  # type: ignore[arg-type]

    async def run() -> float:
        started = time.perf_counter()
        vectors = await stages.embed_inputs(planned.inputs)
        assert len(vectors) == len(planned.inputs)
        await embedder.aclose()
        return time.perf_counter() - started

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--in-flight", type=int, default=8)
    args = parser.parse_args()
    with sleeping_stub() as stub, tempfile.TemporaryDirectory() as tmp:
        media = mf.long_speech_wav(Path(tmp) / "speech.wav", args.minutes)
        base = {"embedder": "twelvelabs", "twelvelabs": {"base_url": stub.url, "api_key": API_KEY}}
        registry = build_registry(build_manager())
        settings = load_settings(base, None, registry.settings_sections())
        planned = plan(media, settings, registry)
        sequential = embed_seconds(planned, registry, base, 1)
        concurrent = embed_seconds(planned, registry, base, args.in_flight)
    requests = len(planned.inputs)
    write_result(
        "remote_concurrency",
        {
            "stub_delay_sec": DELAY_SEC,
            "requests": requests,
            "sequential_sec": round(sequential, 3),
            "concurrent_sec": round(concurrent, 3),
            "in_flight": args.in_flight,
            "speedup_concurrent_vs_sequential": round(sequential / concurrent, 2),
        },
    )


if __name__ == "__main__":
    main()
