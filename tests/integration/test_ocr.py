"""OCR of keyframes with the engine the wheel ships: real frames drawn by ffmpeg's drawtext on a
colour source, read back by the real PP-OCR models (nothing mocked)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from vtembed.errors import MediaError
from vtembed.ocr import read_text

pytestmark = pytest.mark.slow  # loading the engine and reading a 720p frame take seconds

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _frame(path: Path, source: str, *texts: tuple[str, int, str, str]) -> Path:
    """One JPEG frame of an ffmpeg lavfi source with each (text, size, x, y) drawn in white."""
    if texts and not FONT.exists():
        pytest.skip(f"no font at {FONT} for ffmpeg drawtext (Debian: fonts-dejavu-core)")
    draw = ",".join(
        f"drawtext=fontfile={FONT}:text='{text}':fontcolor=white:fontsize={size}:x={x}:y={y}"
        for text, size, x, y in texts
    )
    filters = ["-vf", draw] if draw else []
    argv = ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source, *filters]
    subprocess.run([*argv, "-frames:v", "1", str(path)], check=True)
    return path


def _words(text: str) -> set[str]:
    return set(text.lower().split())


def test_slide_title_is_read(tmp_path: Path) -> None:
    slide = _frame(
        tmp_path / "slide.jpg",
        "color=c=0x1f3a5f:s=1280x720",
        ("Quarterly sales figures", 64, "(w-text_w)/2", "200"),
    )
    result = read_text(slide.read_bytes())
    assert {"quarterly", "sales", "figures"} <= _words(result.text)
    assert all(line.confidence >= 0.5 for line in result.lines)
    (line,) = result.lines
    assert 150 < line.top < line.bottom < 320  # the box is where the title was drawn


def test_small_caption_from_path_and_array(tmp_path: Path) -> None:
    frame = _frame(
        tmp_path / "caption.png",
        "color=c=black:s=640x360",
        ("Interview with the mayor", 24, "40", "310"),
    )
    from_path = read_text(frame)
    assert {"interview", "mayor"} <= _words(from_path.text)
    from PIL import Image

    rgb = np.asarray(Image.open(frame).convert("RGB"))
    assert read_text(rgb).text == from_path.text


def test_reading_order_top_to_bottom_left_to_right(tmp_path: Path) -> None:
    # Drawn bottom line first, and a right-hand word before the left one on the top row.
    frame = _frame(
        tmp_path / "order.jpg",
        "color=c=0x202020:s=1280x720",
        ("Second line below", 48, "200", "450"),
        ("Right", 48, "900", "150"),
        ("Left", 48, "200", "150"),
    )
    text = read_text(frame).text.lower()
    assert text.index("left") < text.index("right") < text.index("second")
    assert text.count("\n") == 1


@pytest.mark.parametrize(
    "source",
    ["color=c=0x1f3a5f:s=1280x720", "gradients=s=1280x720:seed=3", "smptehdbars=s=1280x720"],
)
def test_textless_frame_gives_no_text(tmp_path: Path, source: str) -> None:
    result = read_text(_frame(tmp_path / "blank.jpg", source))
    assert result.text == ""
    assert result.lines == ()


def test_corrupt_jpeg_is_a_media_error(tmp_path: Path) -> None:
    good = _frame(tmp_path / "good.jpg", "color=c=red:s=320x240").read_bytes()
    with pytest.raises(MediaError) as truncated:
        read_text(good[: len(good) // 3])
    assert "\n" not in str(truncated.value)
    with pytest.raises(MediaError):
        read_text(b"\xff\xd8\xff\xe0 not a jpeg at all")
    with pytest.raises(MediaError):
        read_text(tmp_path / "missing.jpg")
    with pytest.raises(MediaError):
        read_text(np.zeros((4, 4, 4), dtype=np.uint8))
