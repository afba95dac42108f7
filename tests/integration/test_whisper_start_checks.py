"""What the Whisper settings can get wrong is said at start, in one line, before any item: a GPU
that is not there, a language the model cannot do, an unknown device."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEDIA = str(ROOT / "examples" / "media")

CASES = {
    "cuda without a GPU": ({"VTEMBED_WHISPER__DEVICE": "cuda"}, "sees no CUDA GPU"),
    "spanish for tiny.en": ({"VTEMBED_WHISPER__LANGUAGE": "es"}, "English only"),
    "an unknown device": ({"VTEMBED_WHISPER__DEVICE": "gpu"}, "device"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_whisper_mistake_is_one_line_before_any_item(
    case: str,
    tmp_path: Path,
    vtembed,  # type: ignore[no-untyped-def]
) -> None:
    env, named = CASES[case]
    run = vtembed("ingest", MEDIA, "--sink", f"jsonl:{tmp_path}/out/e.jsonl", env=env)
    assert run.code == 2, run.text
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), run.err
    assert named in lines[0], lines[0]
    assert not (tmp_path / "out").exists()
