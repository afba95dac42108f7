"""Every registered sink that can search, loaded with the same synthetic archive (100 000 records of
random unit vectors by default, at 384 and 1024 dimensions): ingest rows/s writing one media item
per batch as ingest does, an upsert pass re-writing 10% of the records (the stored count must not
move), then searches (k=10; stored and fresh random vectors, with and without a modality filter)
timed for p50/p95 and checked against an exact numpy scan (recall@10, score error).

The JSONL sink is the small-archive baseline the ratios are against; it re-reads its file for every
query, so each sink stops querying after --query-budget-sec (having run at least one query).

Writes benchmarks/results/sinks.json; exits 1 if a sink stored a record twice or lost one.

    .venv/bin/python benchmarks/sink_throughput.py [--rows 100000] [--dims 384,1024]
        [--sinks lancedb,milvus] [--queries 200] [--items 100] [--query-budget-sec 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import write_result  # noqa: E402
from benchmarks.synthetic_archive import MODEL, Archive, Item  # noqa: E402
from vtembed.plugin_manager import build_manager  # noqa: E402
from vtembed.registry import build_registry  # noqa: E402
from vtembed.sink import Sink  # noqa: E402

K = 10
UPSERT_FRACTION = 0.1
TARGETS = {"search_p50_ms": 50.0, "upsert_rows_per_sec": 5000.0}


class SinkFault(Exception):
    """The sink stored a record twice, lost one, or returned a hit its filter excludes."""


def searchable_sinks() -> dict[str, type[Sink]]:
    """Registered sinks that override `Sink.search`, by scheme."""
    sinks = build_registry(build_manager()).sinks
    return {name: cls for name, cls in sorted(sinks.items()) if cls.search is not Sink.search}


def stored(sink: Sink, archive: Archive) -> int:
    return sum(sink.count(item.media["id"]) for item in archive.items)


def ingest_and_upsert(sink: Sink, archive: Archive) -> dict[str, float]:
    """Ingest every item, then write every tenth item again (the same ids); rows/s of both."""
    rows = len(archive.ids)
    seconds, new = write_items(sink, archive, archive.items)
    if new != rows or (count := stored(sink, archive)) != rows:
        raise SinkFault(f"{rows} records written, {new} reported new, {count} stored")
    again = archive.items[:: round(1 / UPSERT_FRACTION)]
    upsert_seconds, new_again = write_items(sink, archive, again)
    upserted = sum(len(item.rows) for item in again)
    after = stored(sink, archive)
    if new_again or after != rows:
        raise SinkFault(
            f"re-writing {upserted} stored records reported {new_again} new and left {after} "
            f"stored, not {rows}: the sink duplicates"
        )
    return {
        "ingest_rows_per_sec": round(rows / seconds),
        "upsert_rows_per_sec": round(upserted / upsert_seconds),
        "stored_after_upsert": after,
    }


def write_items(sink: Sink, archive: Archive, items: list[Item]) -> tuple[float, int]:
    """One write per item, as ingest does; seconds spent inside `write` and new records."""
    seconds, new = 0.0, 0
    for item in items:
        records = archive.records(item)
        started = time.perf_counter()
        new += sink.write(records)
        seconds += time.perf_counter() - started
    return seconds, new


@dataclass(frozen=True)
class Query:
    vector: list[float]
    modality: str | None
    row: int | None
    """The stored record whose vector this is (None for a fresh random vector)."""
    exact: list[str]
    """The ids of the K nearest records (by an exact numpy scan), best first."""


def plan_queries(archive: Archive, count: int) -> list[Query]:
    """The same queries for every sink: stored or fresh random vector, with or without a modality
    filter, in turn."""
    rng = np.random.default_rng(1)
    queries = []
    for i in range(count):
        row = int(rng.integers(len(archive.ids)))
        vector = archive.vectors[row] if i % 4 < 2 else archive.random_query()
        modality = str(archive.modality[row]) if i % 2 else None
        exact = archive.exact(vector, K, modality)
        queries.append(Query(vector.tolist(), modality, row if i % 4 < 2 else None, exact))
    return queries


def search(handle: Sink, archive: Archive, queries: list[Query], budget_sec: float) -> dict:
    """Time the queries back to back (stopping after budget_sec), then grade every answer
    against the exact scan."""
    latencies: list[float] = []
    answers = []
    for query in queries:
        if latencies and sum(latencies) > budget_sec:
            break
        filters = {"modality": query.modality} if query.modality else None
        started = time.perf_counter()
        answers.append(handle.search(query.vector, K, filters))
        latencies.append(time.perf_counter() - started)
    recall: dict[str, list[float]] = {"all": [], "filtered": []}
    first_hit, score_error = [], 0.0
    for query, hits in zip(queries, answers, strict=False):
        vector = np.asarray(query.vector, dtype=np.float32)
        found = [hit["id"] for hit in hits]
        kind = "filtered" if query.modality else "all"
        recall[kind].append(len(set(found) & set(query.exact)) / K)
        if query.row is not None:
            first_hit.append(float(bool(found) and found[0] == archive.ids[query.row]))
        for hit in hits:
            score_error = max(score_error, abs(hit["score"] - archive.cosine(vector, hit["id"])))
            if query.modality and hit["modality"] != query.modality:
                raise SinkFault(f"a search for {query.modality} returned a {hit['modality']} hit")
    ms = np.array(latencies) * 1000
    return {
        "queries": len(latencies),
        "search_p50_ms": round(float(np.percentile(ms, 50)), 1),
        "search_p95_ms": round(float(np.percentile(ms, 95)), 1),
        "recall_at_10": _mean(recall["all"] + recall["filtered"]),
        "recall_at_10_unfiltered": _mean(recall["all"]),
        "recall_at_10_modality_filter": _mean(recall["filtered"]),
        "top_hit_is_the_stored_record": _mean(first_hit),
        "max_score_error": float(f"{score_error:.2g}"),
    }


def bench(
    cls: type[Sink], archive: Archive, queries: list[Query], folder: Path, budget_sec: float
) -> dict[str, Any]:
    """One sink at one dimension: load, then search; wall seconds of the whole run."""
    started, load_1m = time.perf_counter(), load_average()
    target = str(folder / f"{cls.scheme}-{archive.dim}.db")
    print(f"{cls.scheme} {archive.dim} dims: writing {len(archive.ids)} records", file=sys.stderr)
    sink = cls(target, model_name=MODEL, dim=archive.dim)
    try:
        figures = ingest_and_upsert(sink, archive)
    finally:
        sink.close()
    print(f"{cls.scheme} {archive.dim} dims: searching", file=sys.stderr)
    handle = cls.open_for_search(target, model_name=MODEL, dim=archive.dim)
    try:
        figures |= search(handle, archive, queries, budget_sec)
    finally:
        handle.close()
    figures |= {"seconds": round(time.perf_counter() - started, 1), "load_avg_1m_before": load_1m}
    settings = cls.options(None)
    if settings is not None:  # the defaults the sink ran with (never a secret: no environment)
        figures["settings"] = settings.model_dump()
    return figures


def with_ratios(results: list[dict[str, Any]], baseline: str) -> None:
    """Each sink against the baseline sink of the same dimension, measured in this run."""
    base = {r["dim"]: r for r in results if r["sink"] == baseline and "error" not in r}
    for r in results:
        b = base.get(r["dim"])
        if b is None or r is b or "error" in r:
            continue
        r["vs_baseline"] = {
            "ingest_rows_per_sec": round(r["ingest_rows_per_sec"] / b["ingest_rows_per_sec"], 1),
            "search_p50_faster": round(b["search_p50_ms"] / max(r["search_p50_ms"], 0.1), 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dims", default="384,1024")
    parser.add_argument("--sinks", default="", help="comma-separated schemes (default: all)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--query-budget-sec", type=float, default=10.0)
    parser.add_argument("--baseline", default="jsonl")
    parser.add_argument("--tmp", default=None, help="folder for the stores (default: system tmp)")
    args = parser.parse_args()
    available = searchable_sinks()
    chosen = [s for s in args.sinks.split(",") if s] or list(available)
    unknown = [s for s in chosen if s not in available]
    if unknown:
        parser.error(f"no searchable sink {', '.join(unknown)} (available: {', '.join(available)})")
    dims = [int(d) for d in args.dims.split(",")]
    load_before = load_average()
    results: list[dict[str, Any]] = []
    failed = False
    for dim in dims:
        archive = Archive(args.rows, dim, args.items)
        queries = plan_queries(archive, args.queries)
        for scheme in chosen:
            folder = Path(tempfile.mkdtemp(prefix=f"sinkbench-{scheme}-", dir=args.tmp))
            try:
                figures = bench(available[scheme], archive, queries, folder, args.query_budget_sec)
                result = {"sink": scheme, "dim": dim, **figures}
            except SinkFault as exc:
                print(f"error: {scheme} ({dim} dims): {exc}", file=sys.stderr)
                result, failed = {"sink": scheme, "dim": dim, "error": str(exc)}, True
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            results.append(result)
    with_ratios(results, args.baseline)
    write_result(
        "sinks",
        {
            "rows": args.rows,
            "media_items": args.items,
            "records_per_write": args.rows // args.items,
            "upsert_fraction": UPSERT_FRACTION,
            "k": K,
            "vectors": "random unit float32 (normalised standard normal), queries half stored",
            "targets": TARGETS,
            "load_avg_1m_before": load_before,
            "load_avg_1m_after": load_average(),
            "results": results,
        },
    )
    if failed:
        sys.exit(1)


def load_average() -> float:
    """The 1-minute load average: the machine is shared, so every figure carries it."""
    return round(os.getloadavg()[0], 2)


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


if __name__ == "__main__":
    main()
