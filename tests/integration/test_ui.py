"""`vtembed ui` on a real store: Range byte for byte, media only by the store's ids, the token
rules, server-rendered results. A LanceDB store built here (real MiniLM vectors, no Whisper),
served through FastAPI's TestClient; a real `vtembed ui` process and the demo video are slow.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from vtembed.api.app import Vtembed
from vtembed.api.searching import embed_query
from vtembed.models import EmbeddingRecord, record_id
from vtembed.plugins.sinks.lancedb import LanceDbSink
from vtembed.ui.app import create_app

ROOT = Path(__file__).resolve().parents[2]
MODEL, DIM = "all-MiniLM-L6-v2", 384
TOKEN = "ui-s3cret-token"
LOCAL = "http://127.0.0.1:8766"
CLIP_ID, TALK_ID, REMOTE_ID = "c" * 32, "d" * 32, "e" * 32
REMOTE_URI = "https://media.example.org/shows/ep1.mp3"
SPOKEN = {
    CLIP_ID: [(0.0, "A man is walking his dog across the street."),
              (12.0, "The rocket rose into the sky & the crowd <cheered>.")],
    TALK_ID: [(3.0, "My sister cooks pasta in the kitchen with garlic and basil.")],
    REMOTE_ID: [(5.0, "The weather tomorrow will be sunny and warm.")],
}  # fmt: skip


def _record(media_id: str, uri: str, title: str, start: float, text: str, vector: list[float]):
    return EmbeddingRecord(
        id=record_id(media_id, "text", start, start + 8, MODEL),
        media={"id": media_id, "uri": uri, "title": title, "source": "local", "duration_sec": 30.0},
        modality="text", start_sec=start, end_sec=start + 8, text=text, tokens=12,
        model_name=MODEL, dim=DIM, embedding=vector,
    )  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    """A LanceDB store of three items: a local "video" (random bytes: Range needs no codec), a
    local audio file, a remote-only URL; the video has a thumbnail in the store's frames."""
    base = tmp_path_factory.mktemp("ui")
    clip, talk = base / "media" / "clip one.mp4", base / "media" / "talk.wav"
    clip.parent.mkdir()
    clip.write_bytes(os.urandom(300_000))
    talk.write_bytes(os.urandom(1000))
    (base / "secret.txt").write_text("not media")
    vt, local = Vtembed(), Vtembed().registry.embedder("local")
    uris = {CLIP_ID: clip.as_uri(), TALK_ID: talk.as_uri(), REMOTE_ID: REMOTE_URI}
    titles = {CLIP_ID: "clip one", TALK_ID: "talk", REMOTE_ID: "episode 1"}
    records = [
        _record(mid, uris[mid], titles[mid], start, text, embed_query(text, local(vt.settings())))
        for mid, lines in SPOKEN.items()
        for start, text in lines
    ]
    db = base / "archive.lance"
    LanceDbSink(str(db), model_name=MODEL, dim=DIM).write(records)
    for folder in (CLIP_ID, "f" * 32):  # the second: a folder no record names
        (base / "archive.lance.frames" / folder).mkdir(parents=True)
        thumb = base / "archive.lance.frames" / folder / "shot-0000-0ms.thumb.jpg"
        thumb.write_bytes(b"\xff\xd8\xff\xe0 a tiny jpeg \xff\xd9")
    return {"db": db, "clip": clip, "base": base}


@pytest.fixture(scope="module")
def client(store: dict) -> Iterator[TestClient]:
    app = create_app(Vtembed(), sink=f"lancedb:{store['db']}")
    with TestClient(app, base_url=LOCAL) as c:
        yield c


def test_range_answers_exact_bytes(client: TestClient, store: dict) -> None:
    data = store["clip"].read_bytes()
    size = len(data)
    whole = client.get(f"/media/{CLIP_ID}")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "video/mp4"
    for header, first, last in [
        ("bytes=0-0", 0, 0),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=299000-", 299000, size - 1),
        ("bytes=-500", size - 500, size - 1),
        ("bytes=250000-999999999", 250000, size - 1),  # a last byte past the end is cut
    ]:
        got = client.get(f"/media/{CLIP_ID}", headers={"Range": header})
        assert got.status_code == 206, header
        assert got.content == data[first : last + 1], header
        assert got.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert got.headers["content-length"] == str(last - first + 1)
    head = client.head(f"/media/{CLIP_ID}", headers={"Range": "bytes=10-19"})
    assert head.status_code == 206 and head.headers["content-length"] == "10" and not head.content
    ignored = client.get(f"/media/{CLIP_ID}", headers={"Range": "bytes=0-1,5-9"})
    assert ignored.status_code == 200 and ignored.content == data  # several ranges: the whole


def test_range_past_the_end_is_416(client: TestClient, store: dict) -> None:
    size = store["clip"].stat().st_size
    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        got = client.get(f"/media/{CLIP_ID}", headers={"Range": header})
        assert got.status_code == 416, header
        assert got.headers["content-range"] == f"bytes */{size}" and not got.content


