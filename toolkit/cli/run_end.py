"""How a run that writes records ends, for `ingest` and `reembed` alike: the summary lines, the
dry run's cost line, `--summary-json`, and the exit code they add up to."""

from __future__ import annotations

from pathlib import Path

import typer

from vtembed.errors import UsageError
from vtembed.progress import Reporter
from vtembed.summary import RunSummary


def check_summary_path(summary_json: Path | None) -> None:
    """Before any work: a summary that could not be written would lose the run's account."""
    from vtembed.paths import output_file_problem

    if summary_json is not None and (problem := output_file_problem(summary_json)):
        raise UsageError(f"--summary-json {summary_json}: {problem}")


def end_run(reporter: Reporter, summary: RunSummary, summary_json: Path | None) -> None:
    for line in summary.lines(summary.sink, summary.dry_run):
        reporter.info(line)
    if summary.dry_run:
        reporter.info(summary.dry_run_line())
    code = summary.exit_code
    if summary_json:
        try:
            summary.write_json(summary_json)
        except OSError as exc:
            reporter.error(f"--summary-json {summary_json}", exc.strerror or str(exc))
            code = code or 1
    raise typer.Exit(code)
