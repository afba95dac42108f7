"""Which source walks a locator: the accepting ones are asked by priority, from the string alone
(no network), and the first whose `discover` does not raise `Decline` takes it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from vtembed.discovery import discover
from vtembed.errors import UsageError
from vtembed.models import MediaItem, stable_id
from vtembed.plugin_manager import build_manager
from vtembed.registry import Registry, build_registry
from vtembed.settings import load_settings
from vtembed.source import Decline, Failed, Found, Source

SETTINGS = load_settings()


class Feedish(Source):
    """Takes toy:// locators that end in "feed" (it can tell only by looking), declines others."""

    name = "feedish"
    priority = 20
    late: ClassVar[bool] = False

    @classmethod
    def accepts(cls, locator: str) -> bool:
        return locator.startswith("toy://")

    def discover(self, locator: str) -> Iterator[Found]:
        if self.late:
            yield item(locator + "#1", self.name)
        if not locator.endswith("feed"):
            raise Decline("not a feed")
        yield item(locator + "#ep", self.name)

    def open(self, item: MediaItem) -> Path:
        raise NotImplementedError


class Plain(Feedish):
    name = "plain"
    priority = 10

    def discover(self, locator: str) -> Iterator[Found]:
        yield item(locator, self.name)


class Picky(Plain):
    name = "picky"

    def discover(self, locator: str) -> Iterator[Found]:
        raise Decline()
        yield  # a generator, like every discover


def item(uri: str, source: str) -> MediaItem:
    return MediaItem(stable_id("toy", uri), uri, uri, source)


@pytest.fixture
def registry() -> Iterator[Registry]:
    Feedish.late = False
    yield Registry(sources={"feedish": Feedish, "plain": Plain})


def test_a_declining_source_hands_the_locator_to_the_next(registry: Registry) -> None:
    assert registry.sources_for("toy://a") == (Feedish, Plain)
    assert registry.source_for("toy://a") is Feedish
    found = discover(["toy://show/feed", "toy://talk"], registry, SETTINGS)
    assert [(i.uri, i.source) for i in found.items] == [
        ("toy://show/feed#ep", "feedish"),
        ("toy://talk", "plain"),
    ]
    assert found.failed == [] and set(found.sources) == {"feedish", "plain"}
    found.close()


def test_when_every_source_declines_it_is_one_failure() -> None:
    registry = Registry(sources={"feedish": Feedish, "picky": Picky})
    found = discover(["toy://talk"], registry, SETTINGS)
    assert found.items == []
    assert found.failed == [
        Failed("toy://talk", "every source that accepts it declined (feedish: not a feed; picky)")
    ]


def test_declining_after_finding_media_is_a_failure_and_keeps_what_was_found(
    registry: Registry,
) -> None:
    Feedish.late = True
    found = discover(["toy://talk"], registry, SETTINGS)
    assert [i.uri for i in found.items] == ["toy://talk#1"]
    assert found.failed == [Failed("toy://talk", "source feedish declined after finding media")]


def test_equal_priorities_anywhere_in_the_order_are_an_error_at_start(
    registry: Registry,
) -> None:
    registry.sources["picky"] = Picky  # priority 10, as `plain`: below a source that may decline
    with pytest.raises(UsageError, match="sources plain, picky all accept it with the same"):
        registry.sources_for("toy://a")


def test_builtin_sources_accept_without_network(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("accepts() touched the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    (tmp_path / "talk.mp4").write_bytes(b"")
    (tmp_path / "saved-feed.txt").write_bytes(b"<rss/>")
    registry = build_registry(build_manager())
    expected = {
        "http://example.org/show/feed.xml": "podcast",
        "https://example.org/shows/42": "podcast",  # asked first; may decline in discover
        "https://example.org/talk.mp4": "url",
        "ftp://example.org/talk.mp4": "url",
        str(tmp_path / "saved-feed.txt"): "podcast",
        str(tmp_path / "talk.mp4"): "local",
        str(tmp_path): "local",
    }
    assert {loc: registry.source_for(loc).name for loc in expected} == expected
    order = [cls.name for cls in registry.sources_for("https://example.org/shows/42")]
    assert order[0] == "podcast" and order[-1] == "url"
