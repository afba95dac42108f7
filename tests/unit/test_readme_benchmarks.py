"""The README's benchmark table says what benchmarks/results/*.json say, figure for figure."""

from __future__ import annotations

import copy

from benchmarks import readme_table


def test_readme_table_matches_the_result_files() -> None:
    readme = readme_table.README.read_text(encoding="utf-8")
    expected = readme_table.render(readme_table.load())
    assert readme_table.table_in(readme) == expected, (
        "README.md's benchmark table is stale: run .venv/bin/python benchmarks/readme_table.py"
    )


def _ingest_row(ratio: float) -> str:
    results = copy.deepcopy(readme_table.load())
    results["ingest_vs_whisper"]["ratio_ingest_to_plain"] = ratio
    table = readme_table.render(results)
    return next(line for line in table.splitlines() if "a user would write (`" in line)


def test_the_row_follows_the_figure_and_its_target() -> None:
    target = readme_table.load()["ingest_vs_whisper"]["target_ratio"]
    over, under = _ingest_row(target + 0.5), _ingest_row(target - 0.01)
    assert f"**{target + 0.5:.2f}\N{MULTIPLICATION SIGN}**" in over
    assert "**missed**" in over
    assert "met" in under
    assert "missed" not in under


def test_rewriting_touches_only_the_table() -> None:
    results = copy.deepcopy(readme_table.load())
    results["memory_long_file"]["long_peak_rss_mib"] += 100
    table = readme_table.render(results)
    readme = readme_table.README.read_text(encoding="utf-8")
    rewritten = readme_table.with_table(readme, table)
    assert readme_table.table_in(rewritten) == table
    assert rewritten.replace(table, "") == readme.replace(readme_table.table_in(readme), "")


def test_every_row_shows_the_command_that_produced_it() -> None:
    results = readme_table.load()
    table = readme_table.render(results)
    for r in results.values():
        assert f"`.venv/bin/python {r['command']}`" in table


def test_readme_sink_table_matches_its_result_file() -> None:
    readme = readme_table.README.read_text(encoding="utf-8")
    expected = readme_table.render_sinks(readme_table.load_sinks())
    in_readme = readme_table.table_in(readme, readme_table.SINKS_BEGIN, readme_table.SINKS_END)
    assert in_readme == expected, (
        "README.md's sink table is stale: run .venv/bin/python benchmarks/readme_table.py"
    )


def _sink_row(p50: float, upsert: float) -> str:
    result = copy.deepcopy(readme_table.load_sinks())
    row = next(r for r in result["results"] if r["sink"] == "lancedb")
    row.update(search_p50_ms=p50, upsert_rows_per_sec=upsert)
    result["results"] = [row]
    return readme_table.render_sinks(result).splitlines()[2]


def test_a_sink_row_says_which_target_it_missed() -> None:
    targets = readme_table.load_sinks()["targets"]
    p50, upsert = targets["search_p50_ms"], targets["upsert_rows_per_sec"]
    assert _sink_row(p50 - 1, upsert).endswith("| met |")
    assert _sink_row(p50, upsert).endswith("| search **missed** |")
    assert _sink_row(p50 - 1, upsert - 1).endswith("| upsert **missed** |")
    assert "search **missed**, upsert **missed**" in _sink_row(p50 + 5, upsert - 1)
