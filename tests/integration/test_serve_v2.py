"""`vtembed serve` answering the Embed API v2 (`POST /v1.3/embed-v2`) to the official SDK's
`client.embed.v_2.create`: a real server on 127.0.0.1, the real MiniLM, Whisper and OCR, speech
made with espeak-ng and a video of shots drawn with ffmpeg.

Every vector is checked against what this process computes from the same input the way the
server should: MiniLM of the text, of the words OCR reads, of the words Whisper hears. The last
test serves, in process, an embedder that reads pictures itself (as CLIP does).
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from twelvelabs import TwelveLabs
from twelvelabs.errors import BadRequestError
from twelvelabs.types import (
    AudioInputRequest,
    ImageInputRequest,
    MediaSource,
    TextInputRequest,
    VideoInputRequest,
)

from tests import media_factory as mf
from tests.integration.test_serve import (
    MODEL,
    Server,
    assert_error,
    cosine,
    start_server,
    stop_server,
)
from tests.integration.test_serve_images import ColourEmbedder, ocr_text, picture, serve
from vtembed.embedder import Embeddable
from vtembed.media import DecodeResult, pcm_windows, probe
from vtembed.models import Transcript
from vtembed.plugins.embedders import minilm
from vtembed.settings import WhisperSettings
from vtembed.transcriber import Transcriber

pytestmark = pytest.mark.slow  # starts servers, runs Whisper and OCR
Ref = minilm.MiniLMEncoder
Hear = Callable[[Path], Transcript]


@pytest.fixture(scope="module")
def reference(cache_dir: Path) -> minilm.MiniLMEncoder:
    """The same model in this process; converting it here first also spares the servers."""
    return minilm.MiniLMEncoder(minilm.convert(cache_dir))


@pytest.fixture(scope="module")
def media(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("serve-v2-media")
    mf.speech_wav(d / "speech.wav", mf.SPEECH_TEXT)
    mf.shots_video(d, "shots", size="1280x720")
    (d / "title.png").write_bytes(picture(["Quarterly sales figures"]))
    return d


@pytest.fixture(scope="module")
def server(
    reference: Ref, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("serve-v2"), cache_dir)  # fetches nothing
    yield s
    stop_server(s)


@pytest.fixture
def sdk(server: Server, monkeypatch: pytest.MonkeyPatch) -> TwelveLabs:
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)  # the SDK prefers it to base_url
    return TwelveLabs(api_key="anything", base_url=f"{server.base}/v1.3", timeout=300)


@pytest.fixture(scope="module")
def heard() -> Hear:
    """What Whisper hears in a file, as the server hears it (the same bundled model)."""
    transcriber = Transcriber(WhisperSettings())

    @functools.cache
    def hear(path: Path) -> Transcript:
        windows = pcm_windows(probe(str(path)), WhisperSettings().window_sec, DecodeResult())
        return transcriber.transcribe(windows)

    return hear


def b64(path: Path) -> MediaSource:
    return MediaSource(base_64_string=base64.b64encode(path.read_bytes()).decode())


def words(transcript: Transcript, start: float, end: float) -> str:
    return "".join(w.text for w in transcript.words_between(start, end)).strip()


def close(vector: Any, expected: Any) -> bool:
    return bool(np.allclose(vector, expected, atol=1e-4))


def post(server: Server, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.base}/v1.3/embed-v2", json=body, timeout=120)


def test_text(sdk: TwelveLabs, reference: Ref) -> None:
    text = "a man walks his dog"
    result = sdk.embed.v_2.create(
        input_type="text", model_name=MODEL, text=TextInputRequest(input_text=text)
    )
    [item] = result.data
    assert item.embedding_option is None and item.embedding_scope is None
    assert item.start_sec is None and len(item.embedding) == 384
    assert close(item.embedding, reference.embed([text])[0])


def test_image_is_its_text(sdk: TwelveLabs, media: Path, reference: Ref) -> None:
    path = media / "title.png"
    result = sdk.embed.v_2.create(
        input_type="image", model_name=MODEL, image=ImageInputRequest(media_source=b64(path))
    )
    [item] = result.data
    text = ocr_text(path.read_bytes())
    assert {"quarterly", "sales", "figures"} <= set(text.lower().split())
    assert item.embedding_option is None and close(item.embedding, reference.embed([text])[0])


def test_audio_clips_are_their_words(
    sdk: TwelveLabs, media: Path, reference: Ref, heard: Hear
) -> None:
    wav = media / "speech.wav"
    transcript = heard(wav)
    result = sdk.embed.v_2.create(
        input_type="audio",
        model_name=MODEL,
        audio=AudioInputRequest(
            media_source=b64(wav),
            start_sec=2.0,
            segmentation={"strategy": "fixed", "fixed": {"duration_sec": 5}},
        ),
    )
    clips = [d for d in result.data if d.embedding_scope == "clip"]
    audio = [d for d in clips if d.embedding_option == "audio"]
    spoken = [d for d in clips if d.embedding_option == "transcription"]
    assert len(audio) >= 2 and len(spoken) == len(audio)
    end = float(mf.probe(wav)["format"]["duration"])
    for item in audio:
        assert item.start_sec is not None and item.end_sec is not None
        assert 2.0 <= item.start_sec < item.end_sec <= end + 0.05
        assert item.end_sec - item.start_sec <= 5.0 + 1e-6
        assert round(item.start_sec - 2.0, 3) % 5 == 0
        said = words(transcript, item.start_sec, item.end_sec)
        assert said and close(item.embedding, reference.embed([said])[0])
    assert [(d.start_sec, d.end_sec) for d in spoken] == [(d.start_sec, d.end_sec) for d in audio]
    [asset] = [
        d for d in result.data if d.embedding_scope == "asset" and d.embedding_option == "audio"
    ]
    assert asset.start_sec == 2.0 and asset.end_sec == pytest.approx(end, abs=0.05)
    assert close(asset.embedding, reference.embed([words(transcript, 2.0, asset.end_sec)])[0])
    assert result.metadata is not None and result.metadata.input_type == "audio"


def test_video_visual_and_audio(sdk: TwelveLabs, media: Path, reference: Ref, heard: Hear) -> None:
    """Shots of 6, 5, 7, 4 and 8 s; 0, 2 and 4 show text. In 5-s segments only [5, 10) shows
    none (its 1 s of shot 0 is too short to count), so it alone has no visual entry."""
    video = media / "shots.mp4"
    result = sdk.embed.v_2.create(
        input_type="video",
        model_name=MODEL,
        video=VideoInputRequest(
            media_source=b64(video),
            segmentation={"strategy": "fixed", "fixed": {"duration_sec": 5}},
            embedding_option=["visual", "audio"],
            embedding_scope=["clip"],
        ),
    )
    visual = {d.start_sec: d for d in result.data if d.embedding_option == "visual"}
    assert sorted(visual) == [0.0, 10.0, 15.0, 20.0, 25.0]
    expected = {0.0: "Quarterly sales figures", 10.0: "Welcome to the lecture"}
    expected |= {15.0: "Welcome to the lecture", 20.0: "Thank you for watching"}
    for start, shown in expected.items():
        item = visual[start]
        assert item.end_sec == start + 5 and item.embedding_scope == "clip"
        assert cosine(item.embedding, reference.embed([shown])[0]) > 0.9
    audio = [d for d in result.data if d.embedding_option == "audio"]
    assert audio, result.data
    transcript = heard(video)
    for item in audio:
        assert item.start_sec is not None and item.end_sec is not None
        said = words(transcript, item.start_sec, item.end_sec)
        assert close(item.embedding, reference.embed([said])[0])
    assert result.metadata is not None and result.metadata.input_type == "video"


def request(kind: str, sub: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"input_type": kind, "model_name": MODEL, kind: sub, **top}


def test_bad_bodies(sdk: TwelveLabs, server: Server, media: Path) -> None:
    """Each is TwelveLabs' 400 `{code, message}`, the message naming what is wrong."""
    wav = {"base64_string": b64(media / "speech.wav").base_64_string}
    text = request("text", {"input_text": "a dog"})
    assert post(server, text).status_code == 200
    src, bad, no = {"media_source": wav}, "parameter_invalid", "parameter_not_supported"
    both = {"media_source": {**wav, "url": "https://example.com/a.wav"}}
    cases: list[tuple[str, str, dict[str, Any]]] = [
        (bad, "colour", {**text, "colour": "red"}),
        (bad, "text.shade", request("text", {"input_text": "a dog", "shade": 1})),
        (bad, "exactly the text", {**text, "audio": src}),
        (bad, "exactly the audio", {"input_type": "audio", "model_name": MODEL}),
        (bad, MODEL, {**text, "model_name": "marengo3.0"}),
        (bad, "exactly one of url, base64_string, asset_id", request("audio", both)),
        (bad, "smell", request("audio", {**src, "embedding_option": ["smell"]})),
        (no, "asset", request("audio", {"media_source": {"asset_id": "a1"}})),
        (
            no,
            "separate_embedding",
            request("audio", {**src, "embedding_type": ["fused_embedding"]}),
        ),
        (no, "text_image", request("text_image", {"input_text": "a", **src})),
        (no, "fetch_urls", request("image", {"media_source": {"url": "http://127.0.0.1:9/a"}})),
        ("media_duration_too_long", "600 s", request("audio", {**src, "end_sec": 601})),
        ("media_invalid", "base64", request("image", {"media_source": {"base64_string": "@@@"}})),
    ]
    for code, says, body in cases:
        assert says in assert_error(post(server, body), 400, code), body
    tasks = httpx.post(f"{server.base}/v1.3/embed-v2/tasks", json=text, timeout=30)
    assert "not served" in assert_error(tasks, 404, "parameter_not_supported")
    with pytest.raises(BadRequestError) as caught:  # the SDK sees them as its own errors
        sdk.embed.v_2.create(
            input_type="text", model_name="marengo3.0", text=TextInputRequest(input_text="a dog")
        )
    assert MODEL in caught.value.body["message"]


