"""The rules every embedder keeps: it says what it makes (model, dimension, limits), gives one
finite vector of that dimension per input, in order, and the same text gives the same vector."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence

from vtembed.embedder import Embedder
from vtembed.models import TextChunk
from vtembed.settings import Settings
from vtembed.testing.rules import Broken, Report, expect

TEXTS = ("a man walks his dog across the street", "quarterly sales figures", "rain on a roof")


def check_embedder(embedder_cls: type[Embedder], settings: Settings) -> Report:
    """`settings` as the embedder needs them to run here (a key, a base URL)."""
    report = Report(f"embedder {getattr(embedder_cls, 'name', embedder_cls.__qualname__)}")
    built: list[Embedder] = []
    report.run(
        "it is built from settings and declares its model",
        lambda: built.append(_build(embedder_cls, settings)),
    )
    if not built:
        return report
    embedder = built[0]
    vectors: list[list[list[float]]] = []
    report.run(
        "one finite vector of its dimension per text, in order",
        lambda: vectors.append(_vectors(embedder)),
    )
    report.run("the same text gives the same vector", lambda: _same(embedder, vectors))
    asyncio.run(embedder.aclose())
    return report


def _build(embedder_cls: type[Embedder], settings: Settings) -> Embedder:
    for attribute in ("name", "default_model"):
        expect(bool(getattr(embedder_cls, attribute, None)), f"the class has no {attribute}")
    embedder = embedder_cls(settings, None)
    expect(embedder.dim >= 1, f"dim is {embedder.dim}")
    expect(embedder.text_token_limit >= 3, f"text_token_limit is {embedder.text_token_limit}")
    expect(embedder.audio_segment_sec > 0, f"audio_segment_sec is {embedder.audio_segment_sec}")
    return embedder


def _embed(embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
    chunks = [TextChunk(text, 0.0, 1.0, len(text.split()) + 2) for text in texts]
    return [list(v) for v in asyncio.run(embedder.embed(chunks))]


def _vectors(embedder: Embedder) -> list[list[float]]:
    vectors = _embed(embedder, TEXTS)
    expect(len(vectors) == len(TEXTS), f"{len(TEXTS)} texts gave {len(vectors)} vectors")
    for text, vector in zip(TEXTS, vectors, strict=True):
        expect(
            len(vector) == embedder.dim, f"{text!r}: {len(vector)} values, not dim {embedder.dim}"
        )
        expect(all(math.isfinite(x) for x in vector), f"{text!r}: a value is NaN or infinite")
    return vectors


def _same(embedder: Embedder, earlier: list[list[list[float]]]) -> None:
    if not earlier:
        raise Broken("no vectors to compare (the rule before failed)")
    (again,) = _embed(embedder, TEXTS[:1])
    first = earlier[0][0]
    dot = sum(a * b for a, b in zip(first, again, strict=True))
    norms = math.sqrt(sum(a * a for a in first)) * math.sqrt(sum(b * b for b in again))
    cosine = dot / norms if norms else 0.0
    expect(cosine > 0.999, f"the same text embedded twice has cosine {cosine:.4f}")
