"""The strict Embed API v2 fake (tests/twelvelabs_v2_fake.py) driven by the official SDK: what it
accepts it answers in the SDK's own response types, with vectors a test can predict; what the
SDK could be made to send wrong (a field for the other model, two media sources, a span too
long) is a 400 and a violation; faults come in order, then success; tasks go processing → ready
or failed. If the fake were lax, the embedder tests that rely on it would prove nothing."""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from twelvelabs import TwelveLabs
from twelvelabs.core.api_error import ApiError
from twelvelabs.errors import BadRequestError, InternalServerError, TooManyRequestsError
from twelvelabs.types import (
    AudioInputRequest,
    AudioSegmentation,
    AudioSegmentationFixed,
    EmbeddingSuccessResponse,
    ImageInputRequest,
    MediaSource,
    MultiInputMediaSource,
    MultiInputRequest,
    TextInputRequest,
    VideoInputRequest,
)
from twelvelabs.types.async_audio_input_request import AsyncAudioInputRequest
from twelvelabs.types.async_video_input_request import AsyncVideoInputRequest

from tests.http_media_server import MediaServer, Route
from tests.twelvelabs_v2_fake import FakeTwelveLabsV2

KEY = "tlk_v2_fake_key"
expected = FakeTwelveLabsV2.expected_vector


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory, tools: None) -> dict[str, bytes]:
    """4 s of a tone (WAV), 4 s of testsrc with a tone (mp4), 40 s of tone (FLAC), a JPEG."""
    folder = tmp_path_factory.mktemp("v2media")
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000"]
    jobs = {
        "wav": [*tone, "-t", "4", "-ac", "1"],
        "mp4": [
            *["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", *tone],
            *["-t", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"],
        ],
        "flac": [*tone, "-t", "40", "-ac", "1"],
    }
    out: dict[str, bytes] = {}
    for ext, args in jobs.items():
        path = folder / f"m.{ext}"
        subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(path)], check=True)
        out[ext] = path.read_bytes()
    picture = np.zeros((48, 64, 3), np.uint8)
    picture[:, :32] = (0, 0, 255)
    out["jpeg"] = cv2.imencode(".jpg", picture)[1].tobytes()
    return out


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwelveLabsV2]:
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)  # the SDK prefers it to base_url
    server = FakeTwelveLabsV2(api_key=KEY)
    server.base_url = server.start()  # type: ignore[attr-defined]
    yield server
    server.stop()


def _client(fake: FakeTwelveLabsV2, key: str = KEY) -> TwelveLabs:
    return TwelveLabs(api_key=key, base_url=fake.base_url)  # type: ignore[attr-defined]


def _b64(data: bytes) -> MediaSource:
    return MediaSource(base_64_string=base64.b64encode(data).decode())


def test_text_and_image_with_marengo_3_0(fake: FakeTwelveLabsV2, media: dict[str, bytes]) -> None:
    client = _client(fake)
    text = client.embed.v_2.create(
        input_type="text", model_name="marengo3.0", text=TextInputRequest(input_text="a red door")
    )
    image = client.embed.v_2.create(
        input_type="image",
        model_name="marengo3.0",
        image=ImageInputRequest(media_source=_b64(media["jpeg"])),
    )
    assert isinstance(text, EmbeddingSuccessResponse) and text.usage is None  # 3.0: no usage
    [t], [i] = text.data, image.data
    assert t.embedding == expected("text", "a red door") and len(t.embedding) == 512
    assert (t.embedding_option, t.embedding_scope, t.start_sec) == (None, None, None)
    assert i.embedding == expected("image", media["jpeg"])
    assert i.embedding != t.embedding
    assert [a.path for a in fake.arrivals] == ["/v1.3/embed-v2"] * 2
    assert [a.input_type for a in fake.arrivals] == ["text", "image"]
    assert fake.violations == []


def test_wrong_api_key_is_401(fake: FakeTwelveLabsV2) -> None:
    with pytest.raises(ApiError) as caught:
        _client(fake, "tlk_wrong").embed.v_2.create(
            input_type="text", model_name="marengo3.0", text=TextInputRequest(input_text="x")
        )
    assert caught.value.status_code == 401 and caught.value.body["code"] == "api_key_invalid"


