"""Bring-your-own CLIP: shot keyframes and text in one space, from ONNX files in a folder.

No package we can install ships CLIP weights (they all download from a hub at run time), so a
user who wants pictures searched by what they show, not only by the text on them, exports a
CLIP image and text encoder to ONNX once (docs/clip.md) and points `[clip_onnx] model_dir` at
the folder. Text chunks and queries go through the text encoder with vtembed's own CLIP BPE, so
a chunk that counts 77 tokens is one the encoder takes whole. CLIP hears nothing: an audio
segment is embedded from the transcript spoken inside it (`embedded_from: "transcript"`), and a
wordless one gets no record. The folder is loaded and run once when the embedder is built, so a
wrong folder is one line before any work, and a model whose vectors are not the size its model
table says is refused (another CLIP is a `[models."NAME"]` table with `protocol = "clip-onnx"`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field

from vtembed import clip_tokens, hookimpl
from vtembed.embedder import Embeddable, Embedder
from vtembed.errors import UsageError
from vtembed.models import ImageFrame, TextChunk
from vtembed.plugins.embedders import clip_onnx_model
from vtembed.settings import ModelSpec, PluginSection, Settings, section

MODEL_NAME = "clip-vit-b-32"
PROTOCOL = "clip-onnx"
"""What a `[models."NAME"]` table says to be served by this embedder: the folder's interface
(one picture input, one token-id input, an [N, dim] output each), not a network protocol."""


class ClipOnnxSettings(BaseModel):
    model_dir: str = Field(
        "", description="Folder holding image.onnx and text.onnx (a CLIP pair; docs/clip.md)."
    )


SECTION = PluginSection("clip_onnx", ClipOnnxSettings)
_FLAG = "--clip-onnx-model-dir"


def model_folder(settings: Settings) -> Path:
    """The configured folder, or a UsageError saying how to configure one."""
    config: ClipOnnxSettings = section(settings, SECTION.name)
    if not config.model_dir.strip():
        raise UsageError(
            "no CLIP model folder is set: export a CLIP image and text encoder to ONNX "
            f"({clip_onnx_model.IMAGE_FILE}, {clip_onnx_model.TEXT_FILE}; see docs/clip.md) and "
            f"set model_dir in the [{SECTION.name}] table, {_FLAG} or "
            "VTEMBED_CLIP_ONNX__MODEL_DIR"
        )
    return Path(config.model_dir).expanduser()


def load(settings: Settings, model_name: str, spec: ModelSpec) -> clip_onnx_model.ClipOnnxModel:
    """The folder's pair, checked against the model's limits; any problem is one UsageError."""
    folder = model_folder(settings)
    try:
        return fit(folder, model_name, spec)
    except clip_onnx_model.ModelFolderError as exc:
        raise UsageError(f"CLIP model folder {folder}: {exc}") from None


def fit(folder: Path, model_name: str, spec: ModelSpec) -> clip_onnx_model.ClipOnnxModel:
    """The pair, if it loads, runs and gives the vectors the model's table says."""
    model = clip_onnx_model.ClipOnnxModel(folder)
    if model.dim != spec.dim:
        raise clip_onnx_model.ModelFolderError(
            f"its encoders give {model.dim}-dim vectors, but model {model_name} has "
            f"{spec.dim}: name the model it holds with --model NAME and a "
            f'[models."NAME"] table (dim = {model.dim}, protocol = "{PROTOCOL}")'
        )
    if spec.text_token_limit > model.context_length:
        raise clip_onnx_model.ModelFolderError(
            f"{clip_onnx_model.TEXT_FILE} reads {model.context_length} tokens, but model "
            f"{model_name} chunks text to {spec.text_token_limit}: lower its text_token_limit"
        )
    return model


class ClipOnnxEmbedder(Embedder):
    name = "clip-onnx"
    default_model = MODEL_NAME
    models: ClassVar[Mapping[str, ModelSpec]] = {
        MODEL_NAME: ModelSpec(
            dim=512,
            text_token_limit=77,
            tokenizer="clip",
            audio_segment_sec=10.0,
            protocol=PROTOCOL,
        )
    }
    audio_embedded_from: ClassVar[str | None] = "transcript"
    image_input: ClassVar[str | None] = "file"
    settings_section = SECTION

    def __init__(self, settings: Settings, model_name: str | None = None) -> None:
        super().__init__(settings, model_name)
        if self.spec.tokenizer != "clip":
            raise UsageError(
                f"model {self.model_name}: the clip-onnx embedder reads CLIP token ids, so its "
                f'tokenizer must be "clip", not {self.spec.tokenizer!r}'
            )
        self.model = load(settings, self.model_name, self.spec)

    @classmethod
    def doctor(cls, settings: Settings) -> list[tuple[str, str | None]]:
        """The model's table, then whether a folder is set, then whether its pair loads, runs
        and gives vectors of the model's size."""
        checks = super().doctor(settings)
        if any(fix for _, fix in checks):
            return checks
        model_name = settings.model or cls.default_model
        try:
            folder = model_folder(settings)
        except UsageError as exc:
            return [*checks, ("CLIP model folder", str(exc))]
        try:
            model = fit(folder, model_name, cls.model_spec(model_name, settings))
        except clip_onnx_model.ModelFolderError as exc:
            return [*checks, (f"CLIP model folder {folder}", str(exc))]
        found = f"CLIP model folder {folder} loads ({model.dim} dims, {model.image_size} px)"
        return [*checks, (found, None)]

    def describe(self) -> str:
        return (
            f"embedder {self.name}: {self.model_name} ({self.dim} dims, ONNX from "
            f"{self.model.folder}; keyframes and text in one space, audio segments embedded "
            "from their transcript)"
        )

    def wants(self, item: Embeddable) -> bool:
        """Every picture and text chunk; an audio segment only if words were spoken in it."""
        return isinstance(item, (TextChunk, ImageFrame)) or bool(item.text.strip())

    async def embed(self, batch: Sequence[Embeddable]) -> list[list[float]]:
        return await asyncio.to_thread(self._embed, list(batch))

    def _embed(self, batch: list[Embeddable]) -> list[list[float]]:
        """Pictures through the image encoder, everything else through the text one, in order."""
        out: list[list[float]] = [[] for _ in batch]
        pictures = [(i, item) for i, item in enumerate(batch) if isinstance(item, ImageFrame)]
        texts = [(i, item) for i, item in enumerate(batch) if not isinstance(item, ImageFrame)]
        if pictures:
            vectors = self.model.embed_images([item.image_path for _, item in pictures])
            for (i, _), row in zip(pictures, vectors, strict=True):
                out[i] = row.tolist()
        if texts:
            vectors = self.model.embed_ids([clip_tokens.token_ids(item.text) for _, item in texts])
            for (i, _), row in zip(texts, vectors, strict=True):
                out[i] = row.tolist()
        return out


@hookimpl
def vtembed_register_embedders(register: Callable[[type[Embedder]], None]) -> None:
    register(ClipOnnxEmbedder)
