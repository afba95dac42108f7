"""A feed's `podcast:transcript` end to end, as a user runs it: `vtembed ingest FEED` on a feed
served on 127.0.0.1 whose first episode has a working SRT (its records' text and times are the
captions', not Whisper's) and whose second names a transcript that is gone (Whisper transcribes
it, and one line says why, naming the URL without its token)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import media_factory as mf
from tests.conftest import records
from tests.http_media_server import MediaServer, Route

pytestmark = pytest.mark.slow  # runs Whisper and starts a server

# Two cues with a pause longer than max_pause_sec (2 s) between them: two text chunks, each at
# its cue's own times. Their words are not in the audio, so a record holding them came from
# the captions.
SRT = (
    "1\n00:00:01,000 --> 00:00:03,500\nThe lighthouse keeper rows across the harbour.\n\n"
    "2\n00:00:07,250 --> 00:00:09,750\nSeagulls circle above the fishing boats.\n"
)
CUES = [(1.0, 3.5), (7.25, 9.75)]
TOKEN = "?token=s3cr3t"


@pytest.fixture(scope="module")
def episodes(tmp_path_factory: pytest.TempPathFactory, tools: None) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("feed-transcript")
    with_srt = mf.speech_media(folder, "ep1", "mp3", text=mf.SPEECH_TEXT)
    gone = mf.speech_media(folder, "ep2", "mp3", text=mf.OTHER_TEXT)
    return {"ep1": with_srt.read_bytes(), "ep2": gone.read_bytes()}


@pytest.fixture
def server(episodes: dict[str, bytes]) -> Iterator[MediaServer]:
    srv = MediaServer().start()
    srv.add("/media/ep1.mp3", Route(episodes["ep1"], content_type="audio/mpeg", etag='"1"'))
    srv.add("/media/ep2.mp3", Route(episodes["ep2"], content_type="audio/mpeg", etag='"2"'))
    srv.add("/captions/ep1.srt", Route(SRT.encode(), content_type="application/x-subrip"))
    yield srv
    srv.stop()


def _feed(server: MediaServer, episodes: dict[str, bytes]) -> bytes:
    items = ""
    for guid, transcript in (("ep1", "/captions/ep1.srt"), ("ep2", f"/captions/gone.srt{TOKEN}")):
        items += (
            f"<item><title>Episode {guid}</title><guid>{guid}</guid>"
            f'<enclosure url="/media/{guid}.mp3" type="audio/mpeg"'
            f' length="{len(episodes[guid])}"/>'
            f'<podcast:transcript url="{transcript}" type="text/html"/>'
            f'<podcast:transcript url="{transcript}" type="application/x-subrip" rel="captions"/>'
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">'
        f"<channel><title>Harbour FM</title><language>en</language>{items}</channel></rss>"
    ).encode()


def test_a_feed_transcript_is_used_and_a_gone_one_falls_back_to_whisper(  # type: ignore[no-untyped-def]
    tmp_path: Path, episodes: dict[str, bytes], server: MediaServer, vtembed
) -> None:
    feed = server.add("/show/feed.xml", Route(_feed(server, episodes), "application/rss+xml"))
    out = tmp_path / "out.jsonl"
    env = {"VTEMBED_URL__CACHE_DIR": str(tmp_path / "downloads")}
    run = vtembed("ingest", feed, "--sink", f"jsonl:{out}", env=env)
    assert run.code == 0 and run.summary["items"]["ok"] == 2, run.text
    by_guid: dict[str, list[dict]] = {}
    for record in records(out):
        by_guid.setdefault(record["media"]["guid"], []).append(record)

    fed = by_guid["ep1"]
    assert fed and {r["transcript_source"] for r in fed} == {"feed"}
    texts = sorted((r for r in fed if r["modality"] == "text"), key=lambda r: r["start_sec"])
    assert len(texts) == len(CUES), texts
    for record, (start, end) in zip(texts, CUES, strict=True):
        assert record["start_sec"] == pytest.approx(start, abs=0.1)
        assert record["end_sec"] == pytest.approx(end, abs=0.1)
    assert "lighthouse keeper" in texts[0]["text"] and "Seagulls" in texts[1]["text"]
    assert server.gets["/captions/ep1.srt"] >= 1

    heard = by_guid["ep2"]
    assert heard and {r["transcript_source"] for r in heard} == {"whisper"}
    assert any("cat" in r["text"].lower() for r in heard if r["modality"] == "text")
    gone = server.url("/captions/gone.srt")
    lines = [line for line in run.text.splitlines() if gone in line]
    assert len(lines) == 1 and "404" in lines[0], run.text
    assert "s3cr3t" not in run.text
