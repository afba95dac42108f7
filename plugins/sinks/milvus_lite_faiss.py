"""Milvus Lite's IVF indexes, made without FAISS's few-training-points warning.

Lite builds a FAISS IVF index for every segment it seals (an ingest seals one per item), with at
most 128 lists and never more lists than rows. FAISS asks for 39 training points per list, and
below that prints `WARNING clustering 3 points to 3 centroids: please provide at least 117
training points` straight to the process's stderr: one such line per item of a small archive,
in the middle of vtembed's output. Lite builds these indexes in its own thread, inside this
process, so the line cannot be filtered on its way out. And the sink searches with every list
probed (an exact scan, however well the lists were trained), so the warning tells a user nothing
to act on.

`min_points_per_centroid` is the setting that warning checks, and nothing else in FAISS's
training reads it. Lite's two IVF modules get a view of `faiss` in which the IVF indexes they make
ask for one point per list; the rest of the module, and FAISS itself, are as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

IVF_CLASSES = ("IndexIVFFlat", "IndexIVFScalarQuantizer")
LITE_IVF_MODULES = ("milvus_lite.index.faiss_ivf_flat", "milvus_lite.index.faiss_ivf_sq8")


class _FewPointsFaiss:
    """`faiss` as Lite's IVF modules see it: the IVF indexes they make take few points quietly."""

    def __init__(self, faiss: ModuleType) -> None:
        self.faiss = faiss

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.faiss, name)
        return _one_point_per_list(value) if name in IVF_CLASSES else value


def _one_point_per_list(index_class: Callable[..., Any]) -> Callable[..., Any]:
    def make(*args: Any) -> Any:
        index = index_class(*args)
        index.cp.min_points_per_centroid = 1
        return index

    return make


def quiet_ivf_training() -> None:
    """Give Lite's IVF modules the quiet view of faiss (once; again is a no-op). Without
    faiss-cpu, Lite has no IVF index to quiet."""
    import importlib

    for name in LITE_IVF_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            return
        if not isinstance(module.faiss, _FewPointsFaiss):
            module.faiss = _FewPointsFaiss(module.faiss)
