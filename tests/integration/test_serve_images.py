"""`vtembed serve` with pictures: `image_file` and `image_url` answered as TwelveLabs answers them.

The local embedder embeds a picture by its text, so the slow tests run a real `vtembed serve` on
127.0.0.1 with the real OCR engine and MiniLM and call it with the official SDK; pictures are
drawn with OpenCV. The fast ones serve, in process, an embedder that reads the picture itself
(its vector is the picture's mean colour), with real HTTP to a media server for `image_url`.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import cv2
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from twelvelabs import TwelveLabs
from twelvelabs.errors import BadRequestError

from tests.http_media_server import MediaServer, Route
from tests.integration.test_serve import (
    MODEL,
    Server,
    assert_error,
    cosine,
    post,
    start_server,
    stop_server,
)
from vtembed.clip_tokens import get_counter
from vtembed.embedder import Embeddable, Embedder
from vtembed.models import ImageFrame
from vtembed.ocr import read_text
from vtembed.plugins.embedders import minilm
from vtembed.server import create_app
from vtembed.server_image import fit_words
from vtembed.settings import ModelSpec, load_settings

STORY = (
    "the harbour lights came on as the ferry left the quay and gulls followed it out past the "
    "old lighthouse where a keeper once lived alone with his dog and his books through long "
    "winters of storms and calm bright mornings that nobody else ever saw from the town across "
    "the water while the fishing boats came home late with nets full of silver herring and "
    "the market opened before dawn so that traders from the city could buy the catch and drive "
    "back along the coast road before the heat of the day"
).split()  # 94 words, 96 CLIP tokens: more than the 77 a picture's text may have


def picture(lines: Sequence[str], scale: float = 1.5, step: int = 70) -> bytes:
    """A 1280x720 PNG: white lines of text on dark blue, as a slide would have them."""
    image = np.full((720, 1280, 3), (95, 58, 31), np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(
            image,
            line,
            (40, 90 + i * step),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (255, 255, 255),
            2,
            cv2.LINE_AA,
        )
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


def flat(rgb: tuple[int, int, int], fmt: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, rgb).save(out, fmt)
    return out.getvalue()


def noise_png(side: int) -> bytes:
    """Random pixels: a PNG of them hardly compresses, so its size is about 3 * side**2."""
    pixels = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


# --- a real server, real OCR, the official SDK ---------------------------------------------


@pytest.fixture(scope="module")
def reference(cache_dir: Path) -> minilm.MiniLMEncoder:
    """The same model in this process; converting it here first also spares the server."""
    return minilm.MiniLMEncoder(minilm.convert(cache_dir))


@pytest.fixture(scope="module")
def pictures() -> dict[str, bytes]:
    return {
        "title.png": picture(["Quarterly sales figures"]),
        "story.png": picture(
            [" ".join(STORY[i : i + 9]) for i in range(0, len(STORY), 9)], scale=1.0, step=55
        ),
        "blank.png": flat((200, 120, 40), size=(640, 360)),
    }


@pytest.fixture(scope="module")
def media(pictures: dict[str, bytes]) -> Iterator[MediaServer]:
    served = MediaServer().start()
    for name, data in pictures.items():
        served.add(f"/{name}", Route(data, content_type="image/png"))
    served.add("/page.png", Route(b"<html><body>Not here</body></html>", content_type="text/html"))
    served.add("/moved.png", Route(redirect_to="/title.png"))
    served.add("/big.png", Route(noise_png(80), content_type="image/png"))  # about 19 KB
    yield served
    served.stop()


@pytest.fixture(scope="module")
def server(
    reference: minilm.MiniLMEncoder, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    s = start_server(
        tmp_path_factory.mktemp("serve-images"),
        cache_dir,
        VTEMBED_SERVE__FETCH_URLS="true",
        VTEMBED_SERVE__FETCH_PRIVATE_URLS="true",  # the media server is on 127.0.0.1
    )
    yield s
    stop_server(s)


@pytest.fixture
def sdk(server: Server, monkeypatch: pytest.MonkeyPatch) -> TwelveLabs:
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)  # the SDK prefers it to base_url
    return TwelveLabs(api_key="anything", base_url=f"{server.base}/v1.3")


def ocr_text(data: bytes) -> str:
    """What the server should embed: the picture's text cut to 77 CLIP tokens, as ingest does."""
    return fit_words(read_text(data).text, get_counter().count, 77)


