"""`vtembed serve`: the TwelveLabs Embed API v2, synchronous (`POST /v1.3/embed-v2`, JSON),
answered by the served embedder, so `client.embed.v_2.create(...)` runs offline.

Bodies are parsed with the official SDK's own request types (`parse_obj_as`, which maps aliases
such as `base64_string`), so this route accepts the shapes the SDK sends; those types allow
extra keys and their enums include `Any`, so unknown keys and values are refused here by hand.
Every refusal is TwelveLabs' `{code, message}` 400. Text and pictures are embedded here as
v1.3 embeds them (`fit_text`, `ImageService`); audio and video in `server_v2_media`.
Embedding tasks (`/embed-v2/tasks`) are not served: there is no task or asset store here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import tempfile
from pathlib import Path
from typing import Any

import pydantic
from fastapi import FastAPI, Request
from twelvelabs.core.pydantic_utilities import parse_obj_as
from twelvelabs.types import (
    AudioInputRequest,
    ImageInputRequest,
    MultiInputRequest,
    TextImageInputRequest,
    TextInputRequest,
    VideoInputRequest,
)

from vtembed.embedder import Embedder
from vtembed.server_audio import AudioService
from vtembed.server_errors import ApiError
from vtembed.server_fetch import download
from vtembed.server_image import ImageService
from vtembed.server_v2_media import OPTIONS, SCOPES, MediaV2, Plan, bad, check_span, entry
from vtembed.settings import Settings

PATH = "/v1.3/embed-v2"
MEDIA_MB, IMAGE_MB = 36.0, 32.0
"""The API's limits of a decoded media source: audio and video, pictures."""
INPUT_TYPES: dict[str, Any] = {
    "text": TextInputRequest,
    "image": ImageInputRequest,
    "text_image": TextImageInputRequest,
    "audio": AudioInputRequest,
    "video": VideoInputRequest,
    "multi_input": MultiInputRequest,
}
_TOP = {"input_type", "model_name", "auto_truncate", "embedding_uncertainty"}
TOP_FIELDS = _TOP | {"embedding_dimension", *INPUT_TYPES}
_SOURCE_FIELDS = ("url", "base_64_string", "asset_id")


