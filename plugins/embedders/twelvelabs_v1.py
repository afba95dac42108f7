"""The TwelveLabs embed API v1.3 wire format (`POST {base_url}/embed`), apart from transport.

A request is a list of multipart parts; text fields are sent as parts too, because the API takes
multipart/form-data even for text (httpx sends `data=` alone as urlencoded). A response is
checked before a vector is trusted: wrong JSON or a vector of the wrong length is an error, never
a silently wrong record. `twelvelabs_v2` builds the same requests for the Embed API v2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vtembed.errors import MediaError

PROTOCOL = "twelvelabs-embed-v1"
PATH = "/embed"
Part = tuple[str, tuple[str | None, bytes | str, str | None]]
Request = dict[str, Any]
"""Keyword arguments of the POST (`files=`: multipart/form-data)."""


def text(model_name: str, text: str) -> Request:
    # text_truncate=none: chunks already fit, so a 400 for length is a bug to see, not hide.
    return _form(
        [_field("model_name", model_name), _field("text", text), _field("text_truncate", "none")]
    )


def audio_file(model_name: str, flac: bytes) -> Request:
    upload = ("audio_file", ("segment.flac", flac, "audio/flac"))
    return _form([_field("model_name", model_name), upload])


def image(model_name: str, jpeg: bytes) -> Request:
    upload = ("image_file", ("keyframe.jpg", jpeg, "image/jpeg"))
    return _form([_field("model_name", model_name), upload])


def audio_url(model_name: str, url: str, start_sec: float, end_sec: float) -> Request:
    """The API takes a start offset and embeds one segment from there: the end is implied."""
    return _form(
        [
            _field("model_name", model_name),
            _field("audio_url", url),
            _field("audio_start_offset_sec", f"{start_sec:.3f}"),
        ]
    )


def vector(body: Any, kind: str, dim: int) -> list[float]:
    """The first segment's vector of `text_embedding`, `audio_embedding` or `image_embedding`,
    checked."""
    key = f"{kind}_embedding"
    result = body.get(key) if isinstance(body, dict) else None
    if not isinstance(result, dict):
        raise MediaError(f"TwelveLabs answered without {key}: not the expected JSON")
    segments = result.get("segments")
    if not segments:
        reason = result.get("error_message") or "no segments"
        raise MediaError(f"TwelveLabs returned no {kind} embedding ({reason})")
    values = segments[0].get("float") if isinstance(segments[0], dict) else None
    if not isinstance(values, list) or not all(isinstance(v, int | float) for v in values):
        raise MediaError(f"TwelveLabs {key} has no float vector: not the expected JSON")
    if len(values) != dim:
        raise MediaError(f"TwelveLabs returned a {len(values)}-dim {kind} vector; expected {dim}")
    return [float(v) for v in values]


def usage(body: Any) -> Mapping[str, int]:
    """v1.3 reports no token counts."""
    return {}


def error_detail(body: Any) -> str:
    """`code: message` from an error body, or a short note when it is not the documented JSON."""
    if isinstance(body, dict) and ("code" in body or "message" in body):
        return f"{body.get('code', '?')}: {body.get('message', '')}"
    return "no error details in the answer"


def _field(name: str, value: str) -> Part:
    return (name, (None, value, None))


def _form(parts: list[Part]) -> Request:
    return {"files": parts}
