"""Every mistake a run depends on is found before the first item: one line, exit 2, nothing
created (no store, no state, no summary), no item started."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEDIA = str(ROOT / "examples" / "media")


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "folder").mkdir()
    return tmp_path


CASES = {
    "malformed toml": (
        {"bad.toml": "[whisper]\nbeam_size = \n"},
        ["--config", "{w}/bad.toml"],
        {},
        "bad.toml",
    ),
    "unknown section": (
        {"typo.toml": "[whisperr]\nbeam_size = 3\n"},
        ["--config", "{w}/typo.toml"],
        {},
        "[whisper]",
    ),
    "unknown key": (
        {"typo.toml": "[whisper]\nbeam_sise = 3\n"},
        ["--config", "{w}/typo.toml"],
        {},
        "whisper.beam_size",
    ),
    "unknown variable": ({}, [], {"VTEMBED_WHISPER__BEAM_SISE": "3"}, "BEAM_SIZE"),
    "a folder for a file store": ({}, ["--sink", "jsonl:{w}/folder"], {}, "folder"),
    "a store's own sidecar": (
        {},
        ["--sink", "jsonl:{w}/folder/x.jsonl.state.sqlite"],
        {},
        "x.jsonl",
    ),
    "summary that cannot be written": (
        {"afile": "not a folder"},
        ["--summary-json", "{w}/afile/summary.json"],
        {},
        "--summary-json",
    ),
    "out of range": ({}, [], {"VTEMBED_WHISPER__BEAM_SIZE": "0"}, "beam_size"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_mistake_is_one_line_exit_2_nothing_created(case: str, work: Path, vtembed) -> None:
    files, flags, env, named = CASES[case]
    for name, text in files.items():
        (work / name).write_text(text)
    before = _files(work)
    args = [arg.replace("{w}", str(work)) for arg in flags]
    root = args[:2] if args[:1] == ["--config"] else []  # an option of vtembed, not of ingest
    args = args[len(root) :]
    if "--sink" not in args:
        args += ["--sink", f"jsonl:{work}/out/e.jsonl"]
    run = vtembed(*root, "ingest", MEDIA, *args, env=env)
    assert run.code == 2, run.text
    line = _one_error_line(run.err)
    assert named in line, line
    assert run.out == ""
    assert _files(work) == before, "nothing is created"
    assert run.summary == {}