def test_audio_segments_options_and_scopes(fake: FakeTwelveLabsV2, media: dict[str, bytes]) -> None:
    """1.5..4 s of a 4 s WAV cut in 2 s clips: absolute times, options in order, asset last."""
    answer = _client(fake).embed.v_2.create(
        input_type="audio",
        model_name="marengo3.0",
        audio=AudioInputRequest(
            media_source=_b64(media["wav"]),
            start_sec=1.5,
            segmentation=AudioSegmentation(
                strategy="fixed", fixed=AudioSegmentationFixed(duration_sec=2)
            ),
            embedding_type=["separate_embedding", "fused_embedding"],
        ),
    )
    got = [(d.embedding_option, d.embedding_scope, d.start_sec, d.end_sec) for d in answer.data]
    want = [
        (option, scope, s, e)
        for option in ("audio", "transcription", "fused")
        for scope, cuts in (("clip", ((1.5, 3.5), (3.5, 4.0))), ("asset", ((1.5, 4.0),)))
        for s, e in cuts
    ]
    assert got == want
    first = answer.data[0]
    assert first.embedding == expected("audio", media["wav"], 1.5, 3.5, "audio", 512, "clip")
    assert len({tuple(d.embedding) for d in answer.data}) == len(answer.data)
    assert fake.violations == []


def test_video_defaults_one_clip_for_the_span(
    fake: FakeTwelveLabsV2, media: dict[str, bytes]
) -> None:
    answer = _client(fake).embed.v_2.create(
        input_type="video",
        model_name="marengo3.0",
        video=VideoInputRequest(media_source=_b64(media["mp4"]), embedding_scope=["clip"]),
    )
    assert [d.embedding_option for d in answer.data] == ["visual", "audio", "transcription"]
    assert {(d.start_sec, d.end_sec) for d in answer.data} == {(0.0, 4.0)}
    assert answer.data[1].embedding == expected(
        "video", media["mp4"], 0.0, 4.0, "audio", 512, "clip"
    )


