"""Word error rate of a transcript against what the benchmark input says, on normalised text
(lower case, letters, digits and apostrophes only), so punctuation and case never count."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jiwer


def normal(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def wer(reference: str, heard: str) -> float:
    return round(float(jiwer.wer(normal(reference), normal(heard))), 4)


def records_text(jsonl: Path) -> str:
    """The text records of an ingest's JSONL output, in time order: what vtembed heard."""
    found = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    text = sorted(
        (r for r in found if r["modality"] == "text"), key=lambda r: (r["start_sec"], r["end_sec"])
    )
    return " ".join(r["text"] for r in text)
