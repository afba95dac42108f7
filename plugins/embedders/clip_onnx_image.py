"""A keyframe as a CLIP image encoder reads it, the way CLIP's own `preprocess` makes it.

CLIP was trained on pictures made by torchvision on PIL images: shortest side resized to the
input size with PIL's bicubic filter, centre crop, RGB, scaled to 0..1, normalised with CLIP's
mean and standard deviation. Any other resize (OpenCV's INTER_CUBIC does not antialias when it
shrinks) moves the vectors away from the ones the text encoder was trained against, so this uses
Pillow, which comes with the OCR package vtembed depends on (rapidocr), and does the arithmetic
torchvision does (its truncating long-side size, its rounded crop offsets). Pillow and numpy are
imported by the function, so loading the plugin loads neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# OpenAI CLIP's (and OpenCLIP's OPENAI_DATASET_*) normalisation constants, RGB order.
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


def resized_size(width: int, height: int, size: int) -> tuple[int, int]:
    """torchvision's `Resize(size)` output (width, height): shortest side `size`, the other
    truncated, not rounded."""
    short, long = (width, height) if width <= height else (height, width)
    new_long = int(size * long / short)
    return (size, new_long) if width <= height else (new_long, size)


def crop_box(width: int, height: int, size: int) -> tuple[int, int, int, int]:
    """torchvision's `CenterCrop(size)` box (left, top, right, bottom): offsets rounded half to
    even, as its `int(round(...))` does (round gives an int)."""
    left = round((width - size) / 2.0)
    top = round((height - size) / 2.0)
    return left, top, left + size, top + size


def preprocess(path: str | Path, size: int = 224) -> np.ndarray:
    """One picture as float32 [3, size, size], in CLIP's order of steps (resize, crop, then RGB)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        resized = image.resize(resized_size(*image.size, size), Image.Resampling.BICUBIC)
    rgb = resized.crop(crop_box(*resized.size, size)).convert("RGB")
    pixels = np.asarray(rgb, dtype=np.float32) / np.float32(255.0)
    normalised = (pixels - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    return np.ascontiguousarray(normalised.transpose(2, 0, 1), dtype=np.float32)
