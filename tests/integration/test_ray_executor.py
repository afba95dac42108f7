"""The Ray executor: the records the in-process one gives, from Whisper actors on a real local Ray.

One Ray is started here (`ray.init()`) for the module; the CLI runs join it by address, except
the one that shows `--executor ray` alone starting (and stopping) a Ray of its own.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from tests import media_factory as mf
from tests.conftest import records
from vtembed.executors.ray_dispatch import Dispatch, WorkerDied
from vtembed.executors.ray_worker import TranscribeWorker, WorkerSetup
from vtembed.item_windows import ItemWindow
from vtembed.media import SAMPLE_RATE, DecodeResult, pcm_windows, probe
from vtembed.models import MediaItem
from vtembed.plugin_manager import build_manager
from vtembed.registry import build_registry
from vtembed.settings import load_settings

pytestmark = pytest.mark.slow  # runs Whisper or starts servers

# The same Whisper threads for both executors; two actors so items are really spread.
ENV = {"VTEMBED_WHISPER__CPU_THREADS": "1", "VTEMBED_RAY__WORKERS": "2"}
TEXTS = {"dog walk": mf.DEMO_TEXT, "kitchen": mf.OTHER_TEXT, "town": mf.SPEECH_TEXT}


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local Ray for this module; its address for `--ray-address`."""
    before = dict(os.environ)
    _start_local_ray()
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        for key in set(os.environ) - set(before):  # ray.init sets RAY_AUTH_MODE and others
            del os.environ[key]
        os.environ.update(before)


STARTUP_TIMEOUTS = ("timed out during startup", "Timed out waiting for file")
"""How Ray says its GCS or raylet did not come up within its fixed waits (30 s)."""


