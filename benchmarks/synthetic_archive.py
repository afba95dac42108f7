"""A synthetic archive for sink benchmarks: records shaped like the ones ingest writes (about 100
media items from local files, URLs and a podcast feed; alternating text chunks and audio segments
with times, transcript words and token counts) carrying random unit float32 vectors, plus the exact
nearest-neighbour answers a sink's search is checked against.

Vectors live in one float32 matrix; records are built one media item at a time, so 100 000 records
of 1024 dimensions never exist as Python lists all at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from vtembed.models import EmbeddingRecord, Modality, record_id, stable_id

MODEL = "bench-model"
SEGMENT_SEC = 10.0
WORDS = (
    "the a we our this that budget launch rocket engine weather delay team meeting quarter plan "
    "customer release road dog street car cooking pasta water minutes recipe question answer "
    "market growth risk design review model data search index archive video audio episode "
    "interview guest story history city river music concert lecture students chapter results"
).split()


@dataclass(frozen=True)
class Item:
    """One media item and the rows of the vector matrix that belong to it."""

    media: dict[str, Any]
    rows: range


class Archive:
    """N records of one dimension spread over media items, their vectors and their ids."""

    def __init__(self, rows: int, dim: int, items: int, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.dim = dim
        self.vectors = unit_rows(self.rng.standard_normal((rows, dim), dtype=np.float32))
        bounds = np.linspace(0, rows, items + 1).astype(int)
        self.items = [
            Item(_media(i, int(b - a) // 2 * SEGMENT_SEC + SEGMENT_SEC), range(a, b))
            for i, (a, b) in enumerate(itertools.pairwise(bounds))
        ]
        # Even rows are text chunks, odd rows audio segments, in every item.
        self.modality = np.array(["text", "audio"] * (rows // 2 + 1))[:rows]
        self.ids = [""] * rows
        for item in self.items:
            for row in item.rows:
                self.ids[row] = record_id(item.media["id"], *self._span(item, row), MODEL)
        self.row_of = {record: row for row, record in enumerate(self.ids)}

    def records(self, item: Item) -> list[EmbeddingRecord]:
        """The records of an item as the pipeline would build them; the same every time."""
        out = []
        for row in item.rows:
            modality, start, end = self._span(item, row)
            words = [WORDS[(row * 7 + j * 13) % len(WORDS)] for j in range(12 + row % 9)]
            text = " ".join(words).capitalize() + "."
            out.append(
                EmbeddingRecord(
                    id=self.ids[row],
                    media=item.media,
                    modality=modality,
                    start_sec=start,
                    end_sec=end,
                    text=text,
                    tokens=len(words) + 3,
                    model_name=MODEL,
                    dim=self.dim,
                    embedding=self.vectors[row].tolist(),
                    embedded_from="transcript" if modality == "audio" else None,
                )
            )
        return out

    def exact(self, query: np.ndarray, k: int, modality: str | None) -> list[str]:
        """The ids of the k records nearest to query by cosine similarity, best first."""
        scores = self.vectors @ (query / np.linalg.norm(query))
        if modality is not None:
            scores = np.where(self.modality == modality, scores, -np.inf)
        top = np.argpartition(-scores, k)[:k]
        return [self.ids[i] for i in top[np.argsort(-scores[top])]]

    def cosine(self, query: np.ndarray, record: str) -> float:
        """The exact cosine similarity of query and a stored record, by id."""
        return float(self.vectors[self.row_of[record]] @ (query / np.linalg.norm(query)))

    def random_query(self) -> np.ndarray:
        return unit_rows(self.rng.standard_normal((1, self.dim), dtype=np.float32))[0]

    def _span(self, item: Item, row: int) -> tuple[Modality, float, float]:
        step = (row - item.rows.start) // 2
        start = step * SEGMENT_SEC
        if row % 2 == 0:
            return "text", start + 0.4, start + 8.9
        return "audio", start, start + SEGMENT_SEC


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _media(i: int, duration: float) -> dict[str, Any]:
    """Media fields of the three kinds of source: local files, plain URLs, podcast episodes."""
    kind = ("local", "url", "podcast")[i % 3]
    uri = (
        f"file:///archive/video/meeting-{i:03d}.mp4",
        f"https://media.example.org/talks/talk-{i:03d}.mp4",
        f"https://feeds.example.org/show/audio/{i:03d}.mp3",
    )[i % 3]
    title = f"{('Team meeting', 'Conference talk', 'Episode')[i % 3]} {i:03d}"
    media = {"id": stable_id(uri), "uri": uri, "title": title, "source": kind}
    media["duration_sec"] = duration
    if kind == "podcast":
        media["guid"] = f"urn:example:show:episode-{i:03d}"
        media["id"] = stable_id(media["guid"])
        media["published"] = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T06:00:00+00:00"
    return media
