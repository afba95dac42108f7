"""Pictures for `vtembed serve`: `image_file` or `image_url` turned into one vector, the way
`ingest` turns a shot's keyframe into one, so a served image vector and a stored keyframe vector
of the same picture are equal.

An embedder with `image_input == "ocr"` (the offline `local` one) gets the picture's text, read
by OCR and cut to whole words that fit its limit; one with `image_input == "file"` reads a JPEG
itself, as it reads keyframes. The picture is decoded here first, so a file that is not an image
is the client's 400 before any model runs.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import UploadFile

from vtembed.embedder import Embedder
from vtembed.models import ImageFrame
from vtembed.server_audio import save_upload
from vtembed.server_errors import ApiError
from vtembed.server_fetch import download, refuse_unless_fetching
from vtembed.settings import Settings
from vtembed.text_fit import first_words, largest

if TYPE_CHECKING:
    import numpy as np

_JPEG_QUALITY = 95


class ImageService:
    """One per server. The OCR engine is loaded by `vtembed.ocr` on the first picture (about a
    second and a few hundred MB), never at start, and runs in a worker thread."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder

    def check(self, upload: UploadFile | None, url: str | None) -> bool:
        """Whether the request has a picture; refuses one this server will not embed before any
        other part of the request costs time."""
        if upload is None and not url:
            return False
        if self.embedder.image_input is None:
            raise ApiError(
                400,
                "parameter_not_supported",
                f"the {self.embedder.name} embedder ({self.embedder.model_name}) has no image "
                "embeddings",
            )
        if upload is not None and url:
            raise ApiError(400, "parameter_invalid", "give image_file or image_url, not both")
        if url:
            refuse_unless_fetching("image_url", self.settings.serve)
        return True

    async def embedding(self, upload: UploadFile | None, url: str | None) -> dict[str, Any]:
        """The `image_embedding` object of the response (SDK type `ImageEmbeddingResult`)."""
        limit_mb = self.settings.serve.max_upload_mb
        with tempfile.TemporaryDirectory(prefix="vtembed-serve-") as tmp:
            received = Path(tmp) / "upload"
            if upload is not None:
                await save_upload(upload, received, limit_mb, "image_file")
                label, meta = "image_file", {"input_filename": upload.filename}
            else:
                await download(str(url), received, limit_mb, "image_url", self.settings.serve)
                label, meta = f"image_url {url}", {"input_url": url}
            # Still inside the block: an embedder that reads the picture reads a file here.
            vector = await self.vector(received, Path(tmp), label)
        return {"segments": [{"float": vector}], "metadata": meta}

    async def vector(self, received: Path, folder: Path, label: str) -> list[float]:
        """The picture's one vector, its JPEG (for a "file" embedder) written into `folder`.
        Shared with the Embed API v2 route (`server_v2`), which receives pictures its own way."""
        if self.embedder.image_input == "file":
            path = folder / "image.jpg"
            await asyncio.to_thread(_as_jpeg, received, path, label)
            frame = ImageFrame(0, 0.0, 0.0, str(path), str(path), "")
        else:
            text = await asyncio.to_thread(self._read, received, label)
            frame = ImageFrame(0, 0.0, 0.0, str(received), str(received), text)
        [vector] = await self.embedder.embed([frame])
        return vector

    def _read(self, path: Path, label: str) -> str:
        """Blocking (OCR): the picture's text as `ingest` embeds a keyframe's, or a 400 saying
        there is none, since this embedder has nothing else to make a vector from."""
        from vtembed.ocr import read_text

        pixels, _ = _decode(path, label)
        counter = self.embedder.token_counter()
        text = fit_words(read_text(pixels).text, counter.count, self.embedder.text_token_limit)
        if not text:
            raise ApiError(
                400,
                "parameter_invalid",
                f"no text found in {label}: the {self.embedder.name} embedder "
                f"({self.embedder.model_name}) embeds a picture by the text in it (OCR), and "
                "this one has none it can read",
            )
        return text


def fit_words(text: str, count: Callable[[str], int], limit: int) -> str:
    """What `ingest` keeps of a keyframe's text (`vtembed.text_fit.first_words`); a first word
    longer than the limit alone is cut inside, so a served picture with text gets a vector."""
    kept = first_words(text, count, limit)
    words = text.split()
    if kept or not words:
        return kept
    word = words[0]
    return word[: largest(lambda n: count(word[:n]) <= limit, len(word))]


def _decode(path: Path, label: str) -> tuple[np.ndarray, str]:
    """The picture as RGB pixels and its format, decoded with Pillow (what `vtembed.ocr` reads
    with, so what passes here OCR can read); anything else is a 400 naming the field."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as picture:
            picture.load()
            return np.asarray(picture.convert("RGB")), str(picture.format or "")
    except Image.UnidentifiedImageError:
        problem = "is not an image (JPEG, PNG, WebP, GIF, BMP, TIFF...)"
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        problem = f"cannot be decoded: {str(exc).replace(str(path), label).splitlines()[0]}"
    raise ApiError(400, "parameter_invalid", f"{label} {problem}")


def _as_jpeg(received: Path, dest: Path, label: str) -> None:
    """Blocking. An embedder that reads pictures is handed a JPEG, as keyframes are
    (`ImageFrame.image_path`): a JPEG upload as it came, anything else re-encoded."""
    from PIL import Image

    pixels, kind = _decode(received, label)
    if kind == "JPEG":
        received.replace(dest)
    else:
        Image.fromarray(pixels).save(dest, "JPEG", quality=_JPEG_QUALITY)
