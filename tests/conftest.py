"""Shared fixtures: generated media (real espeak-ng + ffmpeg) and a way to run the real CLI."""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import json
import os
import signal
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import media_factory as mf

# Fixtures that start a server or a cluster (Milvus, Ray, an HTTP media server): a test that
# uses one is in the slow lane, wherever it is.
SERVER_FIXTURES = frozenset({"server", "empty_server", "cluster"})


# Under pytest-xdist (`make test` runs the slow lane on two workers) each worker runs Whisper on
# one core (one call of one thread): two workers each taking both cores would fight over them
# (a Ray cluster starting beside them then timed out). Tests of the calls side by side set their
# own `whisper.workers`.
XDIST_ENV = (
    {"VTEMBED_WHISPER__CPU_THREADS": "1", "VTEMBED_WHISPER__WORKERS": "1"}
    if os.environ.get("PYTEST_XDIST_WORKER")
    else {}
)

# The PyPI Milvus server always takes the same two ports (tests/milvus_server.py): the modules
# that start one are one unit of work for pytest-xdist, run in one worker, one after another.
MILVUS_GROUP = "milvus-server"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@functools.cache
def _starts_milvus(module_path: str) -> bool:
    path = Path(module_path)
    return path.suffix == ".py" and "milvus_server" in path.read_text(encoding="utf-8")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # type: ignore[no-untyped-def]
    """`--dist loadfile`, with the Milvus modules as one file. (xdist's `loadgroup` cannot do it
    here: it renames tests by `item._nodeid`, which pytest 9 no longer reads.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ModuleScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return MILVUS_GROUP if _starts_milvus(str(config.rootpath / module)) else module

    return ModuleScheduling(config, log)


@pytest.fixture(scope="session")
def tools() -> None:
    missing = mf.missing_tools()
    if missing:
        pytest.fail(f"missing tools {missing}: run `make test`, which installs them", pytrace=False)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vtembed-cache")


@dataclass
class Run:
    code: int
    out: str
    err: str
    summary: dict

    @property
    def text(self) -> str:
        return self.out + self.err


def as_at_a_terminal() -> None:
    """`preexec_fn` for a CLI a test interrupts as Ctrl-C would: SIGINT at its default. A shell
    without job control starts background commands with SIGINT ignored (`make test &` in a
    script, say), and Python then installs no KeyboardInterrupt handler, so the run would
    never see the signal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def vtembed(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Run the CLI as a user would and return a `Run`: in this process (through
    `vtembed.cli.app.run`, with the environment, `PYTHONPATH` and standard streams the command
    would have had), or in a subprocess for what needs one (`process=True`; Ray runs)."""
    summaries = tmp_path_factory.mktemp("summaries")
    counter = iter(range(10_000))

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 600, process: bool = False
    ) -> Run:
        summary = summaries / f"s{next(counter)}.json"
        full_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")},
            "VTEMBED_CACHE_DIR": str(cache_dir),
            **XDIST_ENV,
            **(env or {}),
        }
        argv = list(args)
        if "ingest" in args:
            argv += ["--progress", "plain"]
            if "--summary-json" not in args:
                argv += ["--summary-json", str(summary)]
        if process or "ray" in args:
            proc = subprocess.run(
                [sys.executable, "-m", "vtembed", *argv],
                capture_output=True,
                text=True,
                env=full_env,
                timeout=timeout,
            )
            code, out, err = proc.returncode, proc.stdout, proc.stderr
        else:
            code, out, err = in_process(argv, full_env)
        data = json.loads(summary.read_text()) if summary.exists() else {}
        return Run(code, out, err, data)

    return run


def in_process(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """The CLI's exit code, stdout and stderr, as a process would give them (an unexpected
    exception is a traceback on stderr and exit 1), with `env` as the whole environment and
    its `PYTHONPATH` on `sys.path`; modules imported from there are forgotten afterwards, so
    the next test's plugins of the same name are imported afresh."""
    from vtembed.cli.app import run

    saved_env, saved_path = dict(os.environ), list(sys.path)
    loaded_before = set(sys.modules)
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    sys.path[:0] = extra
    importlib.invalidate_caches()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = run(argv)
            except Exception:
                traceback.print_exc()
                code = 1
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        _forget_modules_under(extra, loaded_before)
    return code, out.getvalue(), err.getvalue()


def _forget_modules_under(folders: list[str], loaded_before: set[str]) -> None:
    """Only modules this run imported: one already loaded (numpy, say, when a folder on
    `PYTHONPATH` holds the venv) cannot be imported a second time."""
    roots = [Path(folder).resolve() for folder in folders]
    if not roots:
        return
    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None)
        if name in loaded_before or not where:
            continue
        if any(Path(where).resolve().is_relative_to(root) for root in roots):
            del sys.modules[name]
