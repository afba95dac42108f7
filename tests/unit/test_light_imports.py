"""Commands import only what they use: listing plugins or asking for help loads no model runtime,
web framework, database client or downloader. Each check runs in a fresh interpreter, since this
test process has long since imported everything."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "faster_whisper",
    "ctranslate2",
    "onnxruntime",
    "cv2",
    "fastapi",
    "pyarrow",
    "yt_dlp",
    "lancedb",
    "pymilvus",
    "ray",
)

REGISTRY = """
from vtembed.plugin_manager import build_manager
from vtembed.registry import build_registry

registry = build_registry(build_manager())
registry.settings_sections()
assert registry.sources and registry.embedders and registry.sinks
"""

CLI = """
import contextlib, io
from vtembed.cli.app import run

for args in (["--help"], ["plugins"]):
    with contextlib.redirect_stdout(io.StringIO()):
        code = run(args)
    assert code == 0, (args, code)
"""

REPORT = """
import json, sys
print(json.dumps(sorted({name.split(".")[0] for name, mod in sys.modules.items() if mod})))
"""


def _loaded_after(code: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after running code."""
    run = subprocess.run(
        [sys.executable, "-c", code + REPORT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return set(json.loads(run.stdout.splitlines()[-1]))


def test_building_the_registry_loads_no_heavy_library() -> None:
    loaded = _loaded_after(REGISTRY)
    assert "vtembed" in loaded and "pluggy" in loaded  # the probe sees what the code imported
    assert sorted(loaded.intersection(HEAVY)) == []


@pytest.mark.parametrize("probe", ["sys.modules['yt_dlp'] = None", "pass"])
def test_an_optional_plugin_is_judged_without_importing_it(probe: str) -> None:
    """The yt-dlp source says whether yt-dlp is installed without importing it, and a missing
    yt-dlp is still reported through VTEMBED_UNAVAILABLE."""
    code = f"""
import sys
{probe}
from vtembed.plugins.sources import ytdlp
print(repr(ytdlp.VTEMBED_UNAVAILABLE))
"""
    run = subprocess.run(
        [sys.executable, "-c", code + REPORT], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    reason, loaded = run.stdout.splitlines()[-2:]
    assert "yt_dlp" not in json.loads(loaded)
    if probe == "pass":
        pytest.importorskip("yt_dlp", reason="the test extra installs yt-dlp")
        assert reason == "None"
    else:
        assert ".[ytdlp]" in reason


def test_help_and_plugins_load_no_heavy_library() -> None:
    assert sorted(_loaded_after(CLI).intersection(HEAVY)) == []
