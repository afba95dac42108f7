"""`vtembed serve` fetches nothing a request links unless `[serve] fetch_urls` says so, and then
nothing on loopback, private or link-local addresses unless `fetch_private_urls` says so too:
otherwise any client could make the server read the machine's own services."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.http_media_server import MediaServer, Route
from tests.integration.test_serve_images import ColourEmbedder, flat
from vtembed.server import create_app
from vtembed.settings import load_settings


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VTEMBED_SERVE_API_KEY", raising=False)


@pytest.fixture
def media() -> Any:
    server = MediaServer().start()
    server.add("/red.png", Route(flat((255, 0, 0)), content_type="image/png"))
    server.add("/talk.wav", Route(b"RIFF....WAVE", content_type="audio/wav"))
    yield server
    server.stop()


def _post(media: MediaServer, field: str, path: str, host: str = "127.0.0.1", **serve: Any):  # type: ignore[no-untyped-def]
    settings = load_settings({"serve": serve} if serve else None)
    app = create_app(settings, ColourEmbedder(settings), transcriber_factory=None)
    url = media.url(path).replace("127.0.0.1", host)
    with TestClient(app) as client:
        return client.post("/v1.3/embed", data={"model_name": "mean-colour", field: url})


def _message(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    return str(body["message"])


@pytest.mark.parametrize(("field", "path"), [("audio_url", "/talk.wav"), ("image_url", "/red.png")])
def test_linked_media_is_not_fetched_by_default(media: MediaServer, field: str, path: str) -> None:
    message = _message(_post(media, field, path), 400, "parameter_not_supported")
    assert f"{field} is off on this server" in message
    assert "fetch_urls = true" in message and "VTEMBED_SERVE__FETCH_URLS=true" in message
    assert media.gets[path] == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize(("field", "path"), [("audio_url", "/talk.wav"), ("image_url", "/red.png")])
def test_loopback_is_refused_unless_allowed(
    media: MediaServer, field: str, path: str, host: str
) -> None:
    refused = _post(media, field, path, host, fetch_urls=True)
    message = _message(refused, 400, "parameter_invalid")
    assert "loopback, private or reserved address" in message and host in message
    assert "fetch_private_urls = true" in message
    assert media.gets[path] == 0
    if field == "image_url":  # allowed, it is fetched (and embedded: a red picture)
        allowed = _post(media, field, path, host, fetch_urls=True, fetch_private_urls=True)
        assert allowed.status_code == 200, allowed.text
        assert media.gets[path] == 1
        vector = allowed.json()["image_embedding"]["segments"][0]["float"]
        assert vector[:3] == pytest.approx([1.0, 0.0, 0.0], abs=0.02)


def test_private_and_link_local_addresses_are_refused_without_a_connection() -> None:
    settings = load_settings({"serve": {"fetch_urls": True}})
    app = create_app(settings, ColourEmbedder(settings), transcriber_factory=None)
    with TestClient(app) as client:
        for address in ("10.1.2.3", "192.168.0.7", "169.254.169.254", "[::1]", "0.0.0.0"):
            url = f"http://{address}/latest/meta-data"
            response = client.post(
                "/v1.3/embed", data={"model_name": "mean-colour", "image_url": url}
            )
            assert "loopback, private or reserved" in _message(
                response, 400, "parameter_invalid"
            ), address
