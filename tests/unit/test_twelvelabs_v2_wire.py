"""The Embed API v2 requests vtembed builds parse as the official SDK's own request types, and
answers are read strictly: one vector of the right length, or an error."""

from __future__ import annotations

import base64

import pytest
from twelvelabs.core.pydantic_utilities import parse_obj_as
from twelvelabs.types import (
    AudioInputRequest,
    ImageInputRequest,
    MultiInputRequest,
    TextInputRequest,
)

from vtembed.errors import MediaError
from vtembed.plugins.embedders.twelvelabs_v2 import EmbedV2

SINGLE, MULTI = EmbedV2(), EmbedV2(multi=True, dimension=256)
TYPES = {"text": TextInputRequest, "image": ImageInputRequest, "audio": AudioInputRequest}


def _body(request: dict) -> dict:
    assert set(request) == {"json"}  # JSON, never multipart
    return request["json"]


def test_marengo_3_0_requests_are_the_sdks_individual_input_types() -> None:
    built = {
        "text": SINGLE.text("marengo3.0", "a man with a dog"),
        "image": SINGLE.image("marengo3.0", b"\xff\xd8\xffjpeg"),
        "audio": SINGLE.audio_file("marengo3.0", b"fLaC..."),
    }
    for kind, request in built.items():
        body = _body(request)
        assert set(body) == {"input_type", "model_name", kind}
        assert body["input_type"] == kind and body["model_name"] == "marengo3.0"
        parse_obj_as(TYPES[kind], body[kind])  # raises if the SDK would not send this shape
    audio = parse_obj_as(AudioInputRequest, _body(built["audio"])["audio"])
    assert base64.b64decode(audio.media_source.base_64_string or "") == b"fLaC..."
    assert audio.embedding_option == ["audio"] and audio.embedding_scope == ["clip"]
    assert audio.segmentation is not None and audio.segmentation.fixed.duration_sec == 10
    by_url = _body(SINGLE.audio_url("marengo3.0", "https://e.x/a.mp3", 20.0, 30.0))["audio"]
    assert parse_obj_as(AudioInputRequest, by_url).media_source.url == "https://e.x/a.mp3"
    assert (by_url["start_sec"], by_url["end_sec"]) == (20.0, 30.0)


def test_marengo_3_5_sends_multi_input_with_its_dimension() -> None:
    for request, media in [
        (MULTI.text("marengo3.5", "slides"), None),
        (MULTI.image("marengo3.5", b"jpeg"), "image"),
        (MULTI.audio_file("marengo3.5", b"flac"), "audio"),
    ]:
        body = _body(request)
        assert body["input_type"] == "multi_input" and body["embedding_dimension"] == 256
        multi = parse_obj_as(MultiInputRequest, body["multi_input"])
        if media is None:
            assert multi.input_text == "slides" and not multi.media_sources
        else:
            assert [s.media_type for s in multi.media_sources or []] == [media]
    assert "embedding_dimension" not in _body(EmbedV2(multi=True).text("marengo3.5", "x"))
    with pytest.raises(MediaError, match="inline only"):
        MULTI.audio_url("marengo3.5", "https://e.x/a.mp3", 0.0, 10.0)


def _entry(dim: int, option: str | None = None, **extra: object) -> dict:
    return {"embedding": [0.5] * dim, "embedding_option": option, **extra}


def test_answers_are_read_strictly() -> None:
    assert SINGLE.vector({"data": [_entry(4)]}, "text", 4) == [0.5] * 4
    audio = {"data": [_entry(4, "transcription"), {**_entry(4, "audio"), "embedding": [1] * 4}]}
    assert SINGLE.vector(audio, "audio", 4) == [1.0] * 4  # the sound's entry, not the words'
    for kind, body, message in [
        ("text", {}, "without data"),
        ("text", {"data": []}, "without data"),
        ("text", {"data": [_entry(4), _entry(4)]}, "2 text embeddings"),
        ("text", {"data": [_entry(5)]}, "5-dim"),
        ("text", {"data": [_entry(4, "smell")]}, "unknown embedding_option 'smell'"),
        ("image", {"data": [{"embedding": "nope"}]}, "no float vector"),
        ("audio", {"data": [_entry(4, "transcription")]}, "0 audio embeddings"),
    ]:
        with pytest.raises(MediaError, match=message):
            SINGLE.vector(body, kind, 4)


def test_usage_tokens_are_read_when_reported() -> None:
    body = {"data": [], "usage": {"input_tokens": {"text": 12, "image": 1}, "truncated": False}}
    assert MULTI.usage(body) == {"text": 12, "image": 1}
    assert MULTI.usage({"data": []}) == {} and MULTI.usage(None) == {}
