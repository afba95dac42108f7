"""MILVUS_TOKEN against a real Milvus server that checks it (the PyPI Milvus 2.3 standalone with
authorization on): the right token ingests and searches, a wrong one stops the run with one line
and exit 2, and neither token ever shows in what the CLI prints.

Its own module, so its server starts after the other Milvus module's has stopped (this build
always takes the same two ports)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import media_factory as mf
from tests import milvus_server

pytestmark = pytest.mark.slow  # runs Whisper or starts servers

WRONG = "root:wrong-9c41e7"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from milvus_server.for_tests(tmp_path_factory.mktemp("milvus-auth"), authorization=True)


def test_the_token_opens_the_server_and_is_never_printed(
    server: str, tmp_path: Path, tools: None, vtembed
) -> None:  # type: ignore[no-untyped-def]
    media = tmp_path / "media"
    mf.speech_media(media, "dog walk", "wav", text=mf.DEMO_TEXT)
    sink = f"milvus:{server}"

    refused = vtembed("ingest", str(media), "--sink", sink, env={"MILVUS_TOKEN": WRONG})
    assert refused.code == 2, refused.text
    errors = [line for line in refused.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in refused.text, refused.text
    assert errors[0].startswith(f"error: sink {sink}: cannot connect")
    assert "token" in errors[0] and WRONG not in refused.text and "wrong-9c41e7" not in refused.text

    right = {"MILVUS_TOKEN": milvus_server.ROOT_TOKEN}
    ingested = vtembed("ingest", str(media), "--sink", sink, env=right)
    assert ingested.code == 0, ingested.text
    assert ingested.summary["records_written"] > 0
    found = vtembed("search", "a dog crossing the road", "--sink", sink, "--json", env=right)
    assert found.code == 0, found.text
    assert json.loads(found.out)[0]["media"]["title"] == "dog walk"
    for run in (ingested, found):
        assert milvus_server.ROOT_TOKEN not in run.text
    assert milvus_server.ROOT_TOKEN not in json.dumps(ingested.summary)