@pytest.mark.parametrize(
    "path",
    [
        "/media/" + "0" * 32,  # an id the store does not hold
        "/media/..%2F..%2F..%2Fetc%2Fpasswd",
        "/media/%2Fetc%2Fpasswd",
        "/media/..%2Fsecret.txt",
        f"/media/{REMOTE_ID}",  # remote only: linked by the page, never proxied
        f"/thumb/{CLIP_ID}/..%2F..%2Fsecret.txt",
        f"/thumb/{CLIP_ID}/secret.txt",
        f"/thumb/..%2F{CLIP_ID}/shot-0000-0ms.thumb.jpg",
        f"/thumb/{'f' * 32}/shot-0000-0ms.thumb.jpg",  # on disk, but no record names it
        f"/thumb/{CLIP_ID}/shot-0001-5000ms.thumb.jpg",
        "/api/media/" + "0" * 32,
        "/api/transcript/" + "0" * 32,
    ],
)
def test_unknown_ids_and_paths_are_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_thumbnail_from_the_frames_folder(client: TestClient) -> None:
    got = client.get(f"/thumb/{CLIP_ID}/shot-0000-0ms.thumb.jpg")
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert got.content.startswith(b"\xff\xd8")


def test_results_are_rendered_on_the_server(client: TestClient) -> None:
    page = client.get("/", params={"q": "a man walking a dog", "modality": "all", "k": 3})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    cards = re.findall(r'<a class="card".*?</a>', page.text, re.S)
    assert cards, page.text
    first = cards[0]
    assert f'data-media="{CLIP_ID}"' in first and "clip one" in first
    assert f'src="/thumb/{CLIP_ID}/shot-0000-0ms.thumb.jpg"' in first
    assert "<mark>man</mark> is <mark>walking</mark> his <mark>dog</mark>" in first
    assert "00:00\u201300:08" in first and "clip one.mp4" in first
    assert 'value="a man walking a dog"' in page.text  # the box keeps the query
    assert '<option value="hybrid" selected>' in page.text  # `vtembed search`'s default
    vector = client.get("/", params={"q": "a man walking a dog", "mode": "vector"}).text
    assert '<option value="vector" selected>' in vector and "mode=vector&amp;play=" in vector
    pasta = client.get("/", params={"q": "cooking pasta in the kitchen"}).text
    talk = re.findall(r'<a class="card".*?</a>', pasta, re.S)[0]
    assert f'data-media="{TALK_ID}"' in talk
    assert 'aria-label="audio"' in talk and "<img" not in talk  # audio only: the icon


