"""`fetch_captions` against a real server on 127.0.0.1: SRT, WebVTT and Podcasting JSON read
into cues at their times, and every way a transcript URL fails is one `CaptionError` line that
names the URL without its query (where tokens live)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http_media_server import MediaServer, Route
from vtembed.captions import CaptionError
from vtembed.feed_captions import fetch_captions, shown_url
from vtembed.models import MediaItem

SRT_CUES = [(1.25, 3.5, "Hello from the feed"), (62.0, 64.75, "Second cue")]
SRT = (
    "1\r\n00:00:01,250 --> 00:00:03,500\r\nHello from the <i>feed</i>\r\n\r\n"
    "2\r\n00:01:02,000 --> 00:01:04,750\r\nSecond cue\r\n"
)
VTT = (
    "WEBVTT\n\nNOTE made by hand\n\n00:00.500 --> 00:02.000\nFirst\n\n"
    "01:00:00.000 --> 01:00:01.125\nLate\n"
)
JSON_DOC = {
    "version": "1.0.0",
    "segments": [
        {"speaker": "A", "startTime": 0.25, "endTime": 1.5, "body": "Json one"},
        {"startTime": 2.0, "body": "no end time"},
        {"startTime": 3.75, "endTime": 4.0, "body": "last"},
    ],
}
SECRET = "?token=s3cr3t&sig=abc"


@pytest.fixture
def server() -> Iterator[MediaServer]:
    srv = MediaServer().start()
    srv.add("/t/ep.srt", Route(SRT.encode(), content_type="application/x-subrip"))
    srv.add("/t/ep.vtt", Route(VTT.encode(), content_type="text/vtt"))
    srv.add("/t/ep.json", Route(json.dumps(JSON_DOC).encode(), content_type="application/json"))
    srv.add("/t/moved.srt", Route(redirect_to="/t/ep.srt"))
    srv.add(
        "/t/noise.srt", Route(b"\x89PNG\r\n\x1a\n not captions at all", content_type="text/srt")
    )
    srv.add("/t/empty.vtt", Route(b"", content_type="text/vtt"))
    srv.add("/t/big.srt", Route(SRT.encode() * 400, content_type="application/x-subrip"))
    yield srv
    srv.stop()


def _item(url: str, kind: str | None = None) -> MediaItem:
    episode = "https://example.org/ep.mp3"
    return MediaItem("id", episode, "Ep", "podcast", transcript_url=url, transcript_type=kind)


def _times(item: MediaItem, **kwargs: float) -> list[tuple[float, float, str]]:
    return [(c.start_sec, c.end_sec, c.text) for c in fetch_captions(item, **kwargs)]


def _close(got: list[tuple[float, float, str]], want: list[tuple[float, float, str]]) -> None:
    assert [t for _, _, t in got] == [t for _, _, t in want]
    for (start, end, _), (w_start, w_end, _) in zip(got, want, strict=True):
        assert start == pytest.approx(w_start, abs=0.01) and end == pytest.approx(w_end, abs=0.01)


def _error(item: MediaItem, **kwargs: float) -> str:
    with pytest.raises(CaptionError) as caught:
        fetch_captions(item, **kwargs)
    line = str(caught.value)
    assert "\n" not in line and "token" not in line and "s3cr3t" not in line, line
    return line


def test_srt_vtt_and_json_from_the_server_are_cues_at_their_times(server: MediaServer) -> None:
    _close(_times(_item(server.url("/t/ep.srt") + SECRET, "application/x-subrip")), SRT_CUES)
    _close(_times(_item(server.url("/t/moved.srt"), "application/srt")), SRT_CUES)  # redirected
    vtt = [(0.5, 2.0, "First"), (3600.0, 3601.125, "Late")]
    _close(_times(_item(server.url("/t/ep.vtt"), "text/vtt")), vtt)
    json_cues = [(0.25, 1.5, "Json one"), (2.0, 3.75, "no end time"), (3.75, 4.0, "last")]
    _close(_times(_item(server.url("/t/ep.json"), "application/json")), json_cues)


def test_the_extension_is_the_hint_when_the_type_is_none_we_read(server: MediaServer) -> None:
    """WebVTT without its header is sniffed as SRT, where a cue identifier is text: only the
    `.vtt` of the URL says otherwise…"""
    headless = "00:00.500 --> 00:02.000\nFirst\n\nintro\n00:03.000 --> 00:04.000\nSecond\n"
    server.add("/t/headless.vtt", Route(headless.encode(), content_type="text/plain"))
    got = _times(_item(server.url("/t/headless.vtt") + SECRET, "application/octet-stream"))
    _close(got, [(0.5, 2.0, "First"), (3.0, 4.0, "Second")])
    # …and a hint that is wrong gives the reader's own line, naming the URL.
    line = _error(_item(server.url("/t/ep.vtt") + SECRET, "application/json"))
    assert line.startswith(f"{server.url('/t/ep.vtt')}: cannot read JSON transcript captions: ")


def test_a_404_is_one_line_naming_the_url_without_its_query(server: MediaServer) -> None:
    url = server.url("/t/gone.srt")
    line = _error(_item(url + SECRET, "application/x-subrip"))
    assert line == f"{url}: cannot fetch captions: HTTP 404 Not Found"


def test_a_refused_connection_and_an_unknown_host_are_one_line_each() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    url = f"http://127.0.0.1:{port}/t/ep.srt"
    line = _error(_item(url + SECRET, "text/srt"))
    assert line.startswith(f"{url}: cannot fetch captions: ") and "refused" in line, line
    url = "http://captions.invalid/ep.vtt"  # .invalid never resolves (RFC 6761)
    line = _error(_item(f"http://user:pw@captions.invalid/ep.vtt{SECRET}", "text/vtt"))
    assert line.startswith(f"{url}: cannot fetch captions: ") and "pw" not in line, line


def test_an_oversize_body_is_refused_declared_or_not(server: MediaServer) -> None:
    url = server.url("/t/big.srt")
    size = len(SRT.encode()) * 400
    line = _error(_item(url + SECRET), max_bytes=4096)
    assert line == f"{url}: cannot fetch captions: {size} bytes, over the limit of 4096 bytes"
    assert _error(_item(url), max_bytes=size - 1).endswith(f"over the limit of {size - 1} bytes")
    assert fetch_captions(_item(url), max_bytes=size)[0].start_sec == pytest.approx(1.25)
    body = b"1\n00:00:01,000 --> 00:00:02,000\n" + b"x" * 3 * 2**20
    with UndeclaredLength(body) as base:
        line = _error(_item(f"{base}/ep.srt{SECRET}"), max_bytes=2**20)
    assert line == f"{base}/ep.srt: cannot fetch captions: over the limit of 1 MiB"


def test_garbage_and_empty_bodies_are_one_line_each(server: MediaServer) -> None:
    noise = server.url("/t/noise.srt")
    line = _error(_item(noise + SECRET, "text/srt"))
    assert line.startswith(f"{noise}: cannot read "), line
    empty = server.url("/t/empty.vtt")
    assert _error(_item(empty, "text/vtt")) == f"{empty}: cannot read captions: the file is empty"


def test_a_trickling_server_is_given_up_on_at_the_deadline(server: MediaServer) -> None:
    """httpx's timeouts are per read: only the whole-exchange deadline ends this one."""
    url = server.add("/t/slow.srt", Route(SRT.encode(), trickle=(8, 0.1)))
    line = _error(_item(url + SECRET, "text/srt"), timeout_sec=0.5)
    assert line == f"{url}: cannot fetch captions: not complete within 0.5 s"