@pytest.mark.slow
def test_sdk_image_embedding_is_the_text_in_it(
    sdk: TwelveLabs, pictures: dict[str, bytes], reference: minilm.MiniLMEncoder, tmp_path: Path
) -> None:
    """The acceptance test: the SDK parses the answer into its own types; the vector is MiniLM's
    vector of what OCR reads in the picture."""
    path = tmp_path / "title.png"
    path.write_bytes(pictures["title.png"])
    with path.open("rb") as f:
        result = sdk.embed.create(model_name=MODEL, image_file=f)
    assert result.model_name == MODEL and result.text_embedding is None
    image = result.image_embedding
    assert image is not None and image.segments and image.error_message is None
    [segment] = image.segments
    assert segment.float_ is not None and len(segment.float_) == 384
    assert image.metadata is not None and image.metadata.input_filename == "title.png"
    text = ocr_text(pictures["title.png"])
    assert {"quarterly", "sales", "figures"} <= set(text.lower().split())
    expected = reference.embed([text])[0]
    assert cosine(segment.float_, expected) >= 0.9999
    assert np.allclose(segment.float_, expected, atol=1e-4)

    # Text and a picture in one request, as TwelveLabs allows: one embedding of each.
    with path.open("rb") as f:
        both = sdk.embed.create(model_name=MODEL, text="a man walks his dog", image_file=f)
    assert both.text_embedding is not None and both.text_embedding.segments
    assert both.image_embedding is not None and both.image_embedding.segments
    dog = reference.embed(["a man walks his dog"])[0]
    assert cosine(both.text_embedding.segments[0].float_, dog) >= 0.9999
    assert np.allclose(both.image_embedding.segments[0].float_, segment.float_, atol=1e-5)


@pytest.mark.slow
def test_text_over_the_limit_is_cut_to_whole_words(
    server: Server, pictures: dict[str, bytes], reference: minilm.MiniLMEncoder
) -> None:
    data = pictures["story.png"]
    read = " ".join(read_text(data).text.split())
    counter = get_counter()
    assert counter.count(read) > 77  # the picture holds more than the model takes
    kept = ocr_text(data)
    n = len(kept.split())
    assert kept.split() == read.split()[:n] and counter.count(kept) <= 77
    assert counter.count(" ".join(read.split()[: n + 1])) > 77
    response = post(server, {"image_file": ("story.png", data, "image/png")}, model_name=MODEL)
    assert response.status_code == 200, response.text
    vector = response.json()["image_embedding"]["segments"][0]["float"]
    assert cosine(vector, reference.embed([kept])[0]) >= 0.9999


@pytest.mark.slow
def test_picture_without_text(server: Server, pictures: dict[str, bytes]) -> None:
    blank = {"image_file": ("blank.png", pictures["blank.png"], "image/png")}
    message = assert_error(post(server, blank, model_name=MODEL), 400, "parameter_invalid")
    assert message.startswith("no text found in image_file")
    assert "local embedder" in message and "by the text in it" in message


@pytest.mark.slow
def test_not_an_image(server: Server, pictures: dict[str, bytes]) -> None:
    notes = {"image_file": ("notes.png", b"meeting notes, not a picture\n", "image/png")}
    message = assert_error(post(server, notes, model_name=MODEL), 400, "parameter_invalid")
    assert message.startswith("image_file is not an image")
    cut = {"image_file": ("cut.png", pictures["title.png"][:2000], "image/png")}
    message = assert_error(post(server, cut, model_name=MODEL), 400, "parameter_invalid")
    assert message.startswith("image_file cannot be decoded") and "/tmp" not in message


