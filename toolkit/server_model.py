"""`GET /v1.3/vtembed/model`: the limits of the model `vtembed serve` embeds with.

Not part of the TwelveLabs API: vtembed's own TwelveLabs client asks for it when pointed at a
server whose model it does not know, so one machine can serve embeddings to others and their
chunks still fit the served model (its dimension, token limit, tokenizer and segment length)
without anyone copying those into a settings table.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from vtembed.embedder import Embedder

PATH = "/v1.3/vtembed/model"


def add_model_route(app: FastAPI, embedder: Embedder) -> None:
    @app.get(PATH)
    async def model() -> dict[str, Any]:
        spec = embedder.spec
        return {
            "model_name": embedder.model_name,
            "embedder": embedder.name,
            "dim": embedder.dim,
            "text_token_limit": spec.text_token_limit,
            "tokenizer": spec.tokenizer,
            "audio_segment_sec": spec.audio_segment_sec,
            "image_input": embedder.image_input,
            "audio_embedded_from": embedder.audio_embedded_from,
        }
