"""How a dry run opens a sink: one it cannot ask, one holding nothing yet, one holding records."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from vtembed import dry_run
from vtembed.models import EmbeddingRecord
from vtembed.settings import Settings
from vtembed.sink import Sink


class _Opened(Sink):
    """A third-party sink that cannot say which model its store holds."""

    scheme = "opened"

    @property
    def state_path(self) -> Path:
        return Path(self.target) / "state.sqlite"

    def write(self, records: Sequence[EmbeddingRecord]) -> int:
        return 0

    def delete_media(self, media_id: str) -> int:
        return 0

    def count(self, media_id: str) -> int:
        return 7


class _Asked(_Opened):
    scheme = "asked"
    capabilities = frozenset({"stored_model"})
    held: ClassVar[tuple[str, int] | None] = None

    @classmethod
    def stored_model(cls, target: str, settings: Settings | None = None) -> tuple[str, int] | None:
        return cls.held


def _open(cls: type[Sink], tmp_path: Path) -> Sink:
    return dry_run.open_sink(cls, str(tmp_path), model_name="m", dim=4, settings=Settings())


def test_a_sink_that_cannot_tell_is_opened_as_for_a_real_run(tmp_path: Path) -> None:
    assert type(_open(_Opened, tmp_path)) is _Opened


def test_a_store_that_holds_nothing_is_planned_against_a_stand_in(tmp_path: Path) -> None:
    _Asked.held = None
    sink = _open(_Asked, tmp_path)
    assert isinstance(sink, dry_run.NothingStored)
    assert sink.count("any") == 0 and sink.describe() == f"asked:{tmp_path}"
    state = dry_run.read_state(sink, "m")
    assert state.rows() == [] and state.path is None
    with pytest.raises(RuntimeError):
        sink.write([])


def test_a_store_that_holds_records_is_opened_as_for_a_real_run(tmp_path: Path) -> None:
    """Of any model: the sink itself refuses another one as it opens (the integration test
    `test_a_dry_run_refuses_a_store_of_another_model` sees that on LanceDB)."""
    for held in [("m", 4), ("other", 8)]:
        _Asked.held = held
        assert type(_open(_Asked, tmp_path)) is _Asked