@pytest.mark.slow
def test_sdk_image_url(sdk: TwelveLabs, media: MediaServer, pictures: dict[str, bytes]) -> None:
    """With `fetch_urls` on (this server has it from the environment)."""
    url = media.url("/title.png")
    result = sdk.embed.create(model_name=MODEL, image_url=url)
    image = result.image_embedding
    assert image is not None and image.segments and image.metadata is not None
    assert image.metadata.input_url == url
    with io.BytesIO(pictures["title.png"]) as f:
        uploaded = sdk.embed.create(model_name=MODEL, image_file=("title.png", f))
    assert uploaded.image_embedding is not None and uploaded.image_embedding.segments
    expected = uploaded.image_embedding.segments[0].float_
    assert np.allclose(image.segments[0].float_, expected, atol=1e-5)
    moved = sdk.embed.create(model_name=MODEL, image_url=media.url("/moved.png"))
    assert moved.image_embedding is not None and moved.image_embedding.segments
    assert np.allclose(moved.image_embedding.segments[0].float_, expected, atol=1e-5)

    for path, says in (("/missing.png", "answered HTTP 404"), ("/page.png", "is not an image")):
        with pytest.raises(BadRequestError) as caught:
            sdk.embed.create(model_name=MODEL, image_url=media.url(path))
        message = caught.value.body["message"]
        assert media.url(path) in message and says in message, message


# --- an embedder that reads the picture itself, in process ---------------------------------


class ColourEmbedder(Embedder):
    """Reads the JPEG it is handed, as a CLIP embedder would: its vector is the picture's mean
    red, green and blue (0-1), then zeros. It notes what it read, to show the file it got."""

    name = "colour"
    default_model = "mean-colour"
    models: ClassVar[dict[str, ModelSpec]] = {
        default_model: ModelSpec(dim=8, text_token_limit=77, audio_segment_sec=10)
    }
    image_input: ClassVar[str | None] = "file"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read: list[tuple[Path, str, str]] = []  # (path, format, sha256 of the bytes)

    async def embed(self, batch: Sequence[Embeddable]) -> list[list[float]]:
        vectors = []
        for item in batch:
            assert isinstance(item, ImageFrame) and item.text == ""
            path = Path(item.image_path)
            data = path.read_bytes()
            with Image.open(io.BytesIO(data)) as picture:
                rgb = np.asarray(picture.convert("RGB"), dtype=np.float64).mean(axis=(0, 1))
                self.read.append((path, str(picture.format), hashlib.sha256(data).hexdigest()))
            vectors.append([*(rgb / 255).tolist(), *[0.0] * (self.dim - 3)])
        return vectors


class Blind(ColourEmbedder):
    image_input: ClassVar[str | None] = None


def serve(embedder_cls: type[Embedder] = ColourEmbedder, **options: Any) -> tuple[Any, Embedder]:
    settings = load_settings({"serve": options} if options else None)
    embedder = embedder_cls(settings)
    return create_app(settings, embedder, transcriber_factory=None), embedder


def embed(client: TestClient, files: dict[str, Any] | None = None, **data: str) -> httpx.Response:
    return client.post(
        "/v1.3/embed", data={"model_name": "mean-colour", **data}, files=files or None
    )


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VTEMBED_SERVE_API_KEY", raising=False)


def test_embedder_that_reads_the_picture() -> None:
    app, embedder = serve()
    assert isinstance(embedder, ColourEmbedder)
    halves = np.zeros((40, 80, 3), np.uint8)
    halves[:, :40] = (0, 0, 255)  # blue left, green right
    halves[:, 40:] = (0, 255, 0)
    jpeg = io.BytesIO()
    Image.fromarray(halves).save(jpeg, "JPEG", quality=95)
    with TestClient(app) as client:
        red = embed(client, {"image_file": ("red.png", flat((255, 0, 0)), "image/png")})
        split = embed(client, {"image_file": ("halves.jpg", jpeg.getvalue(), "image/jpeg")})
    assert red.status_code == 200, red.text
    answer = red.json()
    assert set(answer) == {"model_name", "image_embedding"}  # no text or audio was asked for
    assert answer["image_embedding"]["metadata"] == {"input_filename": "red.png"}
    [segment] = answer["image_embedding"]["segments"]
    assert np.allclose(segment["float"][:3], [1, 0, 0], atol=0.02) and len(segment["float"]) == 8
    assert split.status_code == 200, split.text
    vector = split.json()["image_embedding"]["segments"][0]["float"]
    assert np.allclose(vector[:3], [0, 0.5, 0.5], atol=0.03)

    (png_path, png_format, _), (jpeg_path, jpeg_format, jpeg_hash) = embedder.read
    assert png_format == jpeg_format == "JPEG"  # a PNG is handed over as a JPEG, as keyframes are
    assert jpeg_hash == hashlib.sha256(jpeg.getvalue()).hexdigest()  # a JPEG as it came
    assert png_path.suffix == ".jpg" and not png_path.exists() and not jpeg_path.parent.exists()


