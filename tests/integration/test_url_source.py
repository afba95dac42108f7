"""The http(s) source against a real server on 127.0.0.1: records for good URLs, one clear line
per bad one, no second download on a rerun, and a killed download resumed with Range."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import media_factory as mf
from tests.conftest import records
from tests.http_media_server import LAST_MODIFIED, MediaServer, Route
from vtembed.downloads import download
from vtembed.errors import MediaError
from vtembed.plugin_manager import build_manager
from vtembed.plugins.sources.url import UrlSource, title_for
from vtembed.registry import build_registry
from vtembed.settings import Settings, load_settings
from vtembed.source import Failed

pytestmark = pytest.mark.slow  # runs Whisper or starts servers

SPOKEN = "walking his dog"
FAST = {"VTEMBED_URL__STALL_SEC": "2", "VTEMBED_URL__BACKOFF_MAX_SEC": "0.5"}


@pytest.fixture(scope="module")
def body(tmp_path_factory: pytest.TempPathFactory, tools: None) -> bytes:
    folder = tmp_path_factory.mktemp("served")
    return mf.speech_media(folder, "talk", "mp4", text=mf.DEMO_TEXT).read_bytes()


@pytest.fixture
def server() -> Iterator[MediaServer]:
    srv = MediaServer().start()
    yield srv
    srv.stop()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"VTEMBED_URL__CACHE_DIR": str(tmp_path / "downloads"), **FAST, **extra}


def _by_uri(path: Path) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for record in records(path):
        found.setdefault(record["media"]["uri"], []).append(record)
    return found


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def test_good_urls_give_records_and_a_rerun_downloads_nothing(  # type: ignore[no-untyped-def]
    tmp_path: Path, body: bytes, server: MediaServer, vtembed
) -> None:
    etag = '"v1"'
    urls = {
        "talk": server.add("/media/talk.mp4", Route(body, etag=etag)),
        "moved": server.add("/old/moved.mp4", Route(redirect_to="/media/talk.mp4")),
        mf.UNICODE_NAME: server.add(f"/media/{mf.UNICODE_NAME}.mp4", Route(body, etag=etag)),
        "東京 talk": server.add(
            "/download",
            Route(body, disposition="attachment; filename*=UTF-8''%E6%9D%B1%E4%BA%AC%20talk.mp4"),
        ),
        "flaky": server.add("/flaky.mp4", Route(body, etag=etag, fail_first=2)),
        "slow": server.add("/slow.mp4", Route(body, etag=etag, trickle=(16_384, 0.7))),
        "dropped": server.add("/dropped.mp4", Route(body, etag=etag, drop_first=1)),
        "nohead": server.add(
            "/nohead.mp4", Route(body, last_modified=LAST_MODIFIED, head_status=405)
        ),
    }
    out = tmp_path / "out.jsonl"
    run = vtembed("ingest", *urls.values(), "--sink", f"jsonl:{out}", env=_env(tmp_path))
    assert run.code == 0, run.text
    assert not _errors(run.err) and "Traceback" not in run.text
    found = _by_uri(out)
    assert set(found) == set(urls.values())
    for title, url in urls.items():
        texts = [r for r in found[url] if r["modality"] == "text"]
        assert texts and SPOKEN in " ".join(r["text"] for r in texts).lower(), (title, texts)
        assert {(r["media"]["title"], r["media"]["source"]) for r in found[url]} == {(title, "url")}
    assert server.gets["/flaky.mp4"] == 3  # two 503s, then the body
    half = len(body) // 2
    resumed = server.ranges["/dropped.mp4"]
    assert resumed[0] is None and resumed[1] is not None and len(resumed) == 2
    assert 0 < int(resumed[1].removeprefix("bytes=").rstrip("-")) <= half
    assert not list((tmp_path / "downloads").glob("*/*.part"))

    gets = dict(server.gets)
    again = vtembed("ingest", *urls.values(), "--sink", f"jsonl:{out}", env=_env(tmp_path))
    assert again.code == 0 and again.summary["items"]["done_before"] == len(urls), again.text
    assert dict(server.gets) == gets  # done and unchanged (HEAD says so): no GET at all
    other = tmp_path / "other.jsonl"
    cached = vtembed("ingest", *urls.values(), "--sink", f"jsonl:{other}", env=_env(tmp_path))
    assert cached.code == 0 and len(records(other)) == len(records(out)), cached.text
    assert dict(server.gets) == gets  # a new sink reads the cached downloads


def test_bad_urls_give_one_clear_line_each(  # type: ignore[no-untyped-def]
    tmp_path: Path, body: bytes, server: MediaServer, vtembed
) -> None:
    good = server.add("/good.mp4", Route(body, etag='"g"'))
    server.add("/loop/b", Route(redirect_to="/loop/a"))
    bad = {
        server.add("/missing.mp4", Route(status=404)): "HTTP 404 Not Found",
        server.add("/gone.mp4", Route(body, etag='"x"', status=403)): "HTTP 403 Forbidden",
        server.add("/loop/a", Route(redirect_to="/loop/b")): "redirect loop at ",
        server.add(
            "/page.mp4", Route(b"\n<!DOCTYPE html><html><body>Sign in</body></html>", etag='"p"')
        ): "the server sent an HTML page, not media",
        server.add("/noise.mp4", Route(os.urandom(50_000), etag='"n"')): "not readable as media",
        server.add("/stall.mp4", Route(body, etag='"s"', stall_after=4096)): "stalled",
        "ftp://127.0.0.1/talk.mp4": "unsupported URL scheme 'ftp': only http and https",
        "s3://bucket/talk.mp4": "unsupported URL scheme 's3': only http and https",
    }
    out = tmp_path / "out.jsonl"
    started = time.monotonic()
    run = vtembed("ingest", good, *bad, "--sink", f"jsonl:{out}", env=_env(tmp_path))
    assert time.monotonic() - started < 120, "the run did not end within its timeouts"
    assert run.code == 1, run.text
    assert "Traceback" not in run.text
    errors = _errors(run.err)
    assert len(errors) == len(bad), run.err
    for url, cause in bad.items():
        mine = [line for line in errors if line.startswith(f"error: {url}: ")]
        assert len(mine) == 1 and cause in mine[0], (url, errors)
    assert set(_by_uri(out)) == {good}
    assert server.gets["/stall.mp4"] == 4  # retried (each resuming), then given up
    assert [r for r in server.ranges["/stall.mp4"][1:] if not r or not r.startswith("bytes=")] == []
    cached = {p.name for p in (tmp_path / "downloads").glob("*/media*")}
    assert cached == {"media.mp4", "media.mp4.part"}  # the good file and the stalled part only

    page_gets = server.gets["/page.mp4"]
    again = vtembed("ingest", good, *bad, "--sink", f"jsonl:{out}", env=_env(tmp_path))
    assert again.code == 1 and len(_errors(again.err)) == len(bad), again.text
    assert server.gets["/page.mp4"] == page_gets + 1  # an HTML body is never cached


def test_killed_download_resumes_with_range(  # type: ignore[no-untyped-def]
    tmp_path: Path, body: bytes, server: MediaServer, cache_dir: Path, vtembed
) -> None:
    url = server.add("/long.mp4", Route(body, etag='"k"', trickle=(8192, 0.25)))
    out = tmp_path / "out.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")}
    env |= {"VTEMBED_CACHE_DIR": str(cache_dir), **_env(tmp_path)}
    argv = [sys.executable, "-m", "vtembed", "ingest", url, "--sink", f"jsonl:{out}"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while server.sent["/long.mp4"] < len(body) // 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.sent["/long.mp4"] < len(body), "the download was not slow enough to kill"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    parts = list((tmp_path / "downloads").glob("*/media.mp4.part"))
    assert len(parts) == 1 and 0 < parts[0].stat().st_size < len(body)
    have = parts[0].stat().st_size

    run = vtembed("ingest", url, "--sink", f"jsonl:{out}", env=_env(tmp_path))
    assert run.code == 0, run.text
    assert server.ranges["/long.mp4"] == [None, f"bytes={have}-"]
    texts = [r for r in records(out) if r["modality"] == "text"]
    assert texts and SPOKEN in " ".join(r["text"] for r in texts).lower()
    assert all(r["media"]["uri"] == url for r in records(out))
    assert [p.read_bytes() == body for p in (tmp_path / "downloads").glob("*/media.mp4")] == [True]


# In-process checks of the pieces (no CLI run needed).


def _settings(tmp_path: Path, **url: object) -> Settings:
    sections = build_registry(build_manager()).settings_sections()
    config = {"cache_dir": str(tmp_path / "dl"), "backoff_max_sec": 0.2, **url}
    return load_settings({"url": config}, None, sections)


def test_accepts_http_and_claims_other_schemes_to_name_them() -> None:
    for locator in ("http://x/a.mp4", "https://x/a", "ftp://x/a.mp4", "s3://b/k"):
        assert UrlSource.accepts(locator), locator
    for locator in ("file:///tmp/a.mp4", "/tmp/a.mp4", "talks/*.mp4", "c:\\a.mp4"):
        assert not UrlSource.accepts(locator), locator
    assert UrlSource.priority == 10
    found = list(UrlSource(Settings()).discover("ftp://host/a.mp4"))  # type: ignore[call-arg]
    assert found == [
        Failed("ftp://host/a.mp4", "unsupported URL scheme 'ftp': only http and https")
    ]


def test_titles() -> None:
    none = httpx.Headers()
    assert title_for("http://h/a/caf%C3%A9%20d%C3%A9j%C3%A0.mp4?x=1", none) == "café déjà"
    assert title_for("http://h/a/talk", none) == "talk"
    assert title_for("http://h/", none) == "h"
    assert title_for("http://h/v1.2 notes", none) == "v1.2 notes"
    cd = httpx.Headers({"content-disposition": 'attachment; filename="../x/My Talk.mkv"'})
    assert title_for("http://h/dl?id=3", cd) == "My Talk"
    cd = httpx.Headers({"content-disposition": "inline; filename*=UTF-8''%C3%A9t%C3%A9.mp3"})
    assert title_for("http://h/dl", cd) == "été"


def test_too_large_and_too_many_redirects_are_not_cached(
    tmp_path: Path, body: bytes, server: MediaServer
) -> None:
    url = server.add("/big.mp4", Route(body, etag='"b"'))
    with pytest.raises(MediaError, match=r"larger than url.max_size_mb \(0.01 MiB\)"):
        download(url, _settings(tmp_path, max_size_mb=0.01))
    assert not list((tmp_path / "dl").glob("*/media*"))
    for i in range(3):
        server.add(f"/hop{i}", Route(redirect_to=f"/hop{i + 1}"))
    server.add("/hop3", Route(body))
    with pytest.raises(MediaError, match="more than 2 redirects"):
        download(server.url("/hop0"), _settings(tmp_path, max_redirects=2))
    assert download(server.url("/hop0"), _settings(tmp_path, max_redirects=3)).read_bytes() == body


def test_changed_body_restarts_from_zero_and_new_version_replaces_cache(
    tmp_path: Path, body: bytes, server: MediaServer
) -> None:
    route = Route(body, etag='"v1"', drop_first=1)
    url = server.add("/changing.mp4", route)
    with pytest.raises(MediaError, match=r"connection dropped .*gave up after 1 attempts"):
        download(url, _settings(tmp_path, max_attempts=1))
    assert list((tmp_path / "dl").glob("*/media.mp4.part"))
    route.etag = '"v2"'  # the part is of v1: If-Range fails, the server sends all of v2 (200)
    path = download(url, _settings(tmp_path))
    assert path.read_bytes() == body and server.ranges["/changing.mp4"][1].startswith("bytes=")
    assert server.sent["/changing.mp4"] == len(body) // 2 + len(body)
    assert download(url, _settings(tmp_path), '"v2"') == path and server.gets["/changing.mp4"] == 2
    route.etag = '"v3"'
    assert download(url, _settings(tmp_path), '"v3"').read_bytes() == body
    assert server.gets["/changing.mp4"] == 3  # a new validator means a new download
