"""Every registered sink that can search, loaded with the same synthetic archive (100 000 records of
random unit vectors by default, at 384 and 1024 dimensions): ingest rows/s writing one media item
per batch as ingest does, an upsert pass re-writing 10% of the records (the stored count must not
move), then searches (k=10; stored and fresh random vectors, with and without a modality filter)
timed for p50/p95 and checked against an exact numpy scan (recall@10, score error).

The Milvus sink runs on Milvus Lite (a `.db` folder) and, where the PyPI package `milvus` runs
(Linux x86_64, installed by the test extra), on a real Milvus server on 127.0.0.1 that the script
starts for the run, with an exact FLAT index (`--no-milvus-server` leaves it out).

Upserts are timed through a new handle, as the next ingest run writes (three times, keeping the
fastest), and once more through the last of those handles, which has just written the same
records (on a server, a read that must see the handle's own writes waits for them).

The JSONL sink is the small-archive baseline the ratios are against; it re-reads its file for every
query, so each sink stops querying after --query-budget-sec (having run at least one query).

Writes benchmarks/results/sinks.json, which the README's sink table is made from, for the full
run (every option but --tmp at its default); any other run writes sinks-partial.json unless
--name says otherwise, so it never replaces the full run's figures. Exits 1 if a sink stored a
record twice or lost one.

    .venv/bin/python benchmarks/sink_throughput.py [--rows 100000] [--dims 384,1024]
        [--sinks lancedb,milvus,milvus-server] [--queries 200] [--items 100]
        [--query-budget-sec 10] [--no-milvus-server] [--name NAME]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import write_result  # noqa: E402
from benchmarks.synthetic_archive import MODEL, Archive, Item  # noqa: E402
from tests import milvus_server  # noqa: E402
from vtembed.plugin_manager import build_manager  # noqa: E402
from vtembed.registry import build_registry  # noqa: E402
from vtembed.settings import Settings, load_settings  # noqa: E402
from vtembed.sink import Sink  # noqa: E402

K = 10
UPSERT_FRACTION = 0.1
UPSERT_RUNS = 3
TARGETS = {"search_p50_ms": 50.0, "upsert_rows_per_sec": 5000.0}
SERVER_RUNS: dict[str, dict[str, Any]] = {"milvus-server": {"index_type": "FLAT"}}
"""The Milvus server runs: their names and the [milvus] settings each changes. FLAT is exact, as
the other sinks' searches are: on these random vectors the server's approximate indexes find a
third of the true top 10 or less (see docs/milvus.md)."""


class SinkFault(Exception):
    """The sink stored a record twice, lost one, or returned a hit its filter excludes."""


def searchable_sinks() -> dict[str, type[Sink]]:
    """Registered sinks that override `Sink.search`, by scheme."""
    sinks = build_registry(build_manager()).sinks
    return {name: cls for name, cls in sorted(sinks.items()) if cls.search is not Sink.search}


def stored(sink: Sink, items: list[Item]) -> int:
    return sum(sink.count(item.media["id"]) for item in items)


def total(sink: Sink, archive: Archive) -> int:
    """Every record in the store: its own total where the sink has one (Milvus `rows()`: each of
    Milvus Lite's per-item counts scans its whole table, 100 of them 38 s at 384 dims, one total
    0.07 s), else the sum over the items. Records filed under the wrong item are the sink
    contract tests' part."""
    rows = getattr(sink, "rows", None)
    return int(rows()) if callable(rows) else stored(sink, archive.items)


def ingest(sink: Sink, archive: Archive) -> dict[str, float]:
    """Write every item once; rows/s."""
    rows = len(archive.ids)
    seconds, new = write_items(sink, archive, archive.items)
    if new != rows or (count := total(sink, archive)) != rows:
        raise SinkFault(f"{rows} records written, {new} reported new, {count} stored")
    return {"ingest_rows_per_sec": round(rows / seconds)}


def upsert(open_sink: Callable[[], Sink], archive: Archive) -> dict[str, Any]:
    """Write every tenth item again (the same ids) through a handle that has not written them, as
    the next ingest run does, UPSERT_RUNS times with a new handle each (keeping the fastest: the
    first after a large ingest ran at half speed or less on a server still busy with what that
    ingest flushed); then once more through the last handle, which has just written them.
    Each pass checks the items it wrote; the whole store is checked once, after the last."""
    runs: list[int] = []
    rows = after = len(archive.ids)
    for n in range(UPSERT_RUNS):
        sink = open_sink()
        try:
            runs.append(rewrite(sink, archive))
            if n == UPSERT_RUNS - 1:
                same_handle = rewrite(sink, archive)
                if (after := total(sink, archive)) != rows:
                    raise SinkFault(f"{after} records stored after the upserts, not {rows}")
        finally:
            sink.close()
    return {
        "upsert_rows_per_sec": max(runs),
        "upsert_runs_rows_per_sec": runs,
        "upsert_same_handle_rows_per_sec": same_handle,
        "stored_after_upsert": after,
    }


def rewrite(sink: Sink, archive: Archive) -> int:
    """Rows/s of writing every tenth item again; none may count as new, none may be added."""
    again = archive.items[:: round(1 / UPSERT_FRACTION)]
    upserted = sum(len(item.rows) for item in again)
    seconds, new = write_items(sink, archive, again)
    after = stored(sink, again)
    if new or after != upserted:
        raise SinkFault(
            f"re-writing {upserted} stored records reported {new} new and left {after} "
            f"of those items stored: the sink duplicates"
        )
    return round(upserted / seconds)


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


