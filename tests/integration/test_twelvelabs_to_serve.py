"""Both sides of our own wire: vtembed's TwelveLabs embedder against a real `vtembed serve`, so
one machine can serve embeddings to others. The client learns the served model's limits from
the server, stops before any work when asked for another model, and reads pictures as the
served (OCR) embedder would, so a textless keyframe is no request instead of a 400."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests import media_factory as mf
from tests.conftest import records
from tests.integration.test_serve import MODEL, Server, start_server, stop_server
from vtembed.plugins.embedders import minilm

pytestmark = pytest.mark.slow  # starts a server and runs Whisper


@pytest.fixture(scope="module")
def server(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    minilm.convert(cache_dir)  # once here, not in the server's start-up
    s = start_server(tmp_path_factory.mktemp("serve-for-clients"), cache_dir)
    yield s
    stop_server(s)


def _client(server: Server, *args: str) -> tuple[str, ...]:
    return (*args, "--embedder", "twelvelabs", "--twelvelabs-base-url", f"{server.base}/v1.3")


def test_ingest_through_a_served_model_gives_its_vectors(
    server: Server, tmp_path: Path, cache_dir: Path, tools: None, vtembed
) -> None:  # type: ignore[no-untyped-def]
    media = tmp_path / "media"
    mf.shots_video(media, "slides", size="1280x720", speech=mf.SPEECH_TEXT)
    out = tmp_path / "served.jsonl"
    env = {"TWELVELABS_API_KEY": "any"}
    wrong = vtembed(*_client(server, "ingest", str(media), "--sink", f"jsonl:{out}"), env=env)
    assert wrong.code == 2, wrong.text
    assert f"serves {MODEL}, not Marengo-retrieval-2.7: add --model {MODEL}" in wrong.err
    assert "transcrib" not in wrong.err and not out.exists()

    run = vtembed(
        *_client(server, "ingest", str(media), "--model", MODEL, "--sink", f"jsonl:{out}"), env=env
    )
    assert run.code == 0, run.text
    recs = records(out)
    assert max(Counter(r["id"] for r in recs).values()) == 1
    kinds = Counter(r["modality"] for r in recs)
    shown = sum(1 for text in mf.SHOTS if text[2])
    assert kinds["text"] >= 1 and kinds["audio"] >= 1 and kinds["image"] == shown
    encoder = minilm.MiniLMEncoder(minilm.convert(cache_dir))
    for r in recs:
        assert (r["model_name"], r["dim"]) == (MODEL, 384)
        if r["modality"] in ("text", "image"):  # the server embedded exactly this text
            assert np.allclose(r["embedding"], encoder.embed([r["text"]])[0], atol=1e-4), r
        if r["modality"] == "image":
            assert r["embedded_from"] == "ocr" and r["text"]
        if r["modality"] == "audio":
            assert r["embedded_from"] == "transcript"

    found = vtembed("search", "welcome to this lecture", "--sink", f"jsonl:{out}")
    assert found.code == 0 and "Welcome to the lecture" in found.out, found.text