def test_local_files_and_what_is_no_transcript_url(tmp_path: Path) -> None:
    path = tmp_path / "ep one.srt"
    path.write_text(SRT, encoding="utf-8")
    _close(_times(_item(path.as_uri())), SRT_CUES)
    missing = (tmp_path / "nope.srt").as_uri()
    assert _error(_item(missing)) == f"{missing}: cannot read captions: No such file or directory"
    ftp = "ftp://example.org/ep.srt"
    assert _error(_item(ftp)) == f"{ftp}: cannot fetch captions: not an http(s) or file URL"
    no_url = MediaItem("id", "https://example.org/ep.mp3", "Ep", "podcast")
    assert _error(no_url) == "https://example.org/ep.mp3: no transcript URL"


def test_shown_url_keeps_scheme_host_port_and_path_only() -> None:
    shown = shown_url("https://u:p@cdn.example.com:8443/a/b.srt?x=1#f")
    assert shown == "https://cdn.example.com:8443/a/b.srt"
    assert shown_url("http://[::1]:8080/t.vtt?a=1") == "http://[::1]:8080/t.vtt"


class UndeclaredLength:
    """A server that answers once with a body and no Content-Length (ended by closing), as a
    server streaming a generated file does: only counting the bytes can stop it."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.sock = socket.create_server(("127.0.0.1", 0))

    def __enter__(self) -> str:
        threading.Thread(target=self._serve, daemon=True).start()
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.recv(65536)
            with contextlib.suppress(OSError):  # the client stopped reading at its limit
                conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + self.body)
