"""`output_file_problem` says, before a run, why a file such as `--summary-json PATH` could not
be written at its end, and leaves nothing behind when it asks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vtembed.paths import output_file_problem


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_new_file_in_folders_yet_to_be_made_is_fine_and_nothing_is_made(tmp_path: Path) -> None:
    assert output_file_problem(tmp_path / "out" / "runs" / "summary.json") is None
    assert _tree(tmp_path) == []


def test_an_existing_file_is_fine_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text("{}\n")
    os.utime(path, (1_000_000, 1_000_000))
    assert output_file_problem(path) is None
    assert path.read_text() == "{}\n" and path.stat().st_mtime == 1_000_000


def test_a_folder_at_the_path(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    assert output_file_problem(tmp_path / "runs") == f"{tmp_path}/runs is a folder, not a file"


@pytest.mark.parametrize("below", ["summary.json", "deeper/summary.json"])
def test_a_file_where_a_folder_must_be(below: str, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    problem = output_file_problem(tmp_path / "afile" / below)
    assert problem == f"{tmp_path}/afile is a file, not a folder"
    assert _tree(tmp_path) == ["afile"]


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process really cannot create files in: a read-only one, or (as root, who
    ignores permission bits) a pseudo-filesystem that refuses new files."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    for folder in (locked, Path("/sys"), Path("/proc")):
        probe = folder / ".vtembed-probe"
        try:
            os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except OSError:
            return folder
        probe.unlink()
    pytest.skip("no folder here refuses new files")


def test_a_folder_that_is_not_writable(tmp_path: Path) -> None:
    folder = _unwritable_folder(tmp_path)
    try:
        problem = output_file_problem(folder / "new" / "summary.json")
        assert problem is not None and problem.startswith(f"{folder} is not writable (")
    finally:
        (tmp_path / "locked").chmod(0o700)
    assert not (folder / "new").exists()


def test_an_existing_file_that_cannot_be_opened_for_writing(tmp_path: Path) -> None:
    """A named pipe with no reader refuses a writer, even root; asking must not hang."""
    pipe = tmp_path / "summary.json"
    os.mkfifo(pipe)
    assert output_file_problem(pipe) == f"{pipe} cannot be written (No such device or address)"


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "taken").write_text("")
    assert output_file_problem(Path("~/taken/summary.json")) == (
        f"{tmp_path}/taken is a file, not a folder"
    )
