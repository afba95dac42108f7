"""A folder holding a CLIP exported to ONNX, loaded into two onnxruntime sessions and checked.

Layout: `image.onnx` (pictures, float [N, 3, S, S] -> [N, D]) and `text.onnx` (CLIP token ids,
int64 or int32 [N, C] -> [N, D]). Each file has one input; its name, element type, picture size
S and context length C are read from the session (fixed sizes where the export fixed them, else
CLIP's 224 and 77), and the first output is the embedding. Both encoders run once on a blank
input when the folder is loaded, so a file that does not load, does not run or gives vectors of
another size is found before any work, in one line that names the folder and what is wrong.

Sessions get one intra-op thread and calls are serialised: Whisper keeps the other core busy,
and the overlapped pipeline has several embedder batches in flight at once. onnxruntime and
numpy are imported when a folder is loaded, so registering the plugin loads neither.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from vtembed.plugins.embedders import clip_onnx_image

if TYPE_CHECKING:
    import numpy as np

IMAGE_FILE = "image.onnx"
TEXT_FILE = "text.onnx"
IMAGE_SIZE = 224
CONTEXT_LENGTH = 77
START_ID, END_ID = 49406, 49407  # CLIP's <|startoftext|> and <|endoftext|>
_FLOATS = {"tensor(float)": "float32", "tensor(float16)": "float16"}
_INTS = {"tensor(int64)": "int64", "tensor(int32)": "int32"}


class ModelFolderError(Exception):
    """The model folder is missing, incomplete, or holds files that are not a CLIP pair; the
    message says what, and the caller says which folder."""


class _Encoder:
    """One session, with the name, element type and shape of its only input."""

    def __init__(self, path: Path, accepted: dict[str, str], what: str) -> None:
        self.path = path
        if not path.is_file():
            raise ModelFolderError(f"no {path.name} ({what} encoder) in the folder")
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime's own error types are not a public API
            raise ModelFolderError(f"{path.name} does not load: {_line(exc)}") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs)
            raise ModelFolderError(
                f"{path.name} takes {len(inputs)} inputs ({names}); a CLIP {what} encoder takes one"
            )
        (self.input,) = inputs
        if self.input.type not in accepted:
            raise ModelFolderError(
                f"{path.name} takes {self.input.type} {self.input.name!r}; a "
                f"CLIP {what} encoder takes {' or '.join(accepted)}"
            )
        self.dtype = accepted[self.input.type]

    def fixed(self, axis: int, default: int) -> int:
        """The input's size along an axis if the export fixed it, else CLIP's."""
        shape = self.input.shape
        size = shape[axis] if len(shape) > axis else None
        return size if isinstance(size, int) and size > 0 else default

    def run(self, batch: np.ndarray) -> np.ndarray:
        import numpy as np

        (output, *_) = self.session.run(None, {self.input.name: batch.astype(self.dtype)})
        return np.asarray(output, dtype=np.float32)


class ClipOnnxModel:
    """Pictures and token ids to L2-normalised float32 vectors in one space."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise ModelFolderError("no such folder")
        self.folder = folder
        self.image = _Encoder(folder / IMAGE_FILE, _FLOATS, "image")
        self.text = _Encoder(folder / TEXT_FILE, _INTS, "text")
        for encoder, rank in ((self.image, 4), (self.text, 2)):
            if len(encoder.input.shape) != rank:
                raise ModelFolderError(
                    f"{encoder.path.name} input {encoder.input.name!r} has shape "
                    f"{encoder.input.shape}; CLIP's has {rank} axes"
                )
        self.image_size = self.image.fixed(2, IMAGE_SIZE)
        self.context_length = self.text.fixed(1, CONTEXT_LENGTH)
        self._lock = threading.Lock()
        self.dim = self._probe()

    def embed_images(self, paths: Sequence[str | Path]) -> np.ndarray:
        """One row per picture file, in order. Decoding and resizing hold the lock too, so the
        embedder keeps to its one core however many batches are in flight."""
        import numpy as np

        with self._lock:
            pixels = np.stack([clip_onnx_image.preprocess(p, self.image_size) for p in paths])
            return _normalised(self.image.run(pixels))

    def embed_ids(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        """One row per text's token ids (start and end included), cut and padded to context."""
        with self._lock:
            return _normalised(self.text.run(pack(ids, self.context_length)))

    def _probe(self) -> int:
        """The vector size, from one blank picture and one empty text through the sessions."""
        import numpy as np

        blank = np.zeros((1, 3, self.image_size, self.image_size), dtype=np.float32)
        sizes = []
        for encoder, batch in (
            (self.image, blank),
            (self.text, pack([[START_ID, END_ID]], self.context_length)),
        ):
            try:
                out = encoder.run(batch)
            except Exception as exc:  # the model's own failure, whatever its type
                raise ModelFolderError(
                    f"{encoder.path.name} does not run on input {list(batch.shape)}: {_line(exc)}"
                ) from None
            if out.ndim != 2 or out.shape[0] != 1:
                raise ModelFolderError(
                    f"{encoder.path.name} gives shape {list(out.shape)} for "
                    f"input {list(batch.shape)}; a CLIP encoder gives [N, dim]"
                )
            sizes.append(int(out.shape[1]))
        if sizes[0] != sizes[1]:
            raise ModelFolderError(
                f"{IMAGE_FILE} gives {sizes[0]}-dim vectors and {TEXT_FILE} "
                f"{sizes[1]}-dim ones: they are not one model's pair"
            )
        return sizes[0]


def pack(ids: Sequence[Sequence[int]], context_length: int) -> np.ndarray:
    """Texts' ids (start and end tokens included, as `clip_tokens.token_ids` gives them) laid out
    as CLIP's `tokenize(..., truncate=True)` does: zeros after the end token; an over-long text
    keeps its first tokens and still ends with the end token, where CLIP's text encoder reads
    its vector (the position of the highest id)."""
    import numpy as np

    out = np.zeros((len(ids), context_length), dtype=np.int64)
    for row, seq in enumerate(ids):
        tokens = list(seq)
        if len(tokens) > context_length:
            tokens = [*tokens[: context_length - 1], END_ID]
        out[row, : len(tokens)] = tokens
    return out


def _normalised(vectors: np.ndarray) -> np.ndarray:
    import numpy as np

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _line(exc: BaseException) -> str:
    """An error's first line, short: onnxruntime's messages run to stack dumps."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
