"""docs/python.md is run, block by block, as a reader would paste it: each block alone, in a
fresh interpreter, from the repository root."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "python.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.S | re.M)

pytestmark = pytest.mark.slow


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_block_runs_alone(block: str, cache_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")}
    env["VTEMBED_CACHE_DIR"] = str(cache_dir)
    proc = subprocess.run(
        [sys.executable, "-c", block], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, f"{block}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    assert proc.stdout.strip(), "every example prints what it shows"
