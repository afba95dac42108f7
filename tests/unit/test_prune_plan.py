"""What prune counts as covered and gone, and the state it reads (origin column, old files)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from vtembed.discovery import discover, origin_of
from vtembed.manifest import Manifest, ManifestRow
from vtembed.models import MediaItem, stable_id
from vtembed.plugins.sinks.jsonl import JsonlSink
from vtembed.plugins.sources.local import LocalSource
from vtembed.prune_plan import Look, Scope, look, plan
from vtembed.registry import Registry
from vtembed.settings import load_settings
from vtembed.source import Failed, Found, Source

FEED = "toy://radio/feed"


class ToyFeed(Source):
    """A feed whose answer each test sets: its episodes, or why it cannot be read."""

    name = "toyfeed"
    episodes: ClassVar[list[str]] = []
    broken: ClassVar[str] = ""
    gone: ClassVar[bool] = False

    @classmethod
    def accepts(cls, locator: str) -> bool:
        return locator.startswith("toy://")

    def discover(self, locator: str) -> Iterator[Found]:
        if self.broken:
            yield Failed(locator, self.broken, gone=self.gone)
            return
        for name in self.episodes:
            yield episode(name)

    def open(self, item: MediaItem) -> Path:
        raise NotImplementedError


def episode(name: str) -> MediaItem:
    return MediaItem(stable_id("ep", name), f"https://cdn.example/{name}.mp3", name, "toyfeed")


@pytest.fixture
def registry() -> Iterator[Registry]:
    ToyFeed.episodes, ToyFeed.broken, ToyFeed.gone = [], "", False
    yield Registry(sources={"local": LocalSource, "toyfeed": ToyFeed})


SETTINGS = load_settings()


def file_row(path: Path, origin: str = "") -> ManifestRow:
    uri = path.as_uri()
    return ManifestRow(stable_id("file", uri), uri, origin, "done", 2)


def feed_row(name: str, origin: str = FEED) -> ManifestRow:
    item = episode(name)
    return ManifestRow(item.id, item.uri, origin, "done", 2)


def test_a_folder_covers_what_lies_under_it_even_when_it_is_gone(tmp_path: Path) -> None:
    media = tmp_path / "media"
    inside, deeper = file_row(media / "a.wav"), file_row(media / "sub" / "b.wav")
    sibling = file_row(tmp_path / "media2" / "c.wav")
    scope = Scope.of(str(media))
    assert scope.covers(inside) and scope.covers(deeper) and not scope.covers(sibling)
    assert Scope.of(str(media / "a.wav")).covers(inside)
    assert Scope.of((media / "a.wav").as_uri()).covers(inside)
    assert not Scope.of(str(media / "a.wav")).covers(deeper)
    assert not scope.covers(feed_row("ep1", origin=""))


def test_a_relative_locator_is_the_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert origin_of("media") == str(tmp_path.resolve() / "media")
    assert Scope.of("media").covers(file_row(tmp_path.resolve() / "media" / "a.wav"))
    assert origin_of(FEED) == FEED


def test_a_glob_covers_its_matches_only(tmp_path: Path) -> None:
    scope = Scope.of(str(tmp_path / "*.wav"))
    assert scope.covers(file_row(tmp_path / "a.wav"))
    assert not scope.covers(file_row(tmp_path / "a.mp4"))
    assert not scope.covers(file_row(tmp_path / "sub" / "b.wav"))
    # A row that recorded the glob as its origin is covered by it whatever it matched.
    assert scope.covers(file_row(tmp_path / "x" / "y.mp4", origin=str(tmp_path / "*.wav")))


def test_a_url_covers_its_item_and_a_feed_the_episodes_it_found() -> None:
    url = "https://example.com/talk.mp3"
    talk = ManifestRow(stable_id("url", url), url, url, "done", 3)
    assert Scope.of(url).covers(talk)
    assert not Scope.of("https://example.com/other.mp3").covers(talk)
    assert Scope.of(FEED).covers(feed_row("ep1"))
    assert not Scope.of("toy://other/feed").covers(feed_row("ep1"))


def test_items_found_now_stay_and_the_rest_are_gone(registry: Registry) -> None:
    ToyFeed.episodes = ["ep1", "ep3"]
    rows = [feed_row("ep1"), feed_row("ep2"), feed_row("ep3")]
    checked = look(FEED, rows, registry, SETTINGS)
    assert not checked.failed and len(checked.covered) == 3
    assert [row.uri for row in plan([checked]).gone] == ["https://cdn.example/ep2.mp3"]


def test_a_feed_that_cannot_be_read_keeps_everything(registry: Registry) -> None:
    ToyFeed.broken = "cannot read the feed: HTTP 503 Service Unavailable"
    rows = [feed_row("ep1"), feed_row("ep2")]
    checked = look(FEED, rows, registry, SETTINGS)
    assert checked.failed == ToyFeed.broken
    # Another locator that covers the same episode does not override the failed one.
    url = Look("https://cdn.example/ep2.mp3", [rows[1]])
    result = plan([checked, url])
    assert result.gone == [] and result.failed == [checked]


def test_a_locator_its_source_says_is_gone_takes_what_it_covers(registry: Registry) -> None:
    ToyFeed.broken, ToyFeed.gone = "HTTP 410 Gone", True
    rows = [feed_row("ep1"), feed_row("ep2")]
    checked = look(FEED, rows, registry, SETTINGS)
    assert checked.gone == "HTTP 410 Gone" and not checked.failed
    assert plan([checked]).gone == sorted(rows, key=lambda row: row.uri)
    # Another locator that finds an episode keeps it.
    found = Look("https://cdn.example/ep1.mp3", [rows[0]], present={rows[0].media_id})
    assert plan([checked, found]).gone == [rows[1]]


def test_local_files_are_gone_only_when_missing(tmp_path: Path, registry: Registry) -> None:
    media = tmp_path / "media"
    media.mkdir()
    (media / "kept.wav").write_bytes(b"x")
    (media / "named alone.dat").write_bytes(b"x")  # a walk would skip it: not a media extension
    rows = [file_row(media / n) for n in ("kept.wav", "named alone.dat", "deleted.wav")]
    checked = look(str(media), rows, registry, SETTINGS)
    assert not checked.gone and not checked.problems
    assert [Path(row.label).name for row in plan([checked]).gone] == ["deleted.wav"]


def test_a_missing_folder_is_everything_under_it_gone(tmp_path: Path, registry: Registry) -> None:
    gone = tmp_path / "unmounted"
    rows = [file_row(gone / "a.wav"), file_row(gone / "b" / "c.wav"), file_row(tmp_path / "x.wav")]
    checked = look(str(gone), rows, registry, SETTINGS)
    assert checked.gone == "does not exist" and len(checked.covered) == 2
    assert plan([checked]).gone == rows[:2]
    nothing = look(str(tmp_path / "never"), rows, registry, SETTINGS)
    assert nothing.covered == [] and plan([nothing]).gone == []


def test_a_file_that_cannot_be_checked_is_kept(tmp_path: Path, registry: Registry) -> None:
    row = file_row(tmp_path / ("n" * 300 + ".wav"))  # stat fails: the name is too long
    checked = look(str(tmp_path), [row], registry, SETTINGS)
    assert plan([checked]).gone == []
    assert checked.problems and "cannot tell whether it is gone" in checked.problems[0][1]


def test_discovery_records_the_locator_as_origin(tmp_path: Path, registry: Registry) -> None:
    (tmp_path / "a.wav").write_bytes(b"x")
    ToyFeed.episodes = ["ep1"]
    found = discover([str(tmp_path), FEED], registry, SETTINGS)
    assert [item.origin for item in found.items] == [str(tmp_path.resolve()), FEED]


def _state(path: Path) -> Manifest:
    return Manifest(path, "m")


def test_state_keeps_origin_lists_rows_and_forgets(tmp_path: Path) -> None:
    state = _state(tmp_path / "s.sqlite")
    state.mark_done(MediaItem("a", "file:///a.wav", "a", "local", "1", origin="/"), 4)
    state.mark_failed(MediaItem("b", "https://x/b.mp3", "b", "url", origin=FEED), "HTTP 500")
    assert state.rows() == [
        ManifestRow("a", "file:///a.wav", "/", "done", 4),
        ManifestRow("b", "https://x/b.mp3", FEED, "failed", 0),
    ]
    state.forget("a")
    assert [row.media_id for row in state.rows()] == ["b"]
    assert Manifest(tmp_path / "s.sqlite", "other").rows() == []
    state.close()


def test_a_state_file_from_before_origin_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE items (media_id TEXT NOT NULL, model_name TEXT NOT NULL, fingerprint TEXT"
        " NOT NULL, uri TEXT NOT NULL, status TEXT NOT NULL, records INTEGER NOT NULL DEFAULT 0,"
        " error TEXT, updated_at REAL NOT NULL, PRIMARY KEY (media_id, model_name))"
    )
    db.execute("INSERT INTO items VALUES ('a', 'm', '1', 'file:///a.wav', 'done', 0, NULL, 0)")
    db.commit()
    db.close()
    state = _state(path)
    assert state.rows() == [ManifestRow("a", "file:///a.wav", "", "done", 0)]
    # A rerun that finds the item again teaches the row its origin, done or not.
    sink = JsonlSink(str(tmp_path / "e.jsonl"), model_name="m", dim=2)
    item = MediaItem("a", "file:///a.wav", "a", "local", "1", origin="/media")
    assert state.is_done(item, sink)
    assert state.rows()[0].origin == "/media"
    state.mark_done(MediaItem("b", "file:///b.wav", "b", "local", "1", origin="/media"), 0)
    state.close()
    sink.close()
    again = _state(path)  # opening a migrated file twice is fine
    assert [row.origin for row in again.rows()] == ["/media", "/media"]
    again.close()
