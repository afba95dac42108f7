"""The resume manifest: read-only for a dry run, and a file it cannot read is a usage error."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from vtembed.dry_run import NothingStored
from vtembed.errors import UsageError
from vtembed.manifest import Manifest
from vtembed.models import MediaItem

ITEM = MediaItem("id1", "file:///a.wav", "a", "local", fingerprint="size:1", origin="/archive")


def test_read_only_reads_what_is_there_and_records_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    state = Manifest(path, "m")
    state.mark_done(ITEM, 0)
    state.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    reading = Manifest(path, "m", writable=False)
    assert [row.media_id for row in reading.rows()] == ["id1"]
    reading.mark_failed(ITEM, "broken")
    moved = dataclasses.replace(ITEM, origin="/moved")  # a real run would note the new origin
    assert reading.is_done(moved, NothingStored("jsonl", "x", model_name="m", dim=4))
    assert [row.status for row in reading.rows()] == ["done"]
    reading.close()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("content", [None, b""])
def test_a_missing_or_empty_file_is_an_empty_manifest(
    tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "s.sqlite"
    if content is not None:
        path.write_bytes(content)
    state = Manifest(path, "m", writable=False)
    assert state.rows() == []
    state.mark_done(ITEM, 3)
    assert state.rows() == []
    state.close()
    assert path.exists() == (content is not None) and (content is None or path.read_bytes() == b"")


@pytest.mark.parametrize("writable", [True, False])
def test_a_file_that_is_not_a_manifest_is_a_usage_error(tmp_path: Path, writable: bool) -> None:
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"garbage " * 100)
    with pytest.raises(UsageError, match=r"resume state .*s\.sqlite cannot be read"):
        Manifest(path, "m", writable=writable)
