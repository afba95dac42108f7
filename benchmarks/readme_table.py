"""The README's benchmark tables (the main one, and the sinks at 100 000 records), rendered from
benchmarks/results/*.json and nothing else, so the figures people read are the figures a run
wrote (tests/unit/test_readme_benchmarks.py fails when they part ways). `make bench` rewrites the
tables after its runs.

    .venv/bin/python benchmarks/readme_table.py [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_file import RESULTS  # noqa: E402

README = ROOT / "README.md"
BEGIN = "<!-- benchmark table: written by benchmarks/readme_table.py from benchmarks/results -->"
END = "<!-- end of benchmark table -->"
SINKS_BEGIN = "<!-- sink table: written by benchmarks/readme_table.py from benchmarks/results -->"
SINKS_END = "<!-- end of sink table -->"
X = "\N{MULTIPLICATION SIGN}"  # "1.12" followed by it reads "1.12 times"
Result = dict[str, Any]


def _target(value: float, target: float) -> str:
    return f"≤ {target:g}{X}: {'met' if value <= target else '**missed**'}"


def _versus(a: str, b: str, ratio: float) -> str:
    return f"{a} vs {b}: **{ratio:.2f}{X}**"


def _ingest(r: Result) -> list[str]:
    ratio = r["ratio_ingest_to_plain"]
    points = r["wer_points_over_plain"]
    wer = f"WER {100 * r['ingest_wer']:.1f}% vs {100 * r['plain_wer']:.1f}% ({points:+.1f} points)"
    return [
        f"`vtembed ingest` (frames off) of {r['input_seconds'] / 60:g} min of speech vs the "
        "faster-whisper call a user would write (`transcribe(decode_audio(f), vad_filter=True)`, "
        "same model and compute type, beam 5)",
        _versus(f"{r['ingest_sec']:.1f} s", f"{r['plain_sec']:.1f} s", ratio) + f"; {wer}",
        _target(ratio, r["target_ratio"])
        + f"; WER ≤ +{r['target_wer_points']:g} point: "
        + ("met" if points <= r["target_wer_points"] else "**missed**"),
    ]


def _floor(r: Result) -> list[str]:
    ratio = r["ratio_ingest_to_floor"]
    return [
        "the same ingest vs bare faster-whisper with vtembed's own settings (threads, beam, VAD, "
        "word timestamps), one call after another",
        _versus(f"{r['ingest_sec']:.1f} s", f"{r['floor_sec']:.1f} s", ratio)
        + f"; WER {100 * r['floor_wer']:.1f}%",
        "",
    ]


def _archive(r: Result) -> list[str]:
    speedup = r["speedup_items_per_min"]
    low, high = r["item_seconds"]
    met = "met" if speedup >= r["target_speedup"] else "**missed**"
    return [
        f"an archive of {r['items']} files of {low:g}-{high:g} s: items per minute now vs one "
        "item at a time with the plain call (`batch_size = 1`, `workers = 1`, "
        "`items_at_once = 1`)",
        f"{r['now_items_per_min']:.1f} vs {r['plain_items_per_min']:.1f} items/min: "
        f"**{speedup:.2f}{X}**"
        + ("" if r["records_per_item_in_time_order"] else " (records out of order)"),
        f"≥ {r['target_speedup']:g}{X}: {met}",
    ]


def _ray_split(r: Result) -> list[str]:
    ratio = r["ratio_split_to_whole"]
    return [
        f"`--executor ray` on one {r['input_seconds'] / 60:g}-min file ({r['windows']} Whisper "
        "windows, frames off, a local Ray started by each run): its windows heard by every actor "
        "(`ray.split_files`, the default) vs the file by one actor",
        _versus(f"{r['split_sec']:.1f} s", f"{r['whole_sec']:.1f} s", ratio)
        + f"; WER {100 * r['split_wer']:.1f}% vs {100 * r['whole_wer']:.1f}%; "
        f"{r['records_the_same']} of {r['whole_records']} records the same",
        "",
    ]


def _memory(r: Result) -> list[str]:
    ratio = r["ratio_long_to_short"]
    long, short = r["long_peak_rss_mib"], r["short_peak_rss_mib"]
    rounds = r.get("rounds", 1)
    each = f", median of {rounds} runs each" if rounds > 1 else ""
    return [
        f"peak RSS, {r['long_minutes']:g}-min file vs {r['short_minutes']:g}-min file "
        f"(whole `vtembed ingest`{each})",
        _versus(f"{long:.0f} MiB", f"{short:.0f} MiB", ratio),
        _target(ratio, r["target_ratio"]),
    ]


def _overlap(r: Result) -> list[str]:
    ratio = r["ratio_overlapped_to_transcription"]
    full, alone = r["overlapped_sec"], r["transcription_alone_sec"]
    return [
        f"`--embedder twelvelabs` against a stub sleeping {r['stub_delay_sec'] * 1000:.0f} ms per "
        f"request ({r['requests']} requests, {r['input_seconds'] / 60:g} min of speech) vs "
        "transcription alone (`--dry-run`)",
        _versus(f"{full:.1f} s", f"{alone:.1f} s", ratio)
        + f" (overlap off: {r['not_overlapped_sec']:.1f} s)",
        _target(ratio, r["target_ratio"]),
    ]


def _frames(r: Result) -> list[str]:
    ratio = r["ratio_on_to_off"]
    extra = r["frames_on_cpu_sec"] - r["frames_off_cpu_sec"]
    return [
        f"`vtembed ingest` of {r['input_seconds'] / 60:g} min of video ({r['input_size']}, "
        f"{r['input_shots']} shots, {r['input_shots_with_text']} with text) with frames on "
        "(shots, keyframes, OCR beside Whisper) vs off",
        _versus(f"{r['frames_on_sec']:.1f} s", f"{r['frames_off_sec']:.1f} s", ratio)
        + f"; {r['images']} image records, {r['images_per_sec']:.2f} images/s; CPU "
        f"{r['frames_on_cpu_sec']:.0f} s vs {r['frames_off_cpu_sec']:.0f} s "
        f"({extra / r['input_shots']:.2f} s more per shot)",
        _target(ratio, r["target_ratio"]),
    ]


def _frames_plain(r: Result) -> list[str]:
    ratio = r["ratio_on_to_plain"]
    return [
        "the same video, frames on, vs the faster-whisper call a user would write for its sound",
        _versus(f"{r['frames_on_sec']:.1f} s", f"{r['plain_sec']:.1f} s", ratio),
        _target(ratio, r["target_ratio_on_to_plain"]),
    ]


def _speed(r: Result) -> list[str]:
    return [
        f"speed of the whole ingest on {r['cores']} cores (tiny.en int8, beam 5, MiniLM)",
        f"{r['ingest_x_realtime']:.1f}{X} real time ({r['input_seconds'] / 60:g} min file; "
        f"the plain call {r['input_seconds'] / r['plain_sec']:.1f}{X})",
        "",
    ]


def _concurrency(r: Result) -> list[str]:
    return [
        f"TwelveLabs client, {r['in_flight']} requests in flight vs 1, stub sleeping "
        f"{r['stub_delay_sec'] * 1000:.0f} ms per request ({r['requests']} requests)",
        f"{r['concurrent_sec']:.2f} s vs {r['sequential_sec']:.2f} s: "
        f"**{r['speedup_concurrent_vs_sequential']:.1f}{X} faster**",
        "",
    ]


ROWS: tuple[tuple[str, Callable[[Result], list[str]]], ...] = (
    ("ingest_vs_whisper", _ingest),
    ("ingest_vs_whisper", _floor),
    ("memory_long_file", _memory),
    ("archive_items", _archive),
    ("ray_split", _ray_split),
    ("remote_overlap", _overlap),
    ("frames_on_off", _frames),
    ("frames_on_off", _frames_plain),
    ("ingest_vs_whisper", _speed),
    ("remote_concurrency", _concurrency),
)


def load(folder: Path = RESULTS) -> dict[str, Result]:
    names = {name for name, _ in ROWS}
    return {name: json.loads((folder / f"{name}.json").read_text()) for name in sorted(names)}


def load_sinks(folder: Path = RESULTS) -> Result:
    return json.loads((folder / "sinks.json").read_text())


def _count(n: float) -> str:
    return f"{round(n):,}".replace(",", "\N{NO-BREAK SPACE}")


def _store(r: Result) -> str:
    if r["sink"] == "milvus-server":
        found = re.search(r"\d+\.\d+\.\d+", r["server"])  # "Milvus v2.3.5-lite": 2.3.5
        version = found[0] if found else r["server"]
        return f"milvus (Milvus {version} server, {r['settings']['index_type']})"
    return {"jsonl": "jsonl (baseline)", "milvus": "milvus (Lite)"}.get(r["sink"], r["sink"])


def _sink_row(r: Result, targets: Result, baseline: str) -> list[str]:
    if "error" in r:
        return [_store(r), str(r["dim"]), f"failed: {r['error']}", "", "", "", ""]
    p50, p95 = r["search_p50_ms"], r["search_p95_ms"]
    if r["sink"] == baseline:
        upsert, search, verdict = "(skips ids it holds)", f"{p50 / 1000:.1f} s", ""
        search += f" ({r['queries']} quer{'y' if r['queries'] == 1 else 'ies'})"
    else:
        upsert = (
            f"{_count(r['upsert_rows_per_sec'])} · {_count(r['upsert_same_handle_rows_per_sec'])}"
        )
        search = f"{p50:.1f} / {p95:.1f} ms"
        fast = p50 < targets["search_p50_ms"]
        quick = r["upsert_rows_per_sec"] >= targets["upsert_rows_per_sec"]
        missed = [what for what, ok in (("search", fast), ("upsert", quick)) if not ok]
        verdict = ", ".join(f"{what} **missed**" for what in missed) or "met"
    return [
        _store(r),
        str(r["dim"]),
        _count(r["ingest_rows_per_sec"]),
        upsert,
        search,
        f"{r['recall_at_10']:.2f}",
        verdict,
    ]


def render_sinks(result: Result, baseline: str = "jsonl") -> str:
    """One row per store and dimension, in the order the run measured them."""
    targets = result["targets"]
    lines = [
        "| store | dims | ingest rows/s | upsert rows/s (next run · same handle) "
        "| search p50 / p95 | recall@10 | targets |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = sorted(result["results"], key=lambda r: r["dim"])
    lines += ["| " + " | ".join(_sink_row(r, targets, baseline)) + " |" for r in rows]
    lines += [
        "",
        f"Targets: search p50 under {targets['search_p50_ms']:g} ms, upserts of at least "
        f"{_count(targets['upsert_rows_per_sec'])} rows/s (the next run's). "
        f"{result['cores']} cores; load average {result['load_avg_1m_before']:g} at the start, "
        f"{result['load_avg_1m_after']:g} at the end. Command: "
        f"`.venv/bin/python {result['command']}`.",
    ]
    return "\n".join(lines)


def render(results: dict[str, Result]) -> str:
    lines = ["| what | figure | target | command |", "|---|---|---|---|"]
    for name, row in ROWS:
        r = results[name]
        lines.append("| " + " | ".join([*row(r), f"`.venv/bin/python {r['command']}`"]) + " |")
    loads = ", ".join(
        f"{name} {r['load_avg_1m_before']:g}"
        for name, r in results.items()
        if "load_avg_1m_before" in r
    )
    lines += ["", f"Load average (1 min) when each run started: {loads}."]
    return "\n".join(lines)


def _bounds(readme: str, begin: str, end: str) -> tuple[int, int]:
    try:
        start = readme.index(begin) + len(begin)
        return start, readme.index(end, start)
    except ValueError:
        raise SystemExit(f"{README}: the table markers {begin} … {end} are missing") from None


def table_in(readme: str, begin: str = BEGIN, end: str = END) -> str:
    """The rendered part of the README, between the markers."""
    start, stop = _bounds(readme, begin, end)
    return readme[start:stop].strip("\n")


def with_table(readme: str, table: str, begin: str = BEGIN, end: str = END) -> str:
    start, stop = _bounds(readme, begin, end)
    return f"{readme[:start]}\n{table}\n{readme[stop:]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the README differs")
    args = parser.parse_args()
    text = README.read_text(encoding="utf-8")
    tables = ((render(load()), BEGIN, END), (render_sinks(load_sinks()), SINKS_BEGIN, SINKS_END))
    if args.check:
        if any(table_in(text, begin, end) != table for table, begin, end in tables):
            raise SystemExit("README.md: a benchmark table differs from benchmarks/results")
        return
    for table, begin, end in tables:
        text = with_table(text, table, begin, end)
        print(table)
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
