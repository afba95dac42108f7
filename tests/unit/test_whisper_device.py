"""Where Whisper runs, in which language, and what a Ray actor asks for: decided at start from the
settings and what the machine has.

This machine has no GPU, so the number of CUDA devices CTranslate2 would see is passed in: that
count is the one stand-in here; everything else is the real code (and the real count on this
machine is checked to be what it is, 0)."""

from __future__ import annotations

import pytest
import ray

from vtembed.errors import UsageError
from vtembed.executors.ray import actor_options, gpu_workers
from vtembed.executors.ray_worker import PROGRESS_GROUP, TranscribeWorker
from vtembed.settings import RaySettings, WhisperSettings
from vtembed.whisper_device import (
    WhisperDevice,
    choose_device,
    cuda_device_count,
    describe_device,
    device_for,
)
from vtembed.whisper_model import describe_model, fixed_language

CPU = WhisperDevice("cpu", "int8")
CUDA = WhisperDevice("cuda", "float16")


@pytest.mark.parametrize(
    ("device", "gpus", "chosen"),
    [
        ("auto", 0, CPU),
        ("auto", 1, CUDA),
        ("auto", 4, CUDA),
        ("cpu", 0, CPU),
        ("cpu", 2, CPU),
        ("cuda", 1, CUDA),
        ("cuda", 2, CUDA),
    ],
)
def test_the_device_and_its_compute_type(device: str, gpus: int, chosen: WhisperDevice) -> None:
    assert choose_device(WhisperSettings(device=device), gpus) == chosen


def test_each_device_takes_its_own_compute_type() -> None:
    settings = WhisperSettings(compute_type="float32", cuda_compute_type="int8_float16")
    assert choose_device(settings, 0) == WhisperDevice("cpu", "float32")
    assert choose_device(settings, 1) == WhisperDevice("cuda", "int8_float16")


def test_cuda_without_a_gpu_is_one_clear_line() -> None:
    with pytest.raises(UsageError) as err:
        choose_device(WhisperSettings(device="cuda"), 0)
    message = str(err.value)
    assert "\n" not in message
    assert "sees no CUDA GPU" in message and "auto or cpu" in message


def test_an_unknown_device_is_refused_by_the_settings() -> None:
    with pytest.raises(ValueError, match="device"):
        WhisperSettings(device="gpu")  # type: ignore[arg-type]


def test_this_machine_runs_whisper_on_the_cpu() -> None:
    """No GPU here: `auto` must come out as the CPU with the CPU's compute type."""
    assert cuda_device_count() == 0
    assert device_for(WhisperSettings()) == CPU
    assert describe_device(WhisperSettings()) == "cpu, int8"
    assert describe_device(WhisperSettings(device="cuda")) == "cuda (no GPU found)"


def test_the_start_line_names_the_model_and_its_languages() -> None:
    assert describe_model(WhisperSettings()) == "Whisper tiny.en (bundled; English only)"
    assert describe_model(WhisperSettings(model="base", language="auto")) == (
        "Whisper base (bundled; 99 languages, language detected per item)"
    )
    assert describe_model(WhisperSettings(model="base", language="es")).endswith("language es)")


@pytest.mark.parametrize(
    ("setting", "multilingual", "language"),
    [
        ("en", False, "en"),
        ("auto", False, "en"),
        ("", False, "en"),
        ("en", True, "en"),
        ("es", True, "es"),
        ("ES", True, "es"),
        ("auto", True, None),
        ("", True, None),
    ],
)
def test_the_language_every_item_gets(
    setting: str, multilingual: bool, language: str | None
) -> None:
    assert fixed_language(setting, multilingual) == language


def test_another_language_for_an_english_only_model_is_refused() -> None:
    with pytest.raises(UsageError, match=r"whisper\.language de: this Whisper model is English"):
        fixed_language("de", False)


@pytest.mark.parametrize(
    ("workers", "per_worker", "nodes", "placed"),
    [
        (2, 1.0, [1.0], 1),  # two asked, one GPU: one actor
        (4, 0.5, [1.0], 2),  # half a GPU each
        (3, 1.0, [2.0, 1.0], 3),  # across nodes
        (2, 1.0, [4.0], 2),  # room to spare: as asked
        (5, 0.3, [1.0, 1.0], 5),  # 3 a node
    ],
)
def test_gpu_actors_are_only_as_many_as_the_gpus_hold(
    workers: int, per_worker: float, nodes: list[float], placed: int
) -> None:
    assert gpu_workers(workers, per_worker, nodes) == placed


def test_gpus_asked_of_a_cluster_without_them_is_one_clear_line() -> None:
    with pytest.raises(UsageError, match=r"ray\.gpus_per_worker is 1, but no node"):
        gpu_workers(2, 1.0, [0.0, 0.0])
    with pytest.raises(UsageError, match="no node"):
        gpu_workers(1, 2.0, [1.0, 1.0])  # two GPUs in all, but no node has two


@pytest.mark.parametrize("gpus", [0.0, 0.5, 1.0])
def test_the_whisper_actor_asks_ray_for_its_gpus(gpus: float) -> None:
    """Without a GPU only the actor's options can be seen; a real run with 0 is in
    tests/integration/test_ray_executor.py."""
    actor = ray.remote(**actor_options(2.0, gpus))(TranscribeWorker)
    options = actor._default_options
    assert options["num_gpus"] == gpus
    assert options["num_cpus"] == 2.0
    assert options["concurrency_groups"] == {PROGRESS_GROUP: 1}


def test_gpus_per_worker_defaults_to_none_and_refuses_negatives() -> None:
    assert RaySettings().gpus_per_worker == 0.0
    with pytest.raises(ValueError, match="gpus_per_worker"):
        RaySettings(gpus_per_worker=-1)