def add_v2_routes(
    app: FastAPI, settings: Settings, embedder: Embedder, audio: AudioService, image: ImageService
) -> None:
    """Register the v2 route on the v1.3 app, sharing its services (one Whisper, one OCR)."""
    media = MediaV2(settings, embedder, audio)

    @app.api_route(PATH + "/tasks{rest:path}", methods=["GET", "POST", "DELETE"])
    async def tasks(rest: str) -> None:
        raise ApiError(
            404,
            "parameter_not_supported",
            "embedding tasks (/embed-v2/tasks) are not served here: use the synchronous "
            f"POST {PATH} (audio and video up to 600 s)",
        )

    @app.post(PATH)
    async def embed_v2(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise bad("the body must be JSON") from None
        input_type, sub, truncate = _check_top(body, embedder)
        if input_type == "text":
            return {"data": [await _text(embedder, sub.input_text, truncate)]}
        if input_type == "multi_input":
            return await _multi(embedder, image, settings, sub, truncate)
        if input_type == "image":
            return await _image(image, settings, sub.media_source, "image")
        plan = parse_timed(input_type, sub, embedder)  # refused before anything is received
        with tempfile.TemporaryDirectory(prefix="vtembed-serve-v2-") as tmp:
            path, label = Path(tmp) / "media", f"{input_type}.media_source"
            limit = _limit(settings, MEDIA_MB)
            meta = await receive(sub.media_source, path, limit, label, settings)
            data, extra = await media.embed(plan, path, Path(tmp), label)
        return {"data": data, "metadata": {"input_type": input_type, **meta, **extra}}


def _check_top(body: Any, embedder: Embedder) -> tuple[str, Any, str]:
    """The input type, its parsed sub-object and how text that is too long is cut."""
    if not isinstance(body, dict):
        raise bad("the body must be a JSON object")
    unknown = sorted(set(body) - TOP_FIELDS)
    if unknown:
        raise bad(f"unknown parameter(s): {', '.join(unknown)}")
    model = body.get("model_name")
    if model is None:
        raise bad("required but not provided: model_name", "parameter_not_provided")
    if model != embedder.model_name:
        raise bad(f"model_name {model!r} is not served here; known models: {embedder.model_name}")
    input_type = body.get("input_type")
    if input_type not in INPUT_TYPES:
        known = ", ".join(INPUT_TYPES)
        raise bad(f"input_type {input_type!r} is not one of {known}")
    given = sorted(k for k in INPUT_TYPES if body.get(k) is not None)
    if given != [input_type]:
        got = ", ".join(given) or "none"
        raise bad(f"input_type {input_type} needs exactly the {input_type} object; got {got}")
    if input_type == "text_image":
        raise bad(
            "text_image (one vector of a text and a picture together) is not served here: "
            "send the text and the picture as two requests",
            "parameter_not_supported",
        )
    dim = body.get("embedding_dimension")
    if dim is not None and dim != embedder.dim:
        raise bad(
            f"embedding_dimension {dim!r}: {embedder.model_name} has {embedder.dim} dimensions"
        )
    if body.get("embedding_uncertainty"):
        raise bad("embedding_uncertainty is not served here", "parameter_not_supported")
    truncate = body.get("auto_truncate")
    if truncate not in (None, True, False):
        raise bad("auto_truncate must be a boolean")
    sub = parse_sub(INPUT_TYPES[input_type], body[input_type], input_type)
    return input_type, sub, "none" if truncate is False else "end"


def parse_sub(type_: Any, obj: Any, name: str) -> Any:
    """The SDK's type of the sub-object, refusing what it does not declare (at any depth)."""
    try:
        model = parse_obj_as(type_, obj)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in (name, *first["loc"]))
        raise bad(f"{where}: {first['msg']}") from None
    unknown = _extras(model, name)
    if unknown:
        raise bad(f"unknown parameter(s): {', '.join(unknown)}")
    return model


def parse_timed(kind: str, sub: Any, embedder: Embedder) -> Plan:
    """The request's options checked: distinct known values, no fused embeddings, fixed
    segments of 2..10 s (by default the embedder's segment length)."""
    explicit = sub.embedding_option is not None
    options = tuple(sub.embedding_option or OPTIONS[kind])
    if not explicit and embedder.image_input is None:
        options = tuple(o for o in options if o != "visual")
    scopes = tuple(sub.embedding_scope or SCOPES)
    for name, values, allowed in (
        ("embedding_option", options, OPTIONS[kind]),
        ("embedding_scope", scopes, SCOPES),
    ):
        if not values or not set(values) <= set(allowed) or len(set(values)) != len(values):
            raise bad(f"{kind}.{name} {list(values)} must be distinct values of {list(allowed)}")
    if "visual" in options and embedder.image_input is None:
        raise bad(
            f"{kind}.embedding_option visual: the {embedder.name} embedder has no image embeddings",
            "parameter_not_supported",
        )
    if sub.embedding_type not in (None, ["separate_embedding"]):
        raise bad(
            f"{kind}.embedding_type: only separate_embedding is served here",
            "parameter_not_supported",
        )
    start = sub.start_sec or 0.0
    if start < 0 or (sub.end_sec is not None and sub.end_sec <= start):
        raise bad(f"{kind}: end_sec must be greater than start_sec >= 0")
    if sub.end_sec is not None:
        check_span(kind, sub.end_sec - start)
    return Plan(
        kind, start, sub.end_sec, _segment_sec(kind, sub.segmentation, embedder), options, scopes
    )


def _segment_sec(kind: str, seg: Any, embedder: Embedder) -> float:
    if seg is None:
        return embedder.audio_segment_sec
    fixed = getattr(seg, "fixed", None)
    if seg.strategy != "fixed" or fixed is None:
        raise bad(
            f"{kind}.segmentation: only the fixed strategy is served here",
            "parameter_not_supported",
        )
    if not 2 <= fixed.duration_sec <= 10:
        raise bad(
            f"{kind}.segmentation.fixed.duration_sec {fixed.duration_sec} is not within 2..10"
        )
    return float(fixed.duration_sec)


