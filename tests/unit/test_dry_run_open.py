"""How a dry run opens a sink: one it cannot ask, one holding nothing yet, one holding records."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fake_sinks import CountingSink, ModelSayingSink
from vtembed import dry_run
from vtembed.errors import UsageError
from vtembed.settings import Settings
from vtembed.sink import Sink
from vtembed.store import Store


class _Opened(CountingSink):
    """A third-party sink that cannot say which model its store holds."""

    scheme = "opened"
    counted = 7


_Asked = ModelSayingSink


def _open(cls: type[Sink], tmp_path: Path) -> Store:
    return dry_run.open_store(cls, str(tmp_path), model_name="m", dim=4, settings=Settings())


def test_a_sink_that_cannot_tell_is_opened_as_for_a_real_run(tmp_path: Path) -> None:
    store = _open(_Opened, tmp_path)
    assert type(store.sink) is _Opened and not store.manifest.writable
    assert not list(tmp_path.iterdir()), "a dry run created files"


def test_a_store_that_holds_nothing_is_planned_against_a_stand_in(tmp_path: Path) -> None:
    _Asked.held = None
    store = _open(_Asked, tmp_path)
    assert isinstance(store.sink, dry_run.NothingStored)
    assert store.sink.count("any") == 0 and store.describe() == f"asked:{tmp_path}"
    assert store.manifest.rows() == [] and store.manifest.path is None
    with pytest.raises(RuntimeError):
        store.sink.write([])


def test_a_store_that_holds_records_is_opened_as_for_a_real_run(tmp_path: Path) -> None:
    """Of its own model; of another it is refused, as in a real run (the integration test
    `test_a_dry_run_refuses_a_store_of_another_model` sees that on LanceDB)."""
    _Asked.held = ("m", 4)
    assert type(_open(_Asked, tmp_path).sink) is _Asked
    _Asked.held = ("other", 8)
    with pytest.raises(UsageError, match="holds other"):
        _open(_Asked, tmp_path)
