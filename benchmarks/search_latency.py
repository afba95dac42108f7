"""Search latency through the Python API (`Vtembed.search`) on a LanceDB store of 100 000
records: p50/p95 of vector and hybrid searches (grouped hits, as the CLI and the browser page
ask), with the query embedded by the real local MiniLM model, as a user's query is.

Records are the synthetic archive of the sink benchmark (100 media items of alternating text
chunks and audio segments with short texts of common words) with random unit vectors of 384
dimensions, stored as all-MiniLM-L6-v2's so the API embeds queries for them. They are written once,
one media item per write as ingest writes (so the sink builds its IVF vector index and keeps its
full-text index as it would), into benchmarks/.cache/search_latency/; later runs reuse the store.
The issue's target is p50 < 100 ms. The time to embed a query alone is measured too, so the
store's share can be told apart, and the time to make the embedder (loading MiniLM), which the
API pays once per `Vtembed` (the first search), not per search.

Writes benchmarks/results/search_latency.json.

    .venv/bin/python benchmarks/search_latency.py [--rows 100000] [--queries 100] [--k 10]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import write_result  # noqa: E402
from benchmarks.synthetic_archive import WORDS, Archive  # noqa: E402
from vtembed import Vtembed  # noqa: E402
from vtembed.api.searching import embed_query, pick_embedder  # noqa: E402
from vtembed.plugins.embedders import minilm  # noqa: E402
from vtembed.plugins.sinks.lancedb import LanceDbSink  # noqa: E402

CACHE = ROOT / "benchmarks" / ".cache" / "search_latency"
MODEL_CACHE = ROOT / "benchmarks" / ".cache" / "models"
TARGET_P50_MS = 100.0
MODES = ("vector", "hybrid", "text")
ITEMS = 100


def build_store(rows: int) -> Path:
    """The LanceDB store of `rows` records, made once; a store left half-made is made again."""
    path = CACHE / f"lancedb-{rows}"
    done = path.with_name(path.name + ".done")
    if done.exists():
        return path
    shutil.rmtree(path, ignore_errors=True)
    archive = Archive(rows, minilm.DIM, ITEMS)
    sink = LanceDbSink(str(path), model_name=minilm.MODEL_NAME, dim=minilm.DIM)
    started = time.perf_counter()
    try:
        for item in archive.items:
            records = [
                dataclasses.replace(r, model_name=minilm.MODEL_NAME) for r in archive.records(item)
            ]
            sink.write(records)
    finally:
        sink.close()
    print(f"stored {rows} records in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    done.touch()
    return path


def queries(n: int) -> list[str]:
    """Short queries of the archive's words, some with a number no record holds."""
    out = []
    for i in range(n):
        words = [WORDS[(i * 11 + j * 5) % len(WORDS)] for j in range(2 + i % 4)]
        if i % 3 == 0:
            words.append(str(2000 + i))
        out.append(" ".join(words))
    return out


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(p95, 1),
        "mean_ms": round(statistics.fmean(ordered), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()

    store = build_store(args.rows)
    sink = f"lancedb:{store}"
    app = Vtembed()
    settings: dict[str, Any] = {"sink": sink, "cache_dir": str(MODEL_CACHE)}
    asked = queries(args.queries)
    app.search(asked[0], k=args.k, **settings)  # converts MiniLM once, warms the caches

    figures: dict[str, Any] = {"rows": args.rows, "dim": minilm.DIM, "k": args.k}
    figures["queries"] = len(asked)
    for mode in MODES:
        samples = []
        hits = 0
        for query in asked:
            started = time.perf_counter()
            found = app.search(query, k=args.k, mode=mode, **settings)
            samples.append((time.perf_counter() - started) * 1000)
            hits += len(found.hits)
        figures[mode] = {**percentiles(samples), "hits_per_query": round(hits / len(asked), 1)}

    chosen = app.settings(sources=False, **settings)
    embedder_cls = pick_embedder(app.registry, chosen, minilm.MODEL_NAME)
    embedder = embedder_cls.for_store(chosen, minilm.MODEL_NAME, minilm.DIM)
    samples = []
    for query in asked:
        started = time.perf_counter()
        embed_query(query, embedder)
        samples.append((time.perf_counter() - started) * 1000)
    figures["embed_query_only"] = percentiles(samples)
    started = time.perf_counter()
    embedder_cls.for_store(chosen, minilm.MODEL_NAME, minilm.DIM)
    figures["make_embedder_ms"] = round((time.perf_counter() - started) * 1000, 1)
    figures["target_p50_ms"] = TARGET_P50_MS
    figures["meets_target"] = all(figures[m]["p50_ms"] < TARGET_P50_MS for m in MODES)
    write_result("search_latency", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