def test_not_an_image_is_refused_before_the_embedder() -> None:
    app, embedder = serve()
    with TestClient(app) as client:
        text = embed(client, {"image_file": ("a.jpg", b"plain text", "image/jpeg")})
        empty = embed(client, {"image_file": ("b.jpg", b"", "image/jpeg")})
        cut = embed(client, {"image_file": ("c.png", flat((1, 2, 3))[:60], "image/png")})
    assert "image_file is not an image" in assert_error(text, 400, "parameter_invalid")
    assert "image_file is not an image" in assert_error(empty, 400, "parameter_invalid")
    assert assert_error(cut, 400, "parameter_invalid").startswith("image_file cannot be decoded")
    assert embedder.read == []  # type: ignore[attr-defined]


def test_embedder_without_pictures() -> None:
    app, _ = serve(Blind)
    with TestClient(app) as client:
        response = embed(client, {"image_file": ("red.png", flat((255, 0, 0)), "image/png")})
    assert "has no image embeddings" in assert_error(response, 400, "parameter_not_supported")


def test_image_url_is_off_by_default() -> None:
    media = MediaServer().start()
    try:
        url = media.add("/red.png", Route(flat((255, 0, 0)), content_type="image/png"))
        app, _ = serve()
        with TestClient(app) as client:
            response = embed(client, image_url=url)
    finally:
        media.stop()
    message = assert_error(response, 400, "parameter_not_supported")
    assert "fetch_urls = true" in message and "VTEMBED_SERVE__FETCH_URLS" in message
    assert media.gets["/red.png"] == 0  # nothing was fetched


def test_image_url_when_on_and_its_limits() -> None:
    """Real HTTP from the in-process app to a media server on 127.0.0.1, under a 0.01 MB limit."""
    media = MediaServer().start()
    try:
        small = media.add("/red.png", Route(flat((255, 0, 0)), content_type="image/png"))
        big = media.add("/big.png", Route(noise_png(80), content_type="image/png"))
        app, embedder = serve(fetch_urls=True, fetch_private_urls=True, max_upload_mb=0.01)
        with TestClient(app) as client:
            fetched = embed(client, image_url=small)
            too_big = embed(client, image_url=big)
            upload_too_big = embed(client, {"image_file": ("big.png", noise_png(80), "image/png")})
            local = embed(client, image_url="file:///etc/passwd")
            missing = embed(client, image_url=media.url("/missing.png"))
            unreachable = embed(client, image_url="http://127.0.0.1:9/red.png")
            both = embed(
                client, {"image_file": ("red.png", flat((255, 0, 0)), "image/png")}, image_url=small
            )
    finally:
        media.stop()
    assert fetched.status_code == 200, fetched.text
    result = fetched.json()["image_embedding"]
    assert result["metadata"] == {"input_url": small}
    assert np.allclose(result["segments"][0]["float"][:3], [1, 0, 0], atol=0.02)
    message = assert_error(too_big, 413, "content_too_large")
    assert big in message and "0.01 MB" in message
    assert_error(upload_too_big, 413, "content_too_large")
    assert "http:// or https://" in assert_error(local, 400, "parameter_invalid")
    assert f"{media.url('/missing.png')} answered HTTP 404" in assert_error(missing, 400)
    assert "cannot be fetched" in assert_error(unreachable, 400, "parameter_invalid")
    assert "not both" in assert_error(both, 400, "parameter_invalid")
    assert len(embedder.read) == 1  # type: ignore[attr-defined]


def test_fit_words_keeps_whole_words_from_the_start() -> None:
    counter = get_counter()
    text = "\n".join(" ".join(STORY[i : i + 9]) for i in range(0, len(STORY), 9)) * 2
    kept = fit_words(text, counter.count, 77)
    n = len(kept.split())
    assert kept == " ".join(text.split()[:n]) and counter.count(kept) <= 77
    assert counter.count(" ".join(text.split()[: n + 1])) > 77
    assert fit_words("short\ntext", counter.count, 77) == "short text"
    assert fit_words("", counter.count, 77) == ""
    word = fit_words("x" * 2000, counter.count, 77)
    assert 0 < counter.count(word) <= 77 and word == "x" * len(word)
