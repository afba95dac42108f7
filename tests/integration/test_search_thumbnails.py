"""Search hits name the thumbnail of the shot on screen: an image hit its own shot's, a spoken
hit in a video the shot shown while it was said; audio-only media have none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import media_factory as mf

pytestmark = pytest.mark.slow  # runs Whisper and OCR


def test_hits_print_and_return_their_shots_thumbnail(tmp_path: Path, tools: None, vtembed) -> None:  # type: ignore[no-untyped-def]
    media = tmp_path / "media"
    video = mf.shots_video(media, "slides", size="1280x720", speech=mf.SPEECH_TEXT)
    mf.speech_media(media, "talk", "wav", text=mf.OTHER_TEXT)
    out = tmp_path / "e.jsonl"
    run = vtembed("ingest", str(media), "--sink", f"jsonl:{out}")
    assert run.code == 0, run.text

    found = vtembed("search", "welcome to this lecture", "--sink", f"jsonl:{out}", "--json")
    assert found.code == 0, found.text
    hits = json.loads(found.out)
    image = next(h for h in hits if h["modality"] == "image")
    assert image["text"] == "Welcome to the lecture"
    thumb = Path(image["thumbnail"])
    assert thumb.is_file() and thumb.parent.parent == tmp_path / "e.jsonl.frames"
    assert thumb.name.endswith(f"-{round(video.cuts[1] * 1000)}ms.thumb.jpg")
    for hit in hits:
        if hit["media"]["title"] == "talk":
            assert "thumbnail" not in hit  # a wav has no pictures
        else:  # the shot that was on screen when it was said: the last to start by then
            starts = [0.0, *video.cuts]
            on_screen = max(i for i, s in enumerate(starts) if s <= hit["start_sec"] + 0.5)
            assert Path(hit["thumbnail"]).name.startswith(f"shot-{on_screen:04d}-"), hit

    printed = vtembed(
        "search", "welcome to this lecture", "--sink", f"jsonl:{out}", "--modality", "image"
    )
    assert printed.code == 0, printed.text
    first = printed.out.split("\n\n")[0].splitlines()
    assert first[-1].strip() == f"thumbnail: {thumb}", printed.out
