"""Large buffers go back to the system when freed, so peak memory does not creep with length.

Each window of a long file allocates the same large, short-lived arrays (its PCM, Whisper's
STFT frames and mel features: tens of MB each). glibc serves a large request with its own
mapping, returned on free, but raises that threshold to the size of every mapping freed (up to
32 MB), after which such arrays come from the heap, whose holes are reused only in part. Peak
RSS then grew with the number of windows: 800 MiB for a 10-minute file, 888 MiB for 60 minutes
(`benchmarks/memory_long_file.py`). A fixed threshold of 8 MiB keeps them mapped: 697 and
759 MiB, at the same speed (1 MiB gave 638 and 687 MiB and was slower by 7-10%).

Setting the threshold also turns glibc's adjustment off. Only glibc has `mallopt`; elsewhere, or
when the user set `MALLOC_MMAP_THRESHOLD_` themselves, this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from collections.abc import Callable

M_MMAP_THRESHOLD = -3
THRESHOLD_BYTES = 8 * 1024 * 1024


@functools.cache
def map_large_buffers() -> bool:
    """Whether the threshold was set (once per process)."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    mallopt = _libc_function("mallopt")
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES))


@functools.cache
def _libc_function(name: str) -> Callable[..., int] | None:
    """glibc's function `name`, or None where the C library is not glibc (or cannot be found)."""
    library = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(library), name, None) if library else None
    except OSError:
        return None


def give_back_free_memory() -> None:
    """Hand the free parts of every heap back to the system (glibc's `malloc_trim`). Whisper's
    calls run in threads of their own, each allocating from its own glibc arena, and a freed
    hole in one arena is of no use to the next window in another: without this, peak RSS rose
    with the number of windows a file has. Elsewhere than glibc it does nothing."""
    trim = _libc_function("malloc_trim")
    if trim is not None:
        trim(0)