def _extras(value: Any, path: str) -> list[str]:
    if isinstance(value, pydantic.BaseModel):
        found = [f"{path}.{k}" for k in (value.model_extra or {})]
        for name in type(value).model_fields:
            found += _extras(getattr(value, name), f"{path}.{name}")
        return found
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _extras(v, f"{path}[{i}]")]
    return []


def _limit(settings: Settings, api_mb: float) -> float:
    """The API's limit, or this server's `max_upload_mb` when that is smaller."""
    return min(api_mb, settings.serve.max_upload_mb)


async def receive(
    source: Any, dest: Path, limit_mb: float, label: str, settings: Settings
) -> dict[str, str]:
    """Write a media source's bytes to `dest` within `limit_mb`; the response's metadata of it.
    A URL only through `server_fetch.download` and its policy; asset ids need an asset store."""
    given = [n for n in _SOURCE_FIELDS if getattr(source, n, None) is not None]
    if len(given) != 1:
        names = ", ".join("base64_string" if n == "base_64_string" else n for n in given)
        raise bad(
            f"{label} needs exactly one of url, base64_string, asset_id; got {names or 'none'}"
        )
    limit = int(limit_mb * 1024 * 1024)
    too_big = bad(
        f"{label}: the media is larger than the limit of {limit_mb:g} MB", "media_too_large"
    )
    if source.asset_id is not None:
        raise bad(
            f"{label}.asset_id: this server has no asset store; send base64_string instead",
            "parameter_not_supported",
        )
    if source.url is not None:
        try:
            await download(source.url, dest, limit_mb, f"{label}.url", settings.serve)
        except ApiError as exc:
            if exc.status_code == 413:
                raise too_big from None
            raise
        return {"input_url": source.url}
    text: str = source.base_64_string
    if len(text) * 3 // 4 > limit + 3:  # refuse before decoding
        raise too_big
    try:
        data = await asyncio.to_thread(base64.b64decode, text, validate=True)
    except (binascii.Error, ValueError):
        raise bad(f"{label}.base64_string is not base64", "media_invalid") from None
    if len(data) > limit:
        raise too_big
    await asyncio.to_thread(dest.write_bytes, data)
    return {}


async def _text(embedder: Embedder, text: str, truncate: str) -> dict[str, Any]:
    from vtembed.server import fit_text

    if not text.strip():
        raise bad("text.input_text is empty")
    chunk = await asyncio.to_thread(fit_text, text, embedder.text_token_limit, truncate)
    [vector] = await embedder.embed([chunk])
    return entry(vector)


async def _image(image: ImageService, settings: Settings, source: Any, name: str) -> dict[str, Any]:
    embedder = image.embedder
    if embedder.image_input is None:
        raise bad(
            f"the {embedder.name} embedder ({embedder.model_name}) has no image embeddings",
            "parameter_not_supported",
        )
    with tempfile.TemporaryDirectory(prefix="vtembed-serve-v2-") as tmp:
        received = Path(tmp) / "upload"
        label = f"{name}.media_source"
        meta = await receive(source, received, _limit(settings, IMAGE_MB), label, settings)
        vector = await image.vector(received, Path(tmp), label)
    return {"data": [entry(vector)], "metadata": {"input_type": "image", **meta}}


async def _multi(
    embedder: Embedder, image: ImageService, settings: Settings, sub: Any, truncate: str
) -> dict[str, Any]:
    """Only what one vector of this embedder can stand for: a text alone, or one picture."""
    sources = sub.media_sources or []
    if sub.input_text is not None and not sources:
        return {"data": [await _text(embedder, sub.input_text, truncate)]}
    if sub.input_text is None and len(sources) == 1 and sources[0].media_type == "image":
        answer = await _image(image, settings, sources[0], "multi_input.media_sources[0]")
        answer["metadata"] = {"input_type": "multi_input"}
        return answer
    raise bad(
        "multi_input is served here only with input_text alone or with one image media source "
        "alone: this server does not fuse several inputs into one vector",
        "parameter_not_supported",
    )
