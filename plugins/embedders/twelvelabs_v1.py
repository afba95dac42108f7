"""The TwelveLabs embed API v1.3 wire format (`POST {base_url}/embed`), apart from transport.

A request is a list of multipart parts; text fields are sent as parts too, because the API takes
multipart/form-data even for text (httpx sends `data=` alone as urlencoded). A response is
checked before a vector is trusted: wrong JSON or a vector of the wrong length is an error, never
a silently wrong record. The Embed API v2 would be a sibling module with the same three functions.
"""

from __future__ import annotations

from typing import Any

from vtembed.errors import MediaError

PROTOCOL = "twelvelabs-embed-v1"
PATH = "/embed"
Part = tuple[str, tuple[str | None, bytes | str, str | None]]


def text_parts(model_name: str, text: str) -> list[Part]:
    # text_truncate=none: chunks already fit, so a 400 for length is a bug to see, not hide.
    return [_field("model_name", model_name), _field("text", text), _field("text_truncate", "none")]


def audio_file_parts(model_name: str, flac: bytes, filename: str) -> list[Part]:
    return [_field("model_name", model_name), ("audio_file", (filename, flac, "audio/flac"))]


def image_file_parts(model_name: str, jpeg: bytes, filename: str) -> list[Part]:
    return [_field("model_name", model_name), ("image_file", (filename, jpeg, "image/jpeg"))]


def audio_url_parts(model_name: str, url: str, start_offset_sec: float) -> list[Part]:
    return [
        _field("model_name", model_name),
        _field("audio_url", url),
        _field("audio_start_offset_sec", f"{start_offset_sec:.3f}"),
    ]


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


def error_detail(body: Any) -> str:
    """`code: message` from an error body, or a short note when it is not the documented JSON."""
    if isinstance(body, dict) and ("code" in body or "message" in body):
        return f"{body.get('code', '?')}: {body.get('message', '')}"
    return "no error details in the answer"


def _field(name: str, value: str) -> Part:
    return (name, (None, value, None))
