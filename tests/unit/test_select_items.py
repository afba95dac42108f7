"""--limit and --since, applied to what sources found."""

from __future__ import annotations

import pytest

from vtembed.discovery import parse_since, select
from vtembed.errors import UsageError
from vtembed.models import MediaItem


def item(name: str, published: str | None) -> MediaItem:
    return MediaItem(
        id=name, uri=f"https://x/{name}.mp3", title=name, source="s", published=published
    )


ITEMS = [
    item("old", "2024-01-05T10:00:00+00:00"),
    item("undated", None),
    item("new", "2026-03-01T08:00:00Z"),
    item("mid", "2025-06-01T00:00:00+00:00"),
]


def test_limit_keeps_the_newest_dated_items_first() -> None:
    assert [i.id for i in select(ITEMS, 2, None)] == ["new", "mid"]
    assert [i.id for i in select(ITEMS, 10, None)] == ["new", "mid", "old", "undated"]


def test_since_drops_older_dated_items_and_keeps_undated() -> None:
    since = parse_since("2025-01-01")
    assert [i.id for i in select(ITEMS, 0, since)] == ["undated", "new", "mid"]


def test_no_limit_no_since_keeps_source_order() -> None:
    assert select(ITEMS, 0, None) == ITEMS


def test_bad_since_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not a date"):
        parse_since("last tuesday")
