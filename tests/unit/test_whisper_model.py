"""Finding the Whisper model before any work: a directory, a name in the Hugging Face cache, or
the bundled tiny.en; anything else is one usage error that says what to set."""

from __future__ import annotations

import re
from pathlib import Path

import huggingface_hub.constants
import pytest

from vtembed.errors import UsageError
from vtembed.settings import WhisperSettings
from vtembed.whisper_model import bundled_model_dir, model_dir

MODEL_FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")


def _bundled() -> Path:
    found = bundled_model_dir()
    assert found is not None, "the bundled tiny.en is missing: run `make test`"
    return found


def test_empty_means_the_bundled_model() -> None:
    assert model_dir(WhisperSettings()) == _bundled()


def test_a_model_directory_is_taken_as_it_is() -> None:
    assert model_dir(WhisperSettings(model=str(_bundled()))) == _bundled()


def test_a_directory_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no model\.bin in that directory"):
        model_dir(WhisperSettings(model=str(tmp_path)))


@pytest.mark.parametrize("name", ["./no/such/dir", "base.en", "no-such-size"])
def test_a_missing_path_or_an_uncached_name_is_refused(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(UsageError, match=re.escape(f"whisper.model {name}: no such directory")):
        model_dir(WhisperSettings(model=name))


def test_a_name_in_the_hugging_face_cache_is_found_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache laid out as huggingface_hub writes it (refs/main naming a snapshot), holding
    the bundled model's files under the name faster-whisper maps `tiny.en` to."""
    repo = tmp_path / "hub" / "models--Systran--faster-whisper-tiny.en"
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    for name in MODEL_FILES:
        if (_bundled() / name).exists():
            (snapshot / name).symlink_to(_bundled() / name)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    assert model_dir(WhisperSettings(model="tiny.en")) == snapshot
