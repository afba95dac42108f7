"""`vtembed serve` as a user runs it: a real server in a subprocess, the official TwelveLabs SDK
and plain HTTP against it, the real MiniLM and Whisper models and generated speech.

Two servers for the whole module: an open one with the defaults, and one that needs a key and
takes only 0.01 MB uploads.
"""

from __future__ import annotations

import functools
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from twelvelabs import TwelveLabs
from twelvelabs.errors import BadRequestError

from tests import media_factory as mf
from vtembed.clip_tokens import get_counter
from vtembed.embedder import Embeddable, Embedder
from vtembed.models import AudioSegment
from vtembed.plugins.embedders import minilm
from vtembed.server import create_app, fit_text
from vtembed.settings import ModelSpec, load_settings

pytestmark = pytest.mark.slow  # runs Whisper or starts servers

MODEL = "all-MiniLM-L6-v2"
KEY = "s3cret"
LONG_TEXT = " ".join([mf.SPEECH_TEXT] * 4)  # about 300 words, far over 77 tokens


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    out: Path
    err: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(cache_dir: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("VTEMBED_", "TWELVELABS"))}
    return {**keep, "VTEMBED_CACHE_DIR": str(cache_dir), **extra}


def start_server(directory: Path, cache_dir: Path, **env: str) -> Server:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    out, err = directory / "stdout.txt", directory / "stderr.txt"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vtembed", "serve", "--port", str(port)],
            stdout=o,
            stderr=e,
            env=server_env(cache_dir, **env),
        )
    server = Server(proc, port, out, err)
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            pytest.fail(f"vtembed serve exited with {proc.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.base}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            stop_server(server)
            pytest.fail(f"vtembed serve did not answer /healthz in 120 s:\n{server.output()}")
        time.sleep(0.2)


def stop_server(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            server.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


FETCHING = {"VTEMBED_SERVE__FETCH_URLS": "true", "VTEMBED_SERVE__FETCH_PRIVATE_URLS": "true"}


@pytest.fixture(scope="module")
def reference(cache_dir: Path) -> minilm.MiniLMEncoder:
    """The same model in this process; converting it here first also spares the servers."""
    return minilm.MiniLMEncoder(minilm.convert(cache_dir))


@pytest.fixture(scope="module")
def media(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("serve-media")
    mf.speech_wav(d / "speech.wav", mf.SPEECH_TEXT)
    mf.silent_media(d, "silent", 5.0, container="wav", video=False)
    mf.not_media(d / "notes.wav")
    return d


@pytest.fixture(scope="module")
def media_url(media: Path) -> Iterator[str]:
    """The media folder over HTTP, for `audio_url`."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(media))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.RequestHandlerClass.log_message = lambda *args: None  # type: ignore[method-assign]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def server(
    reference: minilm.MiniLMEncoder, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    # It fetches audio_url from the test's media server on 127.0.0.1 (off by default).
    s = start_server(tmp_path_factory.mktemp("serve-open"), cache_dir, **FETCHING)
    yield s
    stop_server(s)


@pytest.fixture(scope="module")
def guarded(
    reference: minilm.MiniLMEncoder, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    s = start_server(
        tmp_path_factory.mktemp("serve-guarded"),
        cache_dir,
        VTEMBED_SERVE_API_KEY=KEY,
        VTEMBED_SERVE__MAX_UPLOAD_MB="0.01",
        **FETCHING,
    )
    yield s
    stop_server(s)


@pytest.fixture
def sdk(server: Server, monkeypatch: pytest.MonkeyPatch) -> TwelveLabs:
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)  # the SDK prefers it to base_url
    return TwelveLabs(api_key="anything", base_url=f"{server.base}/v1.3")


def post(
    server: Server, files: dict[str, Any] | None = None, key: str | None = None, **fields: Any
):
    """Multipart always (httpx sends plain `data=` urlencoded), like the SDK and `curl -F`."""
    parts = {name: (None, str(value)) for name, value in fields.items()}
    headers = {"x-api-key": key} if key is not None else {}
    return httpx.post(
        f"{server.base}/v1.3/embed",
        files={**parts, **(files or {})},
        headers=headers,
        timeout=120,
    )


def cosine(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message"}, body
    if code is not None:
        assert body["code"] == code, body
    return str(body["message"])


# --- the official SDK --------------------------------------------------------------------------


def test_sdk_text_embedding(sdk: TwelveLabs, reference: minilm.MiniLMEncoder) -> None:
    text = "a man walks his dog"
    result = sdk.embed.create(model_name=MODEL, text=text)
    assert result.model_name == MODEL
    assert result.text_embedding is not None and result.text_embedding.segments
    vector = result.text_embedding.segments[0].float_
    assert vector is not None and len(vector) == 384
    assert cosine(vector, reference.embed([text])[0]) >= 0.999


def test_sdk_audio_embedding(
    sdk: TwelveLabs, server: Server, media: Path, reference: minilm.MiniLMEncoder
) -> None:
    wav = media / "speech.wav"
    duration = float(mf.probe(wav)["format"]["duration"])
    latencies: list[float] = []
    results: list[Any] = []

    def request() -> None:
        with wav.open("rb") as f:
            results.append(sdk.embed.create(model_name=MODEL, audio_file=f))

    worker = threading.Thread(target=request)
    worker.start()
    while worker.is_alive():  # transcription runs in a worker thread: /healthz stays quick
        t0 = time.monotonic()
        httpx.get(f"{server.base}/healthz", timeout=10).raise_for_status()
        latencies.append(time.monotonic() - t0)
        time.sleep(0.1)
    worker.join()
    assert max(latencies, default=0.0) < 1.0, latencies

    [result] = results
    audio = result.audio_embedding
    assert audio is not None and audio.segments and audio.error_message is None
    segments = audio.segments
    assert len(segments) >= 2
    assert [s.start_offset_sec for s in segments] == [10.0 * i for i in range(len(segments))]
    assert all(len(s.float_ or []) == 384 for s in segments)
    assert segments[-1].end_offset_sec == pytest.approx(duration, abs=0.05)
    assert audio.metadata is not None and audio.metadata.input_filename == "speech.wav"
    # Each vector is made from the words spoken in its segment.
    first, last = reference.embed(
        ["The sun came up over the small town.", "Everyone went inside to stay warm and dry."]
    )
    assert cosine(segments[0].float_, first) > cosine(segments[0].float_, last)
    assert cosine(segments[-1].float_, last) > cosine(segments[-1].float_, first)

    with wav.open("rb") as f:
        later = sdk.embed.create(model_name=MODEL, audio_file=f, audio_start_offset_sec=10)
    assert later.audio_embedding is not None and later.audio_embedding.segments
    starts = [s.start_offset_sec for s in later.audio_embedding.segments]
    assert starts == [10.0 + 10.0 * i for i in range(len(starts))]
    assert np.allclose(later.audio_embedding.segments[0].float_, segments[1].float_, atol=1e-5)


def test_sdk_sees_errors_as_bad_requests(sdk: TwelveLabs) -> None:
    with pytest.raises(BadRequestError) as caught:
        sdk.embed.create(model_name="Marengo-retrieval-2.7", text="a dog")
    assert MODEL in caught.value.body["message"]


# --- plain HTTP ------------------------------------------------------------------------------


def test_healthz(server: Server) -> None:
    response = httpx.get(f"{server.base}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "embedder": "local", "model_name": MODEL}


def test_startup_line(server: Server) -> None:
    out = server.out.read_text()
    assert f"http://127.0.0.1:{server.port}/v1.3" in out
    assert MODEL in out and "no API key required" in out and "curl" in out
    assert len(out.strip().splitlines()) == 1


def test_unknown_model(server: Server) -> None:
    message = assert_error(
        post(server, model_name="marengo3.0", text="a dog"), 400, "parameter_invalid"
    )
    assert f"known models: {MODEL}" in message


def test_text_over_the_limit(server: Server, reference: minilm.MiniLMEncoder) -> None:
    tokens = get_counter().count(LONG_TEXT)
    assert tokens > 77
    message = assert_error(
        post(server, model_name=MODEL, text=LONG_TEXT, text_truncate="none"),
        400,
        "parameter_invalid",
    )
    assert "77" in message and str(tokens) in message

    for side, kept in (("end", mf.SPEECH_TEXT[:40]), ("start", mf.SPEECH_TEXT[-40:])):
        response = post(server, model_name=MODEL, text=LONG_TEXT, text_truncate=side)
        assert response.status_code == 200, response.text
        chunk = fit_text(LONG_TEXT, 77, side)
        assert kept in chunk.text and chunk.tokens <= 77
        vector = response.json()["text_embedding"]["segments"][0]["float"]
        assert cosine(vector, reference.embed([chunk.text])[0]) >= 0.999
    default = post(server, model_name=MODEL, text=LONG_TEXT)  # text_truncate defaults to end
    assert default.status_code == 200


def test_fit_text_cuts_whole_words_and_no_more() -> None:
    counter = get_counter()
    words = LONG_TEXT.split()
    end = fit_text(LONG_TEXT, 77, "end")
    n = len(end.text.split())
    assert end.text.split() == words[:n]
    assert counter.count(" ".join(words[: n + 1])) > 77
    start = fit_text(LONG_TEXT, 77, "start")
    m = len(start.text.split())
    assert start.text.split() == words[-m:]
    assert counter.count(" ".join(words[-m - 1 :])) > 77
    assert fit_text("short text", 77, "none").text == "short text"
    one_word = fit_text("x" * 2000, 77, "end")
    assert 0 < one_word.tokens <= 77 and one_word.text == "x" * len(one_word.text)
    assert counter.count("x" * (len(one_word.text) + 1)) > 77


def test_not_audio(server: Server, media: Path) -> None:
    with (media / "notes.wav").open("rb") as f:
        response = post(server, {"audio_file": ("notes.wav", f)}, model_name=MODEL)
    message = assert_error(response, 400, "parameter_invalid")
    assert "audio_file" in message and "/tmp" not in message


def test_bad_requests(server: Server, media: Path, media_url: str) -> None:
    assert "model_name" in assert_error(post(server, text="a dog"), 400, "parameter_not_provided")
    assert_error(post(server, model_name=MODEL), 400, "parameter_not_provided")
    assert_error(post(server, model_name=MODEL, text="a", text_truncate="middle"), 400)
    assert_error(post(server, model_name=MODEL, image_url="http://x.invalid/y.png"), 400)
    with (media / "silent.wav").open("rb") as f:
        both = post(
            server,
            {"audio_file": ("silent.wav", f)},
            model_name=MODEL,
            audio_url=f"{media_url}/silent.wav",
        )
    assert "not both" in assert_error(both, 400, "parameter_invalid")
    assert_error(post(server, model_name=MODEL, audio_url="file:///etc/passwd"), 400)
    assert_error(post(server, model_name=MODEL, audio_url=f"{media_url}/missing.wav"), 400)
    assert_error(post(server, model_name=MODEL, audio_file="not a file"), 400)
    past_end = post(
        server, model_name=MODEL, audio_url=f"{media_url}/silent.wav", audio_start_offset_sec=60
    )
    assert "audio_start_offset_sec" in assert_error(past_end, 400)
    assert_error(httpx.get(f"{server.base}/v1.3/nowhere"), 404, "not_found")


def test_audio_url_without_speech(server: Server, media_url: str) -> None:
    url = f"{media_url}/silent.wav"
    response = post(server, model_name=MODEL, audio_url=url)
    assert response.status_code == 200, response.text
    audio = response.json()["audio_embedding"]
    assert audio["segments"] == []
    assert audio["error_message"].startswith("no speech found")
    assert audio["metadata"] == {"input_url": url}


def test_port_in_use(server: Server, vtembed: Any) -> None:
    run = vtembed("serve", "--port", str(server.port), timeout=60)
    assert run.code == 2
    assert run.err.strip().count("\n") == 0 and "Traceback" not in run.text
    assert f"127.0.0.1:{server.port}" in run.err and "in use" in run.err


def test_embedder_that_hears_the_sound(media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An embedder that embeds audio itself gets every segment, with its file still there, and
    no Whisper is loaded (in process: no such embedder is installed)."""
    monkeypatch.delenv("VTEMBED_SERVE_API_KEY", raising=False)

    class SoundEmbedder(Embedder):
        name = "sound"
        default_model = "Marengo-retrieval-2.7"
        models: ClassVar[dict[str, ModelSpec]] = {
            default_model: ModelSpec(dim=1024, text_token_limit=77, audio_segment_sec=10)
        }

        async def embed(self, batch: Sequence[Embeddable]) -> list[list[float]]:
            assert all(isinstance(i, AudioSegment) and Path(i.path).is_file() for i in batch)
            return [[i.start_sec, i.end_sec] + [0.0] * (self.dim - 2) for i in batch]

    settings = load_settings()
    app = create_app(settings, SoundEmbedder(settings), transcriber_factory=None)
    with TestClient(app) as client, (media / "speech.wav").open("rb") as f:
        response = client.post(
            "/v1.3/embed",
            data={"model_name": "Marengo-retrieval-2.7", "audio_start_offset_sec": "5"},
            files={"audio_file": ("speech.wav", f, "audio/wav")},
        )
    assert response.status_code == 200, response.text
    audio = response.json()["audio_embedding"]
    assert "error_message" not in audio
    spans = [(s["start_offset_sec"], s["end_offset_sec"]) for s in audio["segments"]]
    assert spans[:2] == [(5.0, 15.0), (15.0, 25.0)] and len(spans) == 3
    assert [s["float"][:2] for s in audio["segments"]] == [list(p) for p in spans]
    assert all(len(s["float"]) == 1024 for s in audio["segments"])


# --- the server with a key and a small upload limit ---------------------------------------


def test_key_required(guarded: Server) -> None:
    assert httpx.get(f"{guarded.base}/healthz").status_code == 200  # open for readiness probes
    assert_error(post(guarded, model_name=MODEL, text="a dog"), 401, "api_key_invalid")
    assert_error(post(guarded, model_name=MODEL, text="a dog", key="wrong-key"), 401)
    assert post(guarded, model_name=MODEL, text="a dog", key=KEY).status_code == 200
    assert "x-api-key required" in guarded.out.read_text()


def test_upload_too_large(guarded: Server, media: Path, media_url: str) -> None:
    with (media / "speech.wav").open("rb") as f:
        upload = post(guarded, {"audio_file": ("speech.wav", f)}, model_name=MODEL, key=KEY)
    assert "0.01 MB" in assert_error(upload, 413, "content_too_large")
    fetched = post(guarded, model_name=MODEL, audio_url=f"{media_url}/speech.wav", key=KEY)
    assert "audio_url" in assert_error(fetched, 413, "content_too_large")
    big = post(guarded, {"audio_file": ("big.wav", b"\0" * 3_000_000)}, model_name=MODEL, key=KEY)
    assert_error(big, 413, "content_too_large")


def test_key_never_in_the_output(guarded: Server) -> None:
    """Last in the module: by now the server has seen the right key and a wrong one."""
    output = guarded.output()
    assert KEY not in output and "wrong-key" not in output
