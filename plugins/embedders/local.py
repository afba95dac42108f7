"""The offline default embedder: all-MiniLM-L6-v2 through CTranslate2, no network, no torch.

MiniLM only reads text, so an audio segment is embedded from the transcript spoken inside it and
its record says so (`embedded_from: "transcript"`). A segment with no words has nothing to embed
and gets no record. It chunks like Marengo 2.7 (77 CLIP tokens, 10 s audio) so that switching
embedders keeps the same chunks and times.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from vtembed import hookimpl
from vtembed.embedder import Embeddable, Embedder
from vtembed.errors import UsageError
from vtembed.models import TextChunk
from vtembed.plugins.embedders import minilm
from vtembed.settings import ModelSpec, Settings


class LocalEmbedder(Embedder):
    name = "local"
    default_model = minilm.MODEL_NAME
    # It chunks like Marengo 2.7 (77 CLIP tokens, 10 s audio), not by MiniLM's own 256-WordPiece
    # limit, so switching embedders keeps the same chunks and times.
    models: ClassVar[Mapping[str, ModelSpec]] = {
        minilm.MODEL_NAME: ModelSpec(
            dim=384, text_token_limit=77, tokenizer="clip", audio_segment_sec=10.0
        )
    }
    audio_embedded_from: ClassVar[str | None] = "transcript"
    image_input: ClassVar[str | None] = "ocr"
    text_languages: ClassVar[tuple[str, ...]] = ("en",)  # MiniLM was trained on English text
    """No CLIP weights ship in a package we can install: a picture is embedded by its text."""

    def __init__(self, settings: Settings, model_name: str | None = None) -> None:
        super().__init__(settings, model_name)
        if self.model_name != minilm.MODEL_NAME:
            raise UsageError(f"the local embedder only knows {minilm.MODEL_NAME}")
        try:
            model_dir = minilm.convert(settings.cache_dir)
        except minilm.WeightsError as exc:
            raise UsageError(str(exc)) from None
        # One thread: Whisper keeps the other core busy, and contention costs more than it gains.
        self.encoder = minilm.MiniLMEncoder(model_dir, intra_threads=1)

    @classmethod
    def doctor(cls, settings: Settings) -> list[tuple[str, str | None]]:
        if settings.model and settings.model != minilm.MODEL_NAME:
            fix = f"the local embedder only knows {minilm.MODEL_NAME}: unset model"
            return [(f"embedder local: model {settings.model}", fix)]
        problems = [check for check in super().doctor(settings) if check[1]]  # its table
        if problems:
            return problems
        try:
            minilm.find_weights()
        except minilm.WeightsError as exc:
            return [(f"{minilm.MODEL_NAME} weights", str(exc))]
        return [(f"{minilm.MODEL_NAME} weights (local embedder)", None)]

    def describe(self) -> str:
        return (
            f"embedder {self.name}: {self.model_name} ({self.dim} dims, offline; "
            "audio segments are embedded from their transcript)"
        )

    async def embed(self, batch: Sequence[Embeddable]) -> list[list[float]]:
        texts = [item.text for item in batch]
        vectors = await asyncio.to_thread(self.encoder.embed, texts)
        return [row.tolist() for row in vectors]

    def wants(self, item: Embeddable) -> bool:
        """Only what has words: a wordless audio segment or picture gives no record."""
        return isinstance(item, TextChunk) or bool(item.text.strip())


@hookimpl
def vtembed_register_embedders(register: Callable[[type[Embedder]], None]) -> None:
    register(LocalEmbedder)
