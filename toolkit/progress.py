"""What a person sees while a run works: a rich display on a terminal, log lines elsewhere.

Stages report through this one interface, so no stage knows whether anyone is watching.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class Reporter(Protocol):
    def start(self, total_items: int) -> None: ...
    def item_start(self, label: str, duration_sec: float) -> None: ...
    def item_progress(self, label: str, done_sec: float) -> None: ...
    def item_end(self, label: str) -> None: ...
    def error(self, label: str, message: str) -> None: ...
    def warn(self, label: str, message: str) -> None: ...
    def info(self, message: str) -> None: ...
    def finish(self) -> None: ...


class LogReporter:
    """The Python API's default: events go to the `vtembed` logger, so a program that calls
    `vtembed.ingest` decides (by configuring logging) whether anyone sees them."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.log = logger or logging.getLogger("vtembed")

    def start(self, total_items: int) -> None:
        self.log.info("%d items to do", total_items)

    def item_start(self, label: str, duration_sec: float) -> None:
        self.log.info("%s (%.0f s of media)", label, duration_sec)

    def item_progress(self, label: str, done_sec: float) -> None:
        pass

    def item_end(self, label: str) -> None:
        self.log.debug("%s: done", label)

    def error(self, label: str, message: str) -> None:
        self.log.error("%s: %s", label, message)

    def warn(self, label: str, message: str) -> None:
        self.log.warning("%s: %s", label, message)

    def info(self, message: str) -> None:
        self.log.info("%s", message)

    def finish(self) -> None:
        pass


class PlainReporter:
    """One line per event on stderr: readable in logs, CI and pipes."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.total = 0
        self.started = 0
        self._last = 0.0

    def start(self, total_items: int) -> None:
        self.total = total_items
        self._last = time.monotonic()  # a heartbeat every 10 s: short items print none

    def item_start(self, label: str, duration_sec: float) -> None:
        self.started += 1
        self._say(f"[{self.started}/{self.total}] {label} ({duration_sec:.0f} s of media)")

    def item_progress(self, label: str, done_sec: float) -> None:
        if time.monotonic() - self._last > 10:
            self._last = time.monotonic()
            self._say(f"    {label}: transcribed up to {done_sec:.0f} s")

    def item_end(self, label: str) -> None:
        pass

    def error(self, label: str, message: str) -> None:
        print(f"error: {label}: {message}", file=sys.stderr, flush=True)

    def warn(self, label: str, message: str) -> None:
        print(f"warning: {label}: {message}", file=sys.stderr, flush=True)

    def info(self, message: str) -> None:
        self._say(message)

    def finish(self) -> None:
        pass

    def _say(self, line: str) -> None:
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)


class RichReporter:
    """An overall bar (items) and a bar per item in progress (seconds of media transcribed); with
    stages overlapped, one item may still be embedding while the next is transcribed."""

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.overall: TaskID | None = None
        self.items: dict[str, TaskID] = {}

    def start(self, total_items: int) -> None:
        self.progress.start()
        self.overall = self.progress.add_task("items", total=total_items)

    def item_start(self, label: str, duration_sec: float) -> None:
        name = label if len(label) < 50 else "…" + label[-49:]
        self.items[label] = self.progress.add_task(f"  {name} (s)", total=max(duration_sec, 1))

    def item_progress(self, label: str, done_sec: float) -> None:
        if label in self.items:
            self.progress.update(self.items[label], completed=done_sec)

    def item_end(self, label: str) -> None:
        if label in self.items:
            self.progress.remove_task(self.items.pop(label))
        if self.overall is not None:
            self.progress.advance(self.overall)

    def error(self, label: str, message: str) -> None:
        self.console.print(f"[red]error[/red]: {label}: {message}", markup=True, highlight=False)

    def warn(self, label: str, message: str) -> None:
        self.console.print(f"[yellow]warning[/yellow]: {label}: {message}", highlight=False)

    def info(self, message: str) -> None:
        self.console.print(message, highlight=False, markup=False)

    def finish(self) -> None:
        self.progress.stop()


def make_reporter(mode: str) -> Reporter:
    if mode == "rich" or (mode == "auto" and sys.stderr.isatty()):
        return RichReporter()
    return PlainReporter(quiet=mode == "none")