@dataclass(frozen=True)
class Target:
    """One store to load: a sink, and where (a path in a fresh folder, or a server URI)."""

    name: str
    sink: type[Sink]
    uri: str | None = None
    """A server's URI, emptied after each run; None: a store in a fresh folder."""
    table: dict[str, Any] | None = None
    """Settings of the sink's own table that differ from its defaults."""

    def where(self, folder: Path, dim: int) -> str:
        return self.uri or str(folder / f"{self.sink.scheme}-{dim}.db")

    def settings(self) -> Settings | None:
        section = self.sink.settings_section
        if not self.table or section is None:
            return None
        return load_settings({section.name: self.table}, None, [section])


def bench(
    target: Target, archive: Archive, queries: list[Query], folder: Path, budget_sec: float
) -> dict[str, Any]:
    """One store at one dimension: load, then search; wall seconds of the whole run."""
    started, load_1m = time.perf_counter(), load_average()
    cls = target.sink
    where = target.where(folder, archive.dim)
    print(f"{target.name} {archive.dim} dims: writing {len(archive.ids)} records", file=sys.stderr)
    settings = target.settings()

    def open_sink() -> Sink:
        return cls(where, model_name=MODEL, dim=archive.dim, settings=settings)

    sink = open_sink()
    try:
        figures: dict[str, Any] = ingest(sink, archive)
    finally:
        sink.close()
    figures |= upsert(open_sink, archive)
    print(f"{target.name} {archive.dim} dims: searching", file=sys.stderr)
    handle = cls.open_for_search(where, model_name=MODEL, dim=archive.dim, settings=settings)
    try:
        figures |= search(handle, archive, queries, budget_sec)
    finally:
        handle.close()
    figures |= {"seconds": round(time.perf_counter() - started, 1), "load_avg_1m_before": load_1m}
    table = cls.options(settings)
    if table is not None:  # what the sink ran with (a secret shows as '**********')
        figures["settings"] = table.model_dump(mode="json")
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
    parser.add_argument(
        "--no-milvus-server", action="store_true", help="leave out the Milvus server run"
    )
    parser.add_argument(
        "--name", help="results file name (default: sinks for the full run, else sinks-partial)"
    )
    args = parser.parse_args()
    available = searchable_sinks()
    names = [*available, *(SERVER_RUNS if "milvus" in available else ())]
    chosen = [s for s in args.sinks.split(",") if s] or names
    unknown = [s for s in chosen if s not in names]
    if unknown:
        parser.error(f"no searchable sink {', '.join(unknown)} (available: {', '.join(names)})")
    dims = [int(d) for d in args.dims.split(",")]
    load_before = load_average()
    results: list[dict[str, Any]] = []
    failed = False
    targets = [Target(name, available[name]) for name in chosen if name in available]
    servers = [name for name in chosen if name in SERVER_RUNS and not args.no_milvus_server]
    reason = milvus_server.missing()
    if servers and reason:
        print(f"no Milvus server runs: {reason}", file=sys.stderr)
        servers = []
    for dim in dims:
        archive = Archive(args.rows, dim, args.items)
        queries = plan_queries(archive, args.queries)
        for target in targets:
            result, fault = run_one(target, archive, queries, args)
            results.append(result)
            failed = failed or fault
        if not servers:
            continue
        # Started for its runs only: even idle, a server takes CPU from the other stores' runs.
        with tempfile.TemporaryDirectory(dir=args.tmp) as folder:
            print("starting a Milvus server", file=sys.stderr)
            with milvus_server.running(Path(folder)) as uri:
                for name in servers:
                    server = Target(name, available["milvus"], uri, SERVER_RUNS[name])
                    result, fault = run_one(server, archive, queries, args)
                    results.append(result)
                    failed = failed or fault
    with_ratios(results, args.baseline)
    # Any option that changes what is measured (not where the stores go) makes a narrower run.
    measured = [key for key in vars(args) if key not in ("tmp", "name")]
    full = all(getattr(args, key) == parser.get_default(key) for key in measured)
    write_result(
        args.name or ("sinks" if full else "sinks-partial"),
        {
            "rows": args.rows,
            "media_items": args.items,
            "records_per_write": args.rows // args.items,
            "upsert_fraction": UPSERT_FRACTION,
            "upsert_runs": UPSERT_RUNS,
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


def run_one(
    target: Target, archive: Archive, queries: list[Query], args: argparse.Namespace
) -> tuple[dict[str, Any], bool]:
    """One store at one dimension in a fresh folder or on an emptied server; (figures, failed)."""
    folder = Path(tempfile.mkdtemp(prefix=f"sinkbench-{target.name}-", dir=args.tmp))
    head: dict[str, Any] = {"sink": target.name, "dim": archive.dim}
    if target.uri:
        head["server"] = server_version(target.uri)
    try:
        figures = bench(target, archive, queries, folder, args.query_budget_sec)
        return {**head, **figures}, False
    except SinkFault as exc:
        print(f"error: {target.name} ({archive.dim} dims): {exc}", file=sys.stderr)
        return {**head, "error": str(exc)}, True
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if target.uri:
            milvus_server.drop_collections(target.uri)


def server_version(uri: str) -> str:
    from pymilvus import MilvusClient

    client = MilvusClient(uri=uri)
    try:
        return f"Milvus {client.get_server_version()}"
    finally:
        client.close()


def load_average() -> float:
    """The 1-minute load average: the machine is shared, so every figure carries it."""
    return round(os.getloadavg()[0], 2)


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


if __name__ == "__main__":
    main()