def test_text_is_escaped_before_marking(client: TestClient) -> None:
    page = client.get("/", params={"q": "rocket crowd cheered", "media": CLIP_ID}).text
    assert "&lt;<mark>cheered</mark>&gt;" in page and "<cheered>" not in page
    assert "sky &amp; the <mark>crowd</mark>" in page
    hostile = client.get("/", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert" not in hostile and "&lt;script&gt;alert(1)" in hostile


def test_bookmarked_moment_renders_player_and_transcript(client: TestClient) -> None:
    page = client.get("/", params={"q": "rocket", "play": CLIP_ID, "t": "12"}).text
    assert f'<video id="player" controls preload="metadata" src="/media/{CLIP_ID}#t=12.0"' in page
    transcript = page.split('id="transcript"', 1)[1].split("</ol>", 1)[0]
    assert "<mark>rocket</mark> rose" in transcript and "walking his dog" in transcript
    audio = client.get("/", params={"play": TALK_ID, "t": "3"}).text
    assert '<audio id="player"' in audio
    remote = client.get("/", params={"play": REMOTE_ID}).text
    assert f'src="{REMOTE_URI}#t=0.0"' in remote and f'href="{REMOTE_URI}"' in remote
    assert "holds no media" in client.get("/", params={"play": "nope"}).text


def test_json_api(client: TestClient) -> None:
    found = client.get("/api/search", params={"q": "pasta with garlic", "k": 2}).json()
    assert found["model_name"] == MODEL and found["hits"][0]["media_id"] == TALK_ID
    assert "<mark>garlic</mark>" in found["hits"][0]["text_html"]
    assert "embedding" not in found["hits"][0]["record"]
    only = client.get("/api/search", params={"q": "pasta", "modality": "audio"}).json()
    assert only["hits"] == []
    assert client.get("/api/search", params={"q": "  "}).status_code == 400
    vector = client.get("/api/search", params={"q": "pasta", "mode": "vector"}).json()
    assert vector["mode"] == "vector" and vector["hits"][0]["media_id"] == TALK_ID
    assert "mode=vector" in vector["hits"][0]["href"]
    assert client.get("/api/search", params={"q": "pasta", "mode": "nope"}).status_code == 400
    item = client.get(f"/api/media/{CLIP_ID}").json()
    assert item["counts"] == {"text": 2} and item["kind"] == "video"
    assert item["play_url"] == f"/media/{CLIP_ID}" and item["local"] is True
    remote = client.get(f"/api/media/{REMOTE_ID}").json()
    assert remote["play_url"] == REMOTE_URI and remote["remote"] is True
    near = client.get(f"/api/transcript/{CLIP_ID}", params={"t": 1, "window": 5}).json()
    assert [line["start_sec"] for line in near["lines"]] == [0.0]
    both = client.get(f"/api/transcript/{CLIP_ID}", params={"t": 1, "q": "dog"}).json()
    assert [line["start_sec"] for line in both["lines"]] == [0.0, 12.0]
    assert "<mark>dog</mark>" in both["lines"][0]["html"]
    archive = client.get("/api/archive").json()
    assert (archive["model_name"], archive["dim"], archive["embedder"]) == (MODEL, DIM, "local")
    assert sorted(i["title"] for i in archive["items"]) == ["clip one", "episode 1", "talk"]


def test_archive_page(client: TestClient) -> None:
    page = client.get("/archive").text
    assert MODEL in page and "384 dims" in page and "local" in page
    assert "clip one" in page and "episode 1" in page and "00:30" in page
    assert "4 text" in page  # records per modality over the archive


@pytest.mark.parametrize("host", ["localhost:8766", "127.0.0.1", "[::1]:8766", "LOCALHOST"])
def test_loopback_names_are_answered(client: TestClient, host: str) -> None:
    assert client.get("/archive", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example:8766", "192.168.1.5", "[fe80::1]", ""])
def test_other_host_names_are_refused_without_a_token(client: TestClient, host: str) -> None:
    """A page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) reads nothing."""
    for path in ("/archive", f"/media/{CLIP_ID}", "/api/archive"):
        assert client.get(path, headers={"host": host}).status_code == 421, (host, path)


def test_token_rules(store: dict) -> None:
    app = create_app(Vtembed(), sink=f"lancedb:{store['db']}", token=TOKEN)
    with TestClient(app) as c:
        for path in ("/", "/archive", f"/media/{CLIP_ID}", "/api/archive", "/static/ui.js"):
            assert c.get(path).status_code == 401, path
        assert c.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/", headers={"x-ui-token": TOKEN[:-1]}).status_code == 401
        assert c.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert c.get("/api/archive", headers={"x-ui-token": TOKEN}).status_code == 200
        assert c.get("/?token=wrong", follow_redirects=False).status_code == 401
        c.cookies.clear()
        bring = c.get(f"/?q=dog&token={quote(TOKEN)}", follow_redirects=False)
        assert bring.status_code == 303 and bring.headers["location"] == "/?q=dog"
        cookie = bring.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert c.get("/?q=dog").status_code == 200  # the cookie now carries it
        ranged = c.get(f"/media/{CLIP_ID}", headers={"Range": "bytes=0-9"})
        assert ranged.status_code == 206 and len(ranged.content) == 10


def test_other_host_needs_a_token(store: dict, vtembed) -> None:  # type: ignore[no-untyped-def]
    run = vtembed("ui", "--sink", f"lancedb:{store['db']}", "--host", "0.0.0.0")
    assert run.code == 2 and "VTEMBED_UI_TOKEN" in run.err and run.err.count("\n") == 1
    empty = vtembed("ui", "--sink", f"lancedb:{store['base'] / 'none.lance'}", "--port", "0")
    assert empty.code == 2 and "holds no records yet" in empty.err


@pytest.mark.slow  # starts a server process
def test_a_real_server_process(store: dict) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VTEMBED_")}
    cmd = ["ui", "--sink", f"lancedb:{store['db']}", "--host", "0.0.0.0", "--port", "0"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtembed", *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**env, "VTEMBED_UI_TOKEN": TOKEN},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", banner)
        assert match and "token required" in banner and TOKEN not in banner, banner
        base = match.group(0)
        assert httpx.get(base).status_code == 401
        asked = {"Range": "bytes=5-14", "x-ui-token": TOKEN}
        got = httpx.get(f"{base}media/{CLIP_ID}", headers=asked)
        assert got.status_code == 206 and got.content == store["clip"].read_bytes()[5:15]
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    assert proc.stderr is not None and "vtembed ui: stopped" in proc.stderr.read()


@pytest.mark.slow  # runs Whisper
def test_the_demo_video_is_found(tmp_path: Path, tools: None, vtembed) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "archive.lance"
    run = vtembed("ingest", str(ROOT / "examples" / "media"), "--sink", f"lancedb:{db}")
    assert run.code == 0, run.text
    with TestClient(create_app(Vtembed(), sink=f"lancedb:{db}"), base_url=LOCAL) as c:
        start = time.monotonic()
        page = c.get("/?q=a+man+walking+a+dog&modality=all")
        assert page.status_code == 200 and time.monotonic() - start < 30
    first = re.findall(r'<a class="card".*?</a>', page.text, re.S)[0]
    assert "vtembed-demo" in first and "vtembed-demo.mp4" in first
    assert "<mark>walking</mark> his <mark>dog</mark>" in first
    best = Vtembed().search("a man walking a dog", sink=f"lancedb:{db}").hits[0]
    assert f'data-media="{best.media_id}"' in first
    if best.thumbnail is not None:  # the shot's keyframe, when ingest kept one
        assert f'<img src="/thumb/{best.media_id}/{Path(best.thumbnail).name}"' in first
    else:
        assert 'aria-label="video"' in first
