"""Large buffers are mapped (returned on free) from the first ingest on, unless the user chose."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import ctypes, ctypes.util, os
from vtembed.malloc_tuning import map_large_buffers
print(map_large_buffers(), map_large_buffers())
"""


def _run(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_threshold_is_set_once_on_glibc() -> None:
    import platform

    expected = "True True" if platform.libc_ver()[0] == "glibc" else "False False"
    assert _run({"PATH": "/usr/bin:/bin"}) == expected


def test_a_threshold_the_user_set_is_left_alone() -> None:
    assert _run({"PATH": "/usr/bin:/bin", "MALLOC_MMAP_THRESHOLD_": "65536"}) == "False False"
