"""The README's benchmark table, rendered from benchmarks/results/*.json and nothing else, so the
figures people read are the figures a run wrote (tests/unit/test_readme_benchmarks.py fails when
they part ways). `make bench` rewrites the table after its runs.

    .venv/bin/python benchmarks/readme_table.py [--check]
"""

from __future__ import annotations

import argparse
import json
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
X = "\N{MULTIPLICATION SIGN}"  # "1.12" followed by it reads "1.12 times"
Result = dict[str, Any]


def _target(value: float, target: float) -> str:
    return f"≤ {target:g}{X}: {'met' if value <= target else '**missed**'}"


def _versus(a: str, b: str, ratio: float) -> str:
    return f"{a} vs {b}: **{ratio:.2f}{X}**"


def _ingest(r: Result) -> list[str]:
    ratio = r["ratio_ingest_to_floor"]
    return [
        f"`vtembed ingest` of {r['input_seconds'] / 60:g} min of speech vs bare faster-whisper "
        "(same model, compute type, threads, beam, VAD, word timestamps)",
        _versus(f"{r['ingest_sec']:.1f} s", f"{r['floor_sec']:.1f} s", ratio),
        _target(ratio, r["target_ratio"]),
    ]


def _memory(r: Result) -> list[str]:
    ratio = r["ratio_long_to_short"]
    long, short = r["long_peak_rss_mib"], r["short_peak_rss_mib"]
    return [
        f"peak RSS, {r['long_minutes']:g}-min file vs {r['short_minutes']:g}-min file "
        "(whole `vtembed ingest`)",
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


def _speed(r: Result) -> list[str]:
    return [
        f"speed of the whole ingest on {r['cores']} cores (tiny.en int8, beam 5, MiniLM)",
        f"{r['ingest_x_realtime']:.1f}{X} real time ({r['input_seconds'] / 60:g} min file; "
        f"bare faster-whisper {r['floor_x_realtime']:.1f}{X})",
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
    ("memory_long_file", _memory),
    ("remote_overlap", _overlap),
    ("ingest_vs_whisper", _speed),
    ("remote_concurrency", _concurrency),
)


def load(folder: Path = RESULTS) -> dict[str, Result]:
    names = {name for name, _ in ROWS}
    return {name: json.loads((folder / f"{name}.json").read_text()) for name in sorted(names)}


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


def _bounds(readme: str) -> tuple[int, int]:
    try:
        start = readme.index(BEGIN) + len(BEGIN)
        return start, readme.index(END, start)
    except ValueError:
        raise SystemExit(f"{README}: the benchmark table markers are missing") from None


def table_in(readme: str) -> str:
    """The rendered part of the README, between the markers."""
    start, end = _bounds(readme)
    return readme[start:end].strip("\n")


def with_table(readme: str, table: str) -> str:
    start, end = _bounds(readme)
    return f"{readme[:start]}\n{table}\n{readme[end:]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the README differs")
    args = parser.parse_args()
    text = README.read_text(encoding="utf-8")
    table = render(load())
    if args.check:
        if table_in(text) != table:
            raise SystemExit("README.md: the benchmark table differs from benchmarks/results")
        return
    README.write_text(with_table(text, table), encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
