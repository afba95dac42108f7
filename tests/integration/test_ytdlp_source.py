"""Page URLs through the optional yt-dlp source, against a real server on 127.0.0.1: a page that
embeds `<video src>` gives records that point at the page; plain media URLs stay with the URL
source; and without yt-dlp the plugin is listed as unavailable and pages fall back cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import media_factory as mf
from tests.conftest import records
from tests.http_media_server import MediaServer, Route
from vtembed.plugins.sources.ytdlp import YtDlpSource
from vtembed.settings import Settings
from vtembed.source import Decline, Failed

pytestmark = pytest.mark.slow  # runs Whisper or starts servers

pytest.importorskip("yt_dlp", reason="the test extra installs yt-dlp")

SPOKEN = "walking his dog"
TITLE = "A Talk About Dogs"
PAGE = (
    f"<!DOCTYPE html><html><head><title>{TITLE}</title></head><body>"
    '<h1>Watch</h1><video src="/media/talk.mp4" controls></video></body></html>'
).encode()
EMPTY_PAGE = b"<!DOCTYPE html><html><head><title>Nothing</title></head><body>hi</body></html>"
# Run the CLI with yt-dlp made unimportable, as in an install without the extra.
WITHOUT_YTDLP = (
    "import sys; sys.modules['yt_dlp'] = None; from vtembed.cli.app import main; "
    "sys.argv = ['vtembed', *sys.argv[1:]]; main()"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Iterator[MediaServer]:
    folder = tmp_path_factory.mktemp("served")
    body = mf.speech_media(folder, "talk", "mp4", text=mf.DEMO_TEXT).read_bytes()
    srv = MediaServer().start()
    srv.add("/media/talk.mp4", Route(body, etag='"t1"'))
    srv.add("/watch/page", Route(PAGE, content_type="text/html; charset=utf-8"))
    srv.add("/watch/empty", Route(EMPTY_PAGE, content_type="text/html"))
    yield srv
    srv.stop()


def _env(tmp_path: Path) -> dict[str, str]:
    return {"VTEMBED_URL__CACHE_DIR": str(tmp_path / "downloads")}


def test_page_url_gives_records_pointing_at_the_page(  # type: ignore[no-untyped-def]
    tmp_path: Path, server: MediaServer, vtembed
) -> None:
    page, media = server.url("/watch/page"), server.url("/media/talk.mp4")
    out = tmp_path / "out.jsonl"
    run = vtembed("ingest", page, media, "--sink", f"jsonl:{out}", env=_env(tmp_path))
    assert run.code == 0, run.text
    assert "Traceback" not in run.text
    found: dict[str, list[dict]] = {}
    for record in records(out):
        found.setdefault(record["media"]["uri"], []).append(record)
    assert set(found) == {page, media}
    assert {(r["media"]["source"], r["media"]["title"]) for r in found[page]} == {("ytdlp", TITLE)}
    assert {r["media"]["source"] for r in found[media]} == {"url"}
    texts = [r["text"] for r in found[page] if r["modality"] == "text"]
    assert texts and SPOKEN in " ".join(texts).lower()


def test_accepts_by_pattern_and_declines_what_is_no_html_page(server: MediaServer) -> None:
    assert YtDlpSource.accepts(server.url("/watch/page"))
    assert not YtDlpSource.accepts(server.url("/media/talk.mp4"))  # a media extension
    assert not YtDlpSource.accepts("ftp://127.0.0.1/watch/page")
    assert not YtDlpSource.accepts("/tmp/page")
    assert 10 < YtDlpSource.priority < 20
    heads = sum(server.heads.values())
    assert YtDlpSource.accepts(server.url("/missing")) and sum(server.heads.values()) == heads
    source = YtDlpSource(Settings())  # type: ignore[call-arg]
    with pytest.raises(Decline, match="HTTP 404"):  # 404: the URL source says why
        list(source.discover(server.url("/missing")))
    server.add("/media/bare", Route(b"\0" * 64, content_type="video/mp4"))
    with pytest.raises(Decline, match="not a web page"):
        list(source.discover(server.url("/media/bare")))
    source.close()


def test_page_without_media_is_one_failure(server: MediaServer) -> None:
    url = server.url("/watch/empty")
    found = list(YtDlpSource(Settings()).discover(url))  # type: ignore[call-arg]
    assert len(found) == 1 and isinstance(found[0], Failed), found
    reason = found[0].reason
    assert reason.startswith("yt-dlp could not find media on the page: "), reason
    assert "\n" not in reason and "Traceback" not in reason


def _without_ytdlp(tmp_path: Path, cache_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")}
    env |= {"VTEMBED_CACHE_DIR": str(cache_dir), **_env(tmp_path)}
    argv = [sys.executable, "-c", WITHOUT_YTDLP, *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)


def test_without_ytdlp_the_plugin_is_unavailable_and_pages_fall_back(
    tmp_path: Path, server: MediaServer, cache_dir: Path
) -> None:
    listing = _without_ytdlp(tmp_path, cache_dir, "plugins", "--json")
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    unavailable = [r for r in rows if r["kind"] == "unavailable"]
    assert len(unavailable) == 1 and ".[ytdlp]" in unavailable[0]["reason"], rows
    assert unavailable[0]["module"] == "vtembed.plugins.sources.ytdlp"
    sources = {r["name"] for r in rows if r["kind"] == "source"}
    assert {"local", "url", "podcast"} <= sources and "ytdlp" not in sources

    page = server.url("/watch/page")
    out = tmp_path / "out.jsonl"
    run = _without_ytdlp(tmp_path, cache_dir, "ingest", page, "--sink", f"jsonl:{out}")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: {page}: the server sent an HTML page, not media"], run.stderr
    assert records(out) == []
