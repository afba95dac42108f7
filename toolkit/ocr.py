"""Read the text in a picture (a shot's keyframe), offline, so slides, captions, signs and titles
become searchable with the text model when no image model is installed.

The engine is RapidOCR: its wheel ships PP-OCRv6 detection and recognition ONNX models (nothing is
downloaded) and runs them with onnxruntime; its OpenCV is the headless build, so no libGL is
needed. The engine is heavy (about 1 s to import and load, a few hundred MB resident), so it is
loaded on the first call, once per process, and this module imports nothing heavy itself.
"""

from __future__ import annotations

import io
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vtembed.errors import MediaError

if TYPE_CHECKING:
    import numpy as np

    ImageInput = bytes | str | os.PathLike[str] | np.ndarray

# Lines below this recognition confidence are dropped. Measured on textless 1280x720 frames
# (benchmarks/ocr_speed.py): black, gradients, noise, a Mandelbrot set, cellular automata give no
# lines at all; SMPTE colour bars give "1" (0.71 and 0.31) and "一" (0.78). Real text, down to a
# 16 px caption on a busy picture, reads at 0.98-1.0. 0.5 removes the weak guesses; the confident
# single characters are removed by MIN_CHARS, since a threshold above 0.78 would also risk real
# text that reads less well (blurred, low contrast) than drawn test text does.
MIN_CONFIDENCE = 0.5
# A line needs this many letters or digits: a lone character is what edges between flat colours
# read as, and alone it is no use to a search.
MIN_CHARS = 2
# A picture whose grey levels span less than this (0-255) is flat: no text can be read on it,
# and the engine is not run (a plain-colour keyframe costs a few ms instead of ~0.6 s of CPU).
# JPEG noise on a flat colour spans 2-6 levels; drawn or filmed text stands 50 and more apart.
MIN_CONTRAST = 16


@dataclass(frozen=True)
class OcrLine:
    """One recognised line: its text, its four corners in pixels (clockwise from top-left, as
    the detector gives them) and the recogniser's confidence (0-1)."""

    text: str
    box: tuple[tuple[float, float], ...]
    confidence: float

    @property
    def top(self) -> float:
        return min(y for _, y in self.box)

    @property
    def bottom(self) -> float:
        return max(y for _, y in self.box)

    @property
    def left(self) -> float:
        return min(x for x, _ in self.box)


@dataclass(frozen=True)
class OcrResult:
    """The lines read from one picture, in reading order (top to bottom, left to right)."""

    lines: tuple[OcrLine, ...]

    @property
    def text(self) -> str:
        """Lines on one row joined by a space, rows by a newline; empty when nothing was read."""
        return "\n".join(" ".join(line.text for line in row) for row in _rows(self.lines))


def read_text(
    image: ImageInput, *, min_confidence: float = MIN_CONFIDENCE, min_chars: int = MIN_CHARS
) -> OcrResult:
    """Read the text in an image: encoded bytes (JPEG, PNG...), a path to such a file, or a
    uint8 numpy array HxWx3 in RGB order (what PyAV's ``frame.to_ndarray(format="rgb24")`` gives)
    or HxW grey. Lines under min_confidence or with fewer than min_chars letters and digits are
    dropped. Raises MediaError (one line) when the image cannot be decoded."""
    pixels = _bgr(image)
    if _flat(pixels):
        return OcrResult(lines=())
    with _lock:
        output = _engine()(pixels)
    lines = [
        OcrLine(
            text=text.strip(), box=tuple((float(x), float(y)) for x, y in box), confidence=float(s)
        )
        for text, box, s in zip(
            output.txts or (),
            output.boxes if output.boxes is not None else (),
            output.scores or (),
            strict=True,
        )
    ]
    kept = [
        line
        for line in lines
        if line.confidence >= min_confidence and sum(c.isalnum() for c in line.text) >= min_chars
    ]
    return OcrResult(lines=tuple(line for row in _rows(kept) for line in row))


def _flat(pixels: np.ndarray) -> bool:
    """Whether the picture has too little contrast to show text (every 2nd pixel is enough)."""
    grey = pixels[::2, ::2].max(axis=2).astype("int16")
    return int(grey.max()) - int(grey.min()) < MIN_CONTRAST


def _rows(lines: tuple[OcrLine, ...] | list[OcrLine]) -> list[list[OcrLine]]:
    """Group lines into rows (a line whose vertical middle falls inside a row's first line is on
    that row), rows top to bottom, each row left to right."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda ln: (ln.top + ln.bottom) / 2):
        middle = (line.top + line.bottom) / 2
        if rows and rows[-1][0].top <= middle <= rows[-1][0].bottom:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [sorted(row, key=lambda ln: ln.left) for row in rows]


def _bgr(image: ImageInput) -> np.ndarray:
    """The image as a contiguous uint8 HxWx3 BGR array (OpenCV's order, which the engine takes)."""
    import numpy as np

    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or not (
            image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)
        ):
            raise MediaError(
                f"image array must be uint8 HxWx3 (RGB) or HxW, got {image.dtype} {image.shape}"
            )
        rgb = np.stack([image] * 3, axis=2) if image.ndim == 2 else image
        return np.ascontiguousarray(rgb[:, :, ::-1])
    if isinstance(image, bytes | bytearray | memoryview):
        data, name = bytes(image), "image bytes"
    else:
        name = str(image)
        try:
            data = Path(image).read_bytes()
        except OSError as exc:
            raise MediaError(f"cannot read image {name}: {exc.strerror or exc}") from None
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.load()
            rgb = np.asarray(picture.convert("RGB"))
    except Image.UnidentifiedImageError:
        raise MediaError(f"cannot decode {name}: not an image format Pillow reads") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaError(f"cannot decode {name}: {exc}".splitlines()[0]) from None
    return np.ascontiguousarray(rgb[:, :, ::-1])


_lock = threading.Lock()
_loaded: Any = None


def _engine() -> Any:
    """The RapidOCR engine, built on first use (callers hold _lock). Its own logging is turned
    off, as is onnxruntime's, so vtembed's output stays vtembed's; scoring is left to read_text."""
    global _loaded
    if _loaded is None:
        import onnxruntime

        onnxruntime.set_default_logger_severity(3)  # errors only
        from rapidocr import RapidOCR

        _loaded = RapidOCR(
            params={
                "Global.log_level": "critical",
                "Global.text_score": 0.0,
                # The angle classifier turns upside-down lines; keyframes are upright.
                "Global.use_cls": False,
                # The detector sees the frame with its long side at most 800 px (the default
                # raises the short side to 736: 1080p runs at full size). Measured on 2 cores,
                # one thread: 720p 0.55 s of CPU at 960 px, 0.40 s at 800 (736 starts reading
                # stray letters beside 16 px captions); 16 px text on 720p and 22 px on 1080p
                # still read at 1.0 on a Mandelbrot picture. (Before: 960 px took 720p from 1.4
                # to 0.8 s, 1080p 2.6 -> 1.05 s, peak RSS 618 -> 325 MiB.)
                "Det.limit_type": "max",
                "Det.limit_side_len": 800,
                # One thread per model: OCR runs beside Whisper, which keeps the other cores.
                # Measured on 2 cores, 720p keyframes: 0.86 -> 0.59 s of CPU per frame
                # (onnxruntime's spinning threads cost more than they gain), wall about the same.
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
    return _loaded