def test_url_fetched_when_on(
    cache_dir: Path,
    media: Path,
    tmp_path_factory: pytest.TempPathFactory,
    reference: Ref,
) -> None:
    """With fetch_urls (and private addresses, the media server is on 127.0.0.1), the same
    picture by URL gives the same vector; over the image limit it is a 400."""
    from tests.http_media_server import MediaServer, Route
    from tests.integration.test_serve_images import noise_png

    title = (media / "title.png").read_bytes()  # about 20 KB
    served = MediaServer().start()
    served.add("/title.png", Route(title, content_type="image/png"))
    served.add("/big.png", Route(noise_png(150), content_type="image/png"))  # about 67 KB
    s = start_server(
        tmp_path_factory.mktemp("serve-v2-fetch"),
        cache_dir,
        VTEMBED_SERVE__FETCH_URLS="true",
        VTEMBED_SERVE__FETCH_PRIVATE_URLS="true",
        VTEMBED_SERVE__MAX_UPLOAD_MB="0.05",
    )

    def image_at(path: str) -> dict[str, Any]:
        return request("image", {"media_source": {"url": served.url(path)}})

    try:
        response = post(s, image_at("/title.png"))
        assert response.status_code == 200, response.text
        [item] = response.json()["data"]
        assert close(item["embedding"], reference.embed([ocr_text(title)])[0])
        assert response.json()["metadata"]["input_url"] == served.url("/title.png")
        message = assert_error(post(s, image_at("/big.png")), 400, "media_too_large")
        assert "0.05 MB" in message
    finally:
        stop_server(s)
        served.stop()