def _start_local_ray(attempts: int = 3) -> None:
    """A new local Ray, started again if its GCS or raylet did not come up within Ray's fixed
    waits, which no setting lengthens. On fresh clones' `make test` (2 cores, the other xdist
    worker busy) the first start failed so in 2 of 4 runs, neither process having written a
    line of its log yet; a second start of the same binaries has then come up in seconds."""
    for attempt in range(1, attempts + 1):
        try:
            ray.init(
                address="local",  # a new Ray, whatever else runs here
                num_cpus=2,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
            return
        except Exception as exc:  # Ray raises a bare Exception or a RuntimeError
            if attempt == attempts or not any(m in str(exc) for m in STARTUP_TIMEOUTS):
                raise
            print(f"Ray's local node did not start in time ({exc}); starting it again")
            ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Path:
    root = tmp_path_factory.mktemp("ray") / "media"
    for (name, text), container in zip(TEXTS.items(), ["mp4", "wav", "mp3"], strict=True):
        mf.speech_media(root, name, container, text=text, video=False)
    mf.truncated_tail_mp3(root, "bad tail")  # kept in part, with a warning
    mf.not_media(root / "broken.mp4")
    return root


def _key(recs: list[dict]) -> set[tuple]:
    return {(r["id"], r["text"], r["start_sec"], r["end_sec"]) for r in recs}


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


def test_ray_gives_the_records_local_gives_and_a_rerun_adds_none(
    folder: Path, cluster: str, tmp_path: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    local_out, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    local = vtembed("ingest", str(folder), "--sink", f"jsonl:{local_out}", env=ENV)
    # No address: vtembed starts a local Ray of its own and shuts it down at the end.
    on_ray = vtembed(
        "ingest", str(folder), "--sink", f"jsonl:{ray_out}", "--executor", "ray", env=ENV
    )
    broken, bad_tail = str(folder / "broken.mp4"), str(folder / "bad tail.mp3")
    for run in (local, on_ray):
        assert run.code == 1, run.text
        assert "Traceback" not in run.text
        assert [broken in line for line in _errors(run.err)] == [True], run.err
        assert [bad_tail in line for line in _warnings(run.err)] == [True], run.err
        assert run.summary["items"] == {"ok": 4, "failed": 1, "skipped": 0, "done_before": 0}
    assert "ray: 2 Whisper workers (1 thread each)" in on_ray.err
    assert sum(line.startswith("done: ") for line in on_ray.err.splitlines()) == 4, on_ray.err
    ray_records = records(ray_out)
    assert {r["media"]["title"] for r in ray_records} == {*TEXTS, "bad tail"}
    assert _key(ray_records) == _key(records(local_out))
    assert on_ray.summary["records_written"] == len(ray_records)

    # The rerun joins the module's Ray by address (with the RAY_AUTH_MODE=token that ray.init
    # set in this process, as its token needs); only the broken file is tried again.
    again = vtembed(
        "ingest", str(folder), "--sink", f"jsonl:{ray_out}",
        "--executor", "ray", "--ray-address", cluster, env=ENV,
    )  # fmt: skip
    assert again.code == 1, again.text
    assert [broken in line for line in _errors(again.err)] == [True], again.err
    assert again.summary["items"] == {"ok": 0, "failed": 1, "skipped": 0, "done_before": 4}
    assert again.summary["records_written"] == 0
    assert records(ray_out) == ray_records

    # The driver kept each transcript the workers made; with the records gone, a rerun plans
    # them from those on the driver (a reused transcript is not written again).
    kept = sorted((tmp_path / "ray.jsonl.assets").glob("*/transcript.json.gz"))
    assert len(kept) == 4
    stamps = [p.stat().st_mtime_ns for p in kept]
    ray_out.unlink()
    redo = vtembed(
        "ingest", str(folder), "--sink", f"jsonl:{ray_out}",
        "--executor", "ray", "--ray-address", cluster, env=ENV,
    )  # fmt: skip
    assert redo.code == 1 and redo.summary["items"]["ok"] == 4, redo.text
    assert [p.stat().st_mtime_ns for p in kept] == stamps
    assert _key(records(ray_out)) == _key(ray_records)


def test_unreachable_cluster_is_one_line_and_exit_2(folder: Path, tmp_path: Path, vtembed) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out.jsonl"
    run = vtembed(
        "ingest", str(folder), "--sink", f"jsonl:{out}",
        "--executor", "ray", "--ray-address", "127.0.0.1:1",
    )  # fmt: skip
    assert run.code == 2, run.text
    assert "Traceback" not in run.text
    assert _errors(run.err) == [
        "error: cannot reach the Ray cluster at 127.0.0.1:1: Connection refused"
    ]
    assert not out.exists()


def test_gpus_asked_of_a_cluster_without_them_is_one_line_and_exit_2(
    folder: Path, cluster: str, tmp_path: Path, vtembed
) -> None:  # type: ignore[no-untyped-def]
    """The module's Ray has no GPU: actors asking for one could never be placed, so the run
    stops at start instead of waiting for them forever."""
    out = tmp_path / "out.jsonl"
    run = vtembed(
        "ingest", str(folder), "--sink", f"jsonl:{out}", "--executor", "ray",
        "--ray-address", cluster, env={**ENV, "VTEMBED_RAY__GPUS_PER_WORKER": "1"},
    )  # fmt: skip
    assert run.code == 2, run.text
    assert "Traceback" not in run.text
    assert _errors(run.err) == [
        "error: ray.gpus_per_worker is 1, but no node of the Ray cluster has that many GPUs "
        "(0 in all): lower it, or set it to 0 for CPUs"
    ], run.err


def test_a_dead_worker_takes_only_its_own_item_down(cluster: str) -> None:
    class Echo:  # defined here so that Ray ships it by value: workers cannot import tests
        """A stand-in Whisper actor: echoes items, dies on "crash", dawdles on "slow"."""

        def transcribe(self, item: str) -> tuple[str, int]:
            if item == "crash":
                os._exit(1)
            if item == "slow":
                time.sleep(1.0)
            return item, os.getpid()

    echo = ray.remote(num_cpus=0.5)(Echo)
    started: list[object] = []
    polls: list[int] = []

    def start() -> object:
        started.append(echo.remote())
        return started[-1]

    # Two actors, two calls queued on each: "crash" kills the first actor with "queued" waiting
    # behind it; "queued" must go to a new actor and succeed.
    items = ["crash", "queued", "slow", "b", "c"]
    results = dict(Dispatch(start, 2, items, while_waiting=lambda a: polls.append(len(a)),
                            wait_sec=0.2))  # fmt: skip
    assert sorted(results) == sorted(items)
    crash = results.pop("crash")
    assert isinstance(crash, WorkerDied) and not crash.at_start and crash.reason
    assert {item for item, _pid in results.values()} == set(results)
    assert len(started) == 3  # the two first actors and the one that took over "queued"
    assert polls and max(polls) <= 2


def test_a_worker_that_cannot_start_is_told_apart(cluster: str) -> None:
    class Unloadable:
        def __init__(self) -> None:
            raise ModuleNotFoundError("No module named 'vtembed'")

        def transcribe(self, item: str) -> str:
            return item

    broken = ray.remote(num_cpus=0.5)(Unloadable)
    [(item, died)] = list(Dispatch(broken.remote, 1, ["x"]))
    assert item == "x" and isinstance(died, WorkerDied) and died.at_start
    assert died.reason == "ModuleNotFoundError: No module named 'vtembed'"


def test_worker_setup_keeps_keys_on_the_driver_and_rebuilds_the_run(folder: Path) -> None:
    registry = build_registry(build_manager())
    settings = load_settings(
        {"twelvelabs": {"api_key": "tlk-do-not-ship"}, "url": {"max_redirects": 3}},
        sections=registry.settings_sections(),
    )
    sources = {"local": registry.sources["local"](settings)}
    keep_out = (registry.embedders["twelvelabs"].settings_section,)
    setup = WorkerSetup.of(settings, sources, keep_out, cpu_threads=1)
    shipped = pickle.dumps(setup)  # plain pickle: only importable classes and plain values
    assert b"tlk-do-not-ship" not in shipped

    worker = TranscribeWorker(pickle.loads(shipped))
    assert not worker.problem
    rebuilt = worker.stages.settings
    assert rebuilt.url == settings.url and rebuilt.whisper.cpu_threads == 1
    assert not hasattr(rebuilt, "twelvelabs")

    clip = folder / "kitchen.wav"
    item = MediaItem(id="k", uri=clip.as_uri(), title="kitchen", source="local")
    outcome = worker.transcribe(item)
    assert outcome.error == "" and outcome.transcribed is not None
    assert "kitchen" in outcome.transcribed.transcript.text.lower()
    assert worker.progress() is None  # nothing at hand between items

    bad = load_settings({"whisper": {"model": str(folder / "no-such-model")}})
    broken = TranscribeWorker(WorkerSetup.of(bad, sources, (), cpu_threads=1))
    outcome = broken.transcribe(item)
    assert outcome.worker_broken and "no-such-model" in outcome.error


@pytest.fixture(scope="module")
def long_talk(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Path:
    """A 90-s talk: with 20-s Whisper windows (`LONG`), an item of several windows."""
    return mf.long_speech_wav(tmp_path_factory.mktemp("ray-long") / "talk" / "a long talk.wav", 1.5)


LONG = {"whisper": {"window_sec": 20.0, "cpu_threads": 1}}


def _worker(folder: Path, split: bool) -> TranscribeWorker:
    settings = load_settings({**LONG, "ray": {"split_files": split}})
    sources = {"local": build_registry(build_manager()).sources["local"](settings)}
    return TranscribeWorker(WorkerSetup.of(settings, sources, (), cpu_threads=1))


def test_a_long_item_is_split_into_the_windows_one_process_cuts_and_heard_alike(
    long_talk: Path,
) -> None:
    item = MediaItem(id="t", uri=long_talk.as_uri(), title="a long talk", source="local")
    whole = _worker(long_talk.parent, split=False).transcribe(item)  # the setting that restores
    assert whole.transcribed is not None and not whole.windows  # one actor a file

    worker = _worker(long_talk.parent, split=True)
    split = worker.transcribe(item)
    assert split.transcribed is None and not split.error
    cut = [(w.start_sample, w.end_sample) for w in split.windows]
    one_pass = pcm_windows(probe(str(long_talk)), 20.0, DecodeResult())
    assert cut == [(w.start_sample, w.end_sample) for w in one_pass]
    assert len(cut) >= 4 and {w.language for w in split.windows} == {"en"}

    heard = [worker.transcribe(window) for window in reversed(split.windows)][::-1]
    for window, outcome in zip(split.windows, heard, strict=True):
        assert outcome.transcribed is not None, outcome.error
        words = outcome.transcribed.transcript.words
        assert words, window.describe()
        # In the media's time (not the window's), give or take Whisper's word alignment.
        assert window.start_sec - 0.5 <= words[0].start_sec
        assert words[-1].end_sec <= window.end_sample / SAMPLE_RATE + 0.5
    joined = [w for outcome in heard for w in outcome.transcribed.transcript.words]  # type: ignore[union-attr]
    alone = whole.transcribed.transcript.words
    assert [_normal(w.text) for w in joined] == [_normal(w.text) for w in alone]
    for a, b in zip(joined, alone, strict=True):
        assert a.start_sec == pytest.approx(b.start_sec, abs=0.2)
        assert a.end_sec == pytest.approx(b.end_sec, abs=0.2)


def test_a_window_that_fails_says_which(long_talk: Path, tmp_path: Path) -> None:
    broken = mf.not_media(tmp_path / "gone.wav")  # the file changed after it was split
    item = MediaItem(id="g", uri=broken.as_uri(), title="gone", source="local")
    window = ItemWindow(item, 1, 3, 20 * SAMPLE_RATE, 40 * SAMPLE_RATE, "en")
    outcome = _worker(long_talk.parent, split=True).transcribe(window)
    assert outcome.transcribed is None and not outcome.worker_broken
    assert outcome.error.startswith("not readable as media")
    assert outcome.error.endswith("(in its window 2 of 3 (20.0-40.0 s))")


def test_jobs_put_first_go_to_every_actor_ahead_of_the_rest(cluster: str) -> None:
    class Splitter:  # defined here so that Ray ships it by value: workers cannot import tests
        def transcribe(self, job: str) -> int:
            time.sleep(0.3)
            return os.getpid()

    actor = ray.remote(num_cpus=0.5)(Splitter)
    work: Dispatch[str] = Dispatch(actor.remote, 2, ["long", "next"], eager=True)
    ran: dict[str, int] = {}
    for job, pid in work:
        ran[job] = pid
        if job == "long":
            work.put_first(["w1", "w2", "w3", "w4", "w5"])
            work.drop(lambda j: j == "w5")  # say another window of its item failed
    assert sorted(ran) == ["long", "next", "w1", "w2", "w3", "w4"]
    assert len({ran[w] for w in ("w1", "w2", "w3", "w4")}) == 2  # both actors hear windows


def test_ray_splits_a_long_file_and_gives_the_records_local_gives(  # type: ignore[no-untyped-def]
    long_talk: Path, cluster: str, tmp_path: Path, vtembed
) -> None:
    env = {**ENV, "VTEMBED_WHISPER__WINDOW_SEC": "20"}
    local_out, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    folder = str(long_talk.parent)
    local = vtembed("ingest", folder, "--sink", f"jsonl:{local_out}", env=env)
    on_ray = vtembed(
        "ingest", folder, "--sink", f"jsonl:{ray_out}",
        "--executor", "ray", "--ray-address", cluster, env=env,
    )  # fmt: skip
    for run in (local, on_ray):
        assert run.code == 0, run.text
        assert run.summary["items"] == {"ok": 1, "failed": 0, "skipped": 0, "done_before": 0}
    windows = len(list(pcm_windows(probe(str(long_talk)), 20.0, DecodeResult())))
    assert f"{long_talk}: {windows} Whisper windows, heard side by side" in on_ray.err
    ray_records = records(ray_out)
    assert max(r["end_sec"] for r in ray_records) > 80  # past several window edges
    assert _key(ray_records) == _key(records(local_out))
