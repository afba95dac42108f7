"""Where Whisper runs (CPU or a CUDA GPU) and at which precision, decided once at start.

The choice is a pure function of the settings and the number of GPUs CTranslate2 sees, so it can
be tested on a machine without one. `auto` takes the GPU when there is one: the same command
runs unchanged on a laptop and a GPU box. Each device has its own compute type, since int8 is
the fast choice on a CPU and float16 on a GPU; one setting for both would be wrong on one of them.

Under Ray, an actor that asked for no GPU sees none (Ray hides them from it), so `auto` there
means the CPU even on a node that has GPUs.
"""

from __future__ import annotations

from dataclasses import dataclass

from vtembed.errors import UsageError
from vtembed.settings import WhisperSettings


@dataclass(frozen=True)
class WhisperDevice:
    device: str
    """"cpu" or "cuda", as faster-whisper's `WhisperModel(device=...)` takes it."""
    compute_type: str

    def describe(self) -> str:
        return f"{self.device}, {self.compute_type}"


def choose_device(settings: WhisperSettings, cuda_devices: int) -> WhisperDevice:
    """The device and compute type for these settings when CTranslate2 sees `cuda_devices` GPUs;
    `cuda` asked for with none is a UsageError (a silent fall back to the CPU would run ten
    times slower than the user planned for)."""
    if settings.device == "cuda" and cuda_devices < 1:
        raise UsageError(
            "whisper.device is cuda, but CTranslate2 sees no CUDA GPU (no GPU, no driver, or a "
            "CPU-only CTranslate2): set whisper.device to auto or cpu"
        )
    if settings.device == "cuda" or (settings.device == "auto" and cuda_devices > 0):
        return WhisperDevice("cuda", settings.cuda_compute_type)
    return WhisperDevice("cpu", settings.compute_type)


def cuda_device_count() -> int:
    """The GPUs CTranslate2 can use here (0 when it cannot ask: a CPU-only build)."""
    import ctranslate2

    try:
        return int(ctranslate2.get_cuda_device_count())
    except Exception:  # CTranslate2 builds without CUDA raise rather than answer 0
        return 0


def device_for(settings: WhisperSettings) -> WhisperDevice:
    """The device these settings choose on this machine."""
    return choose_device(settings, cuda_device_count())


def describe_device(settings: WhisperSettings) -> str:
    """The device for a start line or doctor (`cpu, int8`); never raises: the start check
    says what is wrong."""
    try:
        return device_for(settings).describe()
    except UsageError:
        return "cuda (no GPU found)"