class Remembering(ColourEmbedder):
    """Keeps the vectors it made, in order."""

    async def embed(self, batch: Sequence[Embeddable]) -> list[list[float]]:
        vectors = await super().embed(batch)
        self.vectors = [*getattr(self, "vectors", []), *vectors]
        return vectors


def test_video_with_an_embedder_that_reads_pictures(
    media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A "file" embedder (the mean colour, standing in for CLIP) gets each keyframe inside a
    segment as a JPEG; the segment's vector is their mean, normalised, and the files are gone
    after the request. In 5-s segments, [5, 10) has one keyframe (the 1 s of shot 0 is too
    short to count), in the red shot; [15, 20) two, of shots 2 and 3."""
    monkeypatch.delenv("VTEMBED_SERVE_API_KEY", raising=False)
    app, embedder = serve(Remembering)
    assert isinstance(embedder, Remembering)
    video = {
        "media_source": {"base64_string": b64(media / "shots.mp4").base_64_string},
        "segmentation": {"strategy": "fixed", "fixed": {"duration_sec": 5}},
        "embedding_option": ["visual"],
    }
    with TestClient(app) as client:
        body = {"input_type": "video", "model_name": "mean-colour", "video": video}
        response = client.post("/v1.3/embed-v2", json=body)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    clips = {d["start_sec"]: d for d in data if d["embedding_scope"] == "clip"}
    assert sorted(clips) == [0.0, 5.0, 10.0, 15.0, 20.0, 25.0]
    assert all(d["embedding_option"] == "visual" for d in data)
    red = np.array([0x7A, 0x1F, 0x1F, 0, 0, 0, 0, 0], dtype=np.float64)
    assert float(np.asarray(clips[5.0]["embedding"]) @ (red / np.linalg.norm(red))) > 0.999
    assert np.linalg.norm(clips[15.0]["embedding"]) == pytest.approx(1.0)
    assert len(embedder.read) == 8  # 1 + 1 + 1 + 2 + 2 + 1 keyframes
    assert all(not path.exists() for path, _, _ in embedder.read)
    [asset] = [d for d in data if d["embedding_scope"] == "asset"]
    mean = np.mean(np.asarray(embedder.vectors), axis=0)
    assert np.allclose(asset["embedding"], mean / np.linalg.norm(mean), atol=1e-6)
