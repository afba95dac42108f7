"""The rules every source keeps: it names itself and its priority, `accepts` answers from the
locator alone (no network: it is asked of every source, for every locator, before any work), and
discovering a locator twice finds the same items with the same ids."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from vtembed.models import MediaItem
from vtembed.settings import Settings
from vtembed.source import Failed, Skipped, Source
from vtembed.testing.rules import Broken, NotChecked, Report, expect

PROBES = ("talk.mp4", "/no/such/folder/", "https://example.com/feed", "https://example.com/a.mp3")


def check_source(
    source_cls: type[Source], settings: Settings, locator: str | None = None
) -> Report:
    """`locator`: something this source finds media in here (a folder, a feed URL on loopback);
    without one the discovery rules are not checked."""
    report = Report(f"source {getattr(source_cls, 'name', source_cls.__qualname__)}")
    report.run("it declares a name and an integer priority", lambda: _declares(source_cls))
    report.run("accepts answers without the network", lambda: _offline_accepts(source_cls))
    report.run(
        "discovering twice finds the same items, ids and all",
        lambda: _stable(source_cls, settings, locator),
    )
    return report


def _declares(source_cls: type[Source]) -> None:
    expect(bool(getattr(source_cls, "name", None)), "the class has no name")
    expect(isinstance(getattr(source_cls, "priority", None), int), "priority is not an int")


@contextmanager
def _no_network() -> Iterator[None]:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise Broken("accepts opened a network connection")

    original = socket.socket.connect
    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]


def _offline_accepts(source_cls: type[Source]) -> None:
    with _no_network():
        for probe in PROBES:
            answer = source_cls.accepts(probe)
            expect(isinstance(answer, bool), f"accepts({probe!r}) returned {answer!r}, not a bool")


def _stable(source_cls: type[Source], settings: Settings, locator: str | None) -> None:
    if locator is None:
        raise NotChecked("give a locator this source finds media in")
    expect(source_cls.accepts(locator), f"accepts({locator!r}) is False")
    first, second = _ids(source_cls(settings), locator), _ids(source_cls(settings), locator)
    expect(bool(first), f"discover({locator!r}) found no media item")
    expect(first == second, f"two discoveries of {locator!r} found different ids")


def _ids(source: Source, locator: str) -> list[str]:
    ids = []
    for entry in source.discover(locator):
        if isinstance(entry, MediaItem):
            ids.append(entry.id)
        elif not isinstance(entry, Skipped | Failed):
            raise Broken(f"discover yielded {type(entry).__name__}, not MediaItem/Skipped/Failed")
    return ids
