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


@pytest.mark.parametrize(
    ("language", "note"), [("auto", "detected per item"), ("es", '"es"'), ("en", None)]
)
def test_another_language_than_the_text_models_is_said_at_start(  # type: ignore[no-untyped-def]
    language: str, note: str | None, tmp_path: Path, vtembed
) -> None:
    """The local embedder's MiniLM is English-first: a multilingual run is told so at once
    (here before the missing file stops it, so no Whisper runs)."""
    env = {"VTEMBED_WHISPER__MODEL": "base", "VTEMBED_WHISPER__LANGUAGE": language}
    run = vtembed("ingest", str(tmp_path / "none.wav"), "--sink", f"jsonl:{tmp_path}/e.jsonl",
                  env=env)  # fmt: skip
    said = [line for line in run.err.splitlines() if line.startswith("note: Whisper's language")]
    if note is None:
        assert not said, run.err
    else:
        assert len(said) == 1 and note in said[0] and "en-first text model" in said[0], run.err