def test_multi_input_for_3_5_with_256_dims_and_usage(
    fake: FakeTwelveLabsV2, media: dict[str, bytes]
) -> None:
    source = MultiInputMediaSource(
        name="pic", media_type="image", base_64_string=base64.b64encode(media["jpeg"]).decode()
    )
    clip = MultiInputMediaSource(
        media_type="audio", base_64_string=base64.b64encode(media["wav"]).decode()
    )
    answer = _client(fake).embed.v_2.create(
        input_type="multi_input",
        model_name="marengo3.5",
        embedding_dimension=256,
        multi_input=MultiInputRequest(
            input_text="a door like <@pic>", media_sources=[source, clip]
        ),
    )
    [d] = answer.data
    content = FakeTwelveLabsV2.multi_content("a door like <@pic>", [media["jpeg"], media["wav"]])
    assert d.embedding == expected("multi_input", content, dim=256)
    head = np.array(expected("multi_input", content, dim=512)[:256])
    assert np.allclose(head / np.linalg.norm(head), d.embedding, atol=1e-5)  # Matryoshka-like
    assert answer.usage is not None and answer.usage.truncated is False
    assert answer.usage.input_tokens["image"] == 256 and answer.usage.input_tokens["audio"] == 100
    assert answer.usage.input_tokens["text"] > 0
    assert fake.violations == []


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        (
            {
                "model_name": "marengo3.5",
                "input_type": "text",
                "text": TextInputRequest(input_text="hi"),
            },
            "requires marengo3.0",
        ),
        (
            {
                "model_name": "marengo3.0",
                "input_type": "text",
                "text": TextInputRequest(input_text="hi"),
                "embedding_dimension": 256,
            },
            "embedding_dimension requires marengo3.5",
        ),
        (
            {
                "model_name": "marengo3.0",
                "input_type": "image",
                "image": ImageInputRequest(
                    media_source=MediaSource(url="http://127.0.0.1:9/x.jpg", base_64_string="AAAA")
                ),
            },
            "exactly one of",
        ),
        (
            {
                "model_name": "marengo3.0",
                "input_type": "audio",
                "text": TextInputRequest(input_text="hi"),
            },
            "needs exactly the audio object",
        ),
        (
            {
                "model_name": "marengo3.0",
                "input_type": "image",
                "image": ImageInputRequest(
                    media_source=MediaSource(base_64_string="bm90IGFuIGltYWdl")
                ),
            },
            "not a JPEG or PNG",
        ),
        (
            {
                "model_name": "marengo3.0",
                "input_type": "text",
                "text": TextInputRequest(input_text="word " * 600),
            },
            "exceeds 500",
        ),
    ],
)
def test_bad_bodies_are_400_and_violations(fake: FakeTwelveLabsV2, kwargs: dict, why: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        _client(fake).embed.v_2.create(**kwargs)
    assert why in caught.value.body["message"]
    assert len(fake.violations) == 1 and why in fake.violations[0]
    assert [a.answer for a in fake.arrivals] == ["400"]


def test_over_30_s_for_3_5_is_refused_and_audio_span_checked(
    fake: FakeTwelveLabsV2, media: dict[str, bytes]
) -> None:
    long = MultiInputMediaSource(
        media_type="audio", base_64_string=base64.b64encode(media["flac"]).decode()
    )
    with pytest.raises(BadRequestError) as caught:
        _client(fake).embed.v_2.create(
            input_type="multi_input",
            model_name="marengo3.5",
            multi_input=MultiInputRequest(media_sources=[long]),
        )
    assert (
        caught.value.body["code"] == "media_duration_too_long"
        and "exceeds 30 s" in caught.value.body["message"]
    )
    with pytest.raises(BadRequestError) as caught:
        _client(fake).embed.v_2.create(
            input_type="audio",
            model_name="marengo3.0",
            audio=AudioInputRequest(media_source=_b64(media["wav"]), start_sec=3.0, end_sec=2.0),
        )
    assert "must be greater than start_sec" in caught.value.body["message"]
    with pytest.raises(BadRequestError):  # 4 s of media: an end at 9 s is not there
        _client(fake).embed.v_2.create(
            input_type="audio",
            model_name="marengo3.0",
            audio=AudioInputRequest(media_source=_b64(media["wav"]), end_sec=9.0),
        )
    assert len(fake.violations) == 3


def test_unknown_top_level_field_is_refused_raw(fake: FakeTwelveLabsV2) -> None:
    """A key the SDK never sends (so only a hand-made client could): refused, not ignored."""
    body = {
        "input_type": "text",
        "model_name": "marengo3.0",
        "text": {"input_text": "x"},
        "text_truncate": "none",
    }
    answer = httpx.post(f"{fake.base_url}/embed-v2", json=body, headers={"x-api-key": KEY})  # type: ignore[attr-defined]
    assert answer.status_code == 400
    assert (
        answer.json()["code"] == "parameter_invalid" and "text_truncate" in answer.json()["message"]
    )
    nested = {**body, "text": {"input_text": "x", "truncate": True}}
    nested.pop("text_truncate")
    answer = httpx.post(f"{fake.base_url}/embed-v2", json=nested, headers={"x-api-key": KEY})  # type: ignore[attr-defined]
    assert answer.status_code == 400 and "text.truncate" in answer.json()["message"]
    assert len(fake.violations) == 2


@pytest.mark.slow  # waits out real Retry-After headers, about 3-5 s
def test_faults_in_order_then_success(fake: FakeTwelveLabsV2) -> None:
    """The SDK retries 429/5xx itself when told to (honouring Retry-After, seconds or a date),
    not a dropped connection: the test retries that one by hand, as a client must."""
    fake.faults = ("500", "429", "503-date", "429-date", "drop", "slow")
    fake.slow_sec = 0.6
    client = _client(fake)
    text = TextInputRequest(input_text="retry me")
    with pytest.raises(InternalServerError):  # the SDK does not retry by default
        client.embed.v_2.create(input_type="text", model_name="marengo3.0", text=text)
    with pytest.raises(TooManyRequestsError) as caught:
        client.embed.v_2.create(input_type="text", model_name="marengo3.0", text=text)
    assert caught.value.headers["retry-after"] == "1"
    retries: Any = {"max_retries": 4}  # the SDK counts from 2: two retries
    with pytest.raises(httpx.RemoteProtocolError):
        client.embed.v_2.create(
            input_type="text", model_name="marengo3.0", text=text, request_options=retries
        )
    began = time.monotonic()
    answer = client.embed.v_2.create(input_type="text", model_name="marengo3.0", text=text)
    assert time.monotonic() - began >= 0.6
    assert answer.data[0].embedding == expected("text", "retry me")
    assert [a.answer for a in fake.arrivals] == [*fake.faults, "ok"][:6]
    at = [a.at for a in fake.arrivals]
    assert at[3] - at[2] >= 0.95 and at[4] - at[3] >= 0.95  # the HTTP dates were waited out
    assert list(fake.attempts.values()) == [6]
    assert fake.violations == []


def test_plain_faults_over_raw_http(fake: FakeTwelveLabsV2) -> None:
    fake.faults = ("503", "429", "drop")
    body = {"input_type": "text", "model_name": "marengo3.0", "text": {"input_text": "z"}}
    url, headers = f"{fake.base_url}/embed-v2", {"x-api-key": KEY}  # type: ignore[attr-defined]
    first, second = (httpx.post(url, json=body, headers=headers) for _ in range(2))
    assert (first.status_code, "retry-after" in first.headers) == (503, False)
    assert (second.status_code, second.headers["retry-after"]) == (429, "1")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(url, json=body, headers=headers)
    other = httpx.post(url, json={**body, "text": {"input_text": "other"}}, headers=headers)
    assert other.status_code == 503  # its own first attempt: faults go by request content
    assert httpx.post(url, json=body, headers=headers).json()["data"][0]["embedding"] == expected(
        "text", "z"
    )
    assert [a.answer for a in fake.arrivals] == ["503", "429", "drop", "503", "ok"]


def test_task_processing_then_ready(fake: FakeTwelveLabsV2, media: dict[str, bytes]) -> None:
    """A 40 s FLAC (too long for a sync 3.5 request): 6 s clips by default, ready on the 3rd GET."""
    client = _client(fake)
    created = client.embed.v_2.tasks.create(
        input_type="audio",
        model_name="marengo3.5",
        audio=AsyncAudioInputRequest(media_source=_b64(media["flac"]), embedding_scope=["clip"]),
    )
    assert created.status == "processing" and created.metadata.embedding_dimension == 512  # type: ignore[union-attr]
    fake.poll_faults = ("500",)
    with pytest.raises(ApiError) as failed:  # a failed GET is not a poll the task counts
        client.embed.v_2.tasks.retrieve(created.id)
    assert failed.value.status_code == 500
    polls = [client.embed.v_2.tasks.retrieve(created.id) for _ in range(3)]
    assert [p.status for p in polls] == ["processing", "processing", "ready"]
    assert polls[0].data is None
    ready = polls[2].data or []
    assert [(d.start_sec, d.end_sec) for d in ready] == FakeTwelveLabsV2.segments(0.0, 40.0, 6.0)
    assert {d.embedding_option for d in ready} == {"audio"}  # 3.5's default: no transcription
    assert ready[-1].embedding == expected("audio", media["flac"], 36.0, 40.0, "audio", 512, "clip")
    assert polls[2].usage is not None and polls[2].usage.input_tokens == {"audio": 1000}
    with pytest.raises(ApiError) as caught:
        client.embed.v_2.tasks.retrieve("0" * 24)
    assert caught.value.status_code == 404
    assert fake.violations == []


def test_failing_task_and_task_rules(fake: FakeTwelveLabsV2, media: dict[str, bytes]) -> None:
    fake.failing_task_message = "The embedding task could not complete processing."
    fake.task_polls_until_ready = 0
    client = _client(fake)
    created = client.embed.v_2.tasks.create(
        input_type="video",
        model_name="marengo3.0",
        video=AsyncVideoInputRequest(media_source=_b64(media["mp4"])),
    )
    done = client.embed.v_2.tasks.retrieve(created.id)
    assert done.status == "failed" and done.data is None
    assert done.error is not None and done.error.message == fake.failing_task_message
    with pytest.raises(BadRequestError) as caught:  # transcription is 3.0 only
        client.embed.v_2.tasks.create(
            input_type="audio",
            model_name="marengo3.5",
            audio=AsyncAudioInputRequest(
                media_source=_b64(media["wav"]), embedding_option=["transcription"]
            ),
        )
    assert "embedding_option" in caught.value.body["message"]
    assert len(fake.violations) == 1


def test_wrong_answers_on_request(fake: FakeTwelveLabsV2, media: dict[str, bytes]) -> None:
    """The switches a client test uses to see it refuses a bad answer."""
    fake.wrong_dim, fake.unknown_option = True, True
    answer = _client(fake).embed.v_2.create(
        input_type="audio",
        model_name="marengo3.0",
        audio=AudioInputRequest(
            media_source=_b64(media["wav"]), embedding_option=["audio"], embedding_scope=["asset"]
        ),
    )
    [d] = answer.data
    assert len(d.embedding) == 513 and d.embedding_option == "smell"
    fake.missing_data = True
    again = _client(fake).embed.v_2.create(
        input_type="text", model_name="marengo3.0", text=TextInputRequest(input_text="y")
    )
    assert again.data == []


def test_url_source_is_fetched(fake: FakeTwelveLabsV2, media: dict[str, bytes]) -> None:
    """A URL source is fetched and measured like base64: same bytes, same vector."""
    server = MediaServer().start()
    try:
        url = server.add("/a.wav", Route(media["wav"], "audio/wav"))
        source = MediaSource(url=url)
        answer = _client(fake).embed.v_2.create(
            input_type="audio",
            model_name="marengo3.0",
            audio=AudioInputRequest(
                media_source=source, embedding_option=["audio"], embedding_scope=["asset"]
            ),
        )
    finally:
        server.stop()
    assert server.gets["/a.wav"] == 1
    assert answer.data[0].embedding == expected(
        "audio", media["wav"], 0.0, 4.0, "audio", 512, "asset"
    )


def test_asset_ids_text_limits_and_dimensions_for_3_5(
    fake: FakeTwelveLabsV2, media: dict[str, bytes]
) -> None:
    fake.assets["asset-1"] = media["wav"]
    client = _client(fake)
    by_asset = MultiInputMediaSource(media_type="audio", asset_id="asset-1")
    answer = client.embed.v_2.create(
        input_type="multi_input",
        model_name="marengo3.5",
        multi_input=MultiInputRequest(media_sources=[by_asset]),
    )
    content = FakeTwelveLabsV2.multi_content(None, [media["wav"]])
    assert answer.data[0].embedding == expected("multi_input", content)  # 512 by default
    long_text = MultiInputRequest(input_text="word " * 2100)
    with pytest.raises(BadRequestError) as caught:
        client.embed.v_2.create(
            input_type="multi_input", model_name="marengo3.5", multi_input=long_text
        )
    assert caught.value.body["code"] == "text_too_long"
    cut = client.embed.v_2.create(
        input_type="multi_input", model_name="marengo3.5", multi_input=long_text, auto_truncate=True
    )
    assert cut.usage is not None and cut.usage.truncated is True
    assert cut.usage.input_tokens == {"text": 2000}
    for bad in (
        {"embedding_dimension": 300},
        {
            "multi_input": MultiInputRequest(
                media_sources=[by_asset.model_copy(update={"asset_id": "nope"})]
            )
        },
    ):
        kwargs: Any = {"multi_input": MultiInputRequest(input_text="q"), **bad}
        with pytest.raises(BadRequestError):
            client.embed.v_2.create(input_type="multi_input", model_name="marengo3.5", **kwargs)
    assert [v.split(":")[0] for v in fake.violations] == [
        "/v1.3/embed-v2 text_too_long",
        "/v1.3/embed-v2 parameter_invalid",
        "/v1.3/embed-v2 resource_not_exists",
    ]
