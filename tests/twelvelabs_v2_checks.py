"""What the TwelveLabs Embed API v2 accepts, checked strictly for `tests/twelvelabs_v2_fake.py`.

Every sub-object is parsed with the official SDK's own pydantic request types (through
`parse_obj_as`, which maps aliases such as `base64_string`), so the fake accepts exactly the
shapes the SDK can send; because those models allow extra keys and their enums include `Any`,
unknown keys and values are refused here by hand. The rules come from the SDK's docstrings.
A refusal is a `Refusal(code, message)`; the codes are the fake's choice, in TwelveLabs' style:

- `parameter_invalid`: shape (unknown or missing fields, wrong model for an input type, a value
  out of its set, `end_sec <= start_sec`, not exactly one of url / base64_string / asset_id);
- `media_too_large`: media over 36 MB (audio/video) or 32 MB (images, multi_input sources),
  whatever the source; for tasks only base64 is limited (the SDK: "for a larger file, provide a
  URL or an asset identifier");
- `media_duration_too_long`: span over 600 s (sync 3.0), 30 s (sync 3.5), 14 400 s (tasks);
- `text_too_long`: over 500 tokens (3.0) or 2000 (3.5 without `auto_truncate`), counted with
  `vtembed.clip_tokens.get_counter().count`, a stand-in for TwelveLabs' own tokenizer;
- `media_invalid`: base64 that does not decode, an image that is not a JPEG/PNG cv2 decodes,
  audio/video PyAV cannot demux (or without the stream its kind needs);
- `media_fetch_failed`, `resource_not_exists`: a URL that does not answer 200, an unknown asset;
- `parameter_not_supported`: documents (this fake does not embed them).

All are answered 400 (never the 413 the SDK also maps), so a client test sees one status.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic
from twelvelabs.core.pydantic_utilities import parse_obj_as
from twelvelabs.types import (
    AsyncAudioInputRequest,
    AsyncDocumentInputRequest,
    AsyncImageInputRequest,
    AsyncTemporalSegmentation,
    AsyncVideoInputRequest,
    AudioInputRequest,
    ImageInputRequest,
    MultiInputRequest,
    TextImageInputRequest,
    TextInputRequest,
    VideoInputRequest,
)

from vtembed.clip_tokens import get_counter

MB = 1024 * 1024
DIMS = (256, 384, 512, 768, 1024)
SYNC_TYPES: dict[str, Any] = {
    "text": TextInputRequest,
    "image": ImageInputRequest,
    "text_image": TextImageInputRequest,
    "audio": AudioInputRequest,
    "video": VideoInputRequest,
    "multi_input": MultiInputRequest,
}
TASK_TYPES: dict[str, Any] = {
    "audio": AsyncAudioInputRequest,
    "video": AsyncVideoInputRequest,
    "image": AsyncImageInputRequest,
    "document": AsyncDocumentInputRequest,
}
TOP = {"input_type", "model_name", "embedding_uncertainty", "embedding_dimension"}
SYNC_FIELDS = TOP | {"auto_truncate"} | set(SYNC_TYPES)
TASK_FIELDS = TOP | set(TASK_TYPES)
MAX_SECONDS = {("sync", "marengo3.0"): 600.0, ("sync", "marengo3.5"): 30.0}
TASK_MAX_SECONDS = 4 * 3600.0
TEXT_TOKENS = {"marengo3.0": 500, "marengo3.5": 2000}
TOKENS_PER_IMAGE = 256
TOKENS_PER_SEC = {"audio": 25, "video": 50}
"""Usage the fake reports for 3.5: text tokens as counted above, a fixed count per image and
round(seconds x rate) for audio and video. Plausible, not TwelveLabs' real accounting."""
OPTIONS = {"audio": ("audio", "transcription"), "video": ("visual", "audio", "transcription")}
END_SLACK_SEC = 0.5
"""`end_sec` past the media's end by up to this much is cut to the end; more is refused."""


class Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Item:
    """What one request asks to embed, resolved: `content` is the text (UTF-8) or the media
    bytes (the same whether sent as base64, URL or asset), or `multi_content(...)`."""

    kind: str
    content: bytes
    start: float | None = None
    end: float | None = None
    options: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    segment_sec: float | None = None
    separate: bool = True
    fused: bool = False


@dataclass
class Plan:
    model: str
    input_type: str
    dim: int
    item: Item
    usage: dict[str, int] | None = None
    truncated: bool = False
    uncertainty: bool = False
    tokens: dict[str, int] = field(default_factory=dict)


def multi_content(text: str | None, sources: list[bytes]) -> bytes:
    """The content key of a multi_input or text_image request: its text and its sources' hashes,
    in order, so a test can compute the vector it should get back."""
    return json.dumps([text, [hashlib.sha256(s).hexdigest() for s in sources]]).encode()


def _refuse(message: str, code: str = "parameter_invalid") -> Refusal:
    return Refusal(code, message)


def _extras(value: Any, path: str) -> list[str]:
    if isinstance(value, pydantic.BaseModel):
        found = [f"{path}.{k}" for k in (value.model_extra or {})]
        for name in type(value).model_fields:
            found += _extras(getattr(value, name), f"{path}.{name}")
        return found
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _extras(v, f"{path}[{i}]")]
    return []


def _parse(type_: Any, obj: Any, name: str) -> Any:
    try:
        model = parse_obj_as(type_, obj)
    except pydantic.ValidationError as exc:
        raise _refuse(f"{name}: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}") from None
    unknown = _extras(model, name)
    if unknown:
        raise _refuse(f"unknown parameter(s) {', '.join(unknown)}")
    return model


def parse_request(
    body: Any, *, task: bool, assets: Mapping[str, bytes], fetch: Callable[[str], bytes]
) -> Plan:
    """Check a `POST embed-v2` (or `embed-v2/tasks` when `task`) JSON body; return its plan."""
    if not isinstance(body, dict):
        raise _refuse("the body must be a JSON object")
    allowed, types = (TASK_FIELDS, TASK_TYPES) if task else (SYNC_FIELDS, SYNC_TYPES)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _refuse(f"unknown parameter(s) {unknown}")
    model, input_type = body.get("model_name"), body.get("input_type")
    if model not in ("marengo3.0", "marengo3.5"):
        raise _refuse(f"model_name {model!r} is not marengo3.0 or marengo3.5")
    if input_type not in types:
        raise _refuse(f"input_type {input_type!r} is not one of {sorted(types)}")
    given = sorted(k for k in types if body.get(k) is not None)
    if given != [input_type]:
        raise _refuse(f"input_type {input_type} needs exactly the {input_type} object, got {given}")
    v35 = model == "marengo3.5"
    if not task and v35 and input_type != "multi_input":
        raise _refuse(f"input_type {input_type} requires marengo3.0; marengo3.5 takes multi_input")
    if task and input_type in ("image", "document") and not v35:
        raise _refuse(f"input_type {input_type} requires marengo3.5")
    for name in ("embedding_dimension", "auto_truncate", "embedding_uncertainty"):
        if body.get(name) is not None and not v35:
            raise _refuse(f"{name} requires marengo3.5")
    dim = body.get("embedding_dimension") or 512
    if dim not in DIMS or not isinstance(dim, int):
        raise _refuse(f"embedding_dimension {dim!r} is not one of {list(DIMS)}")
    for name in ("auto_truncate", "embedding_uncertainty"):
        if body.get(name) not in (None, True, False):
            raise _refuse(f"{name} must be a boolean")
    if input_type == "document":
        raise _refuse("documents are not supported by this fake", "parameter_not_supported")
    sub = _parse(types[input_type], body[input_type], input_type)
    plan = Plan(model, input_type, dim, Item(input_type, b""))
    plan.uncertainty = bool(body.get("embedding_uncertainty"))
    checker = _Checker(plan, task, bool(body.get("auto_truncate")), assets, fetch)
    plan.item = checker.item(sub)
    plan.usage = plan.tokens if v35 else None
    return plan


@dataclass
class _Checker:
    plan: Plan
    task: bool
    auto_truncate: bool
    assets: Mapping[str, bytes]
    fetch: Callable[[str], bytes]

    def item(self, sub: Any) -> Item:
        kind = self.plan.input_type
        if kind == "text":
            return Item("text", self.text(sub.input_text).encode())
        if kind == "image":
            if self.task:
                for name, only in (
                    ("embedding_option", ["visual"]),
                    ("embedding_scope", ["asset"]),
                ):
                    if getattr(sub, name) not in (None, only):
                        raise _refuse(f"image.{name} must be {only}")
                if sub.embedding_type not in (None, ["separate_embedding"]):
                    raise _refuse("image.embedding_type must be ['separate_embedding']")
                data = self.image(self.media(sub.media_source, 32 * MB))
                return Item("image", data, options=("visual",), scopes=("asset",))
            return Item("image", self.image(self.media(sub.media_source, 32 * MB)))
        if kind == "text_image":
            text = self.text(sub.input_text)
            data = self.image(self.media(sub.media_source, 32 * MB))
            return Item("text_image", multi_content(text, [data]))
        if kind == "multi_input":
            return self.multi(sub)
        return self.timed(kind, sub)

    def text(self, text: str) -> str:
        tokens = get_counter().count(text)
        limit = TEXT_TOKENS[self.plan.model]
        if tokens > limit and not (self.auto_truncate and self.plan.model == "marengo3.5"):
            raise _refuse(f"text of {tokens} tokens exceeds {limit}", "text_too_long")
        self.plan.truncated = tokens > limit
        self._count("text", min(tokens, limit))
        return text

    def _count(self, kind: str, n: int) -> None:
        self.plan.tokens[kind] = self.plan.tokens.get(kind, 0) + n

    def media(self, source: Any, limit: int) -> bytes:
        given = [n for n in ("url", "base_64_string", "asset_id") if getattr(source, n) is not None]
        if len(given) != 1:
            raise _refuse(
                f"media_source needs exactly one of url, base64_string, asset_id: {given}"
            )
        if source.base_64_string is not None:
            try:
                data = base64.b64decode(source.base_64_string, validate=True)
            except (binascii.Error, ValueError):
                raise _refuse("base64_string is not valid base64", "media_invalid") from None
        elif source.asset_id is not None:
            if source.asset_id not in self.assets:
                raise _refuse(f"asset {source.asset_id} does not exist", "resource_not_exists")
            data = self.assets[source.asset_id]
        else:
            if not re.match(r"https?://", source.url):
                raise _refuse(f"url {source.url!r} is not http(s)")
            data = self.fetch(source.url)
        if len(data) > limit and (source.base_64_string is not None or not self.task):
            raise _refuse(f"media of {len(data)} bytes exceeds {limit // MB} MB", "media_too_large")
        return data

    def image(self, data: bytes) -> bytes:
        import cv2
        import numpy as np

        picture = None
        if data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
            picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if picture is None:
            raise _refuse("the image is not a JPEG or PNG picture", "media_invalid")
        self._count("image", TOKENS_PER_IMAGE)
        return data

    def seconds(
        self, data: bytes, kind: str, start: float | None, end: float | None
    ) -> tuple[float, float]:
        """The span to embed, checked against the media's real length (demuxed in process)."""
        length = media_seconds(data, kind)
        if length is None:
            raise _refuse(f"the {kind} cannot be read as {kind}", "media_invalid")
        s, e = start or 0.0, length if end is None else end
        if s < 0 or e <= s:
            raise _refuse(f"end_sec {e} must be greater than start_sec {s} >= 0")
        if e > length + END_SLACK_SEC:
            raise _refuse(f"end_sec {e} is past the end of the {length:.3f} s {kind}")
        e = min(e, length)
        if e <= s:
            raise _refuse(f"start_sec {s} is at or past the end of the {length:.3f} s {kind}")
        limit = TASK_MAX_SECONDS if self.task else MAX_SECONDS[("sync", self.plan.model)]
        if e - s > limit:
            raise _refuse(
                f"{kind} span of {e - s:.3f} s exceeds {limit:g} s", "media_duration_too_long"
            )
        self._count(kind, round((e - s) * TOKENS_PER_SEC[kind]))
        return s, e

    def timed(self, kind: str, sub: Any) -> Item:
        v35 = self.plan.model == "marengo3.5"
        data = self.media(sub.media_source, 36 * MB)
        start, end = self.seconds(data, kind, sub.start_sec, sub.end_sec)
        allowed = OPTIONS[kind][:-1] if v35 else OPTIONS[kind]
        options = tuple(sub.embedding_option or allowed)
        scopes = tuple(sub.embedding_scope or ("clip", "asset"))
        types = tuple(sub.embedding_type or ("separate_embedding",))
        for name, values, ok in (
            ("embedding_option", options, allowed),
            (
                "embedding_scope",
                scopes,
                ("clip", "asset", "local") if self.task else ("clip", "asset"),
            ),
            ("embedding_type", types, ("separate_embedding", "fused_embedding")),
        ):
            if not set(values) <= set(ok) or len(set(values)) != len(values):
                raise _refuse(f"{kind}.{name} {list(values)} must be distinct values of {list(ok)}")
        if sub.embedding_type is not None and len(options) < 2:
            raise _refuse(f"{kind}.embedding_type needs at least two embedding_option values")
        fused = "fused_embedding" in types
        if fused and self.task and v35 and not getattr(sub, "time_based_metadata", None):
            raise _refuse(f"{kind}: fused_embedding with marengo3.5 needs time_based_metadata")
        if self.plan.uncertainty and "asset" in scopes:
            raise _refuse(f"embedding_uncertainty needs {kind}.embedding_scope without asset")
        scopes = tuple(dict.fromkeys("clip" if s == "local" else s for s in scopes))
        return Item(
            kind,
            data,
            start,
            end,
            options,
            scopes,
            self.segment_sec(kind, sub.segmentation),
            "separate_embedding" in types,
            fused,
        )

    def segment_sec(self, kind: str, seg: Any) -> float | None:
        """Fixed `duration_sec`, or dynamic's `min_duration_sec` (the fake cuts equal segments);
        none given: one segment for the span (sync) or the 3.0 task defaults, 6 s / 4 s."""
        temporal = isinstance(seg, AsyncTemporalSegmentation)
        if seg is not None and self.task and temporal != (self.plan.model == "marengo3.5"):
            raise _refuse(f"{kind}.segmentation structure does not match {self.plan.model}")
        seg = seg.temporal if temporal else seg
        if seg is None:
            return (6.0 if kind == "audio" else 4.0) if self.task else None
        if seg.strategy == "fixed" and getattr(seg, "fixed", None) is not None:
            value, low, high = seg.fixed.duration_sec, 2, 10
        elif seg.strategy == "dynamic" and kind == "video" and getattr(seg, "dynamic", None):
            value, low, high = seg.dynamic.min_duration_sec, 2, 5
        else:
            raise _refuse(f"{kind}.segmentation strategy {seg.strategy!r} is not valid here")
        if not low <= value <= high:
            raise _refuse(f"{kind}.segmentation duration {value} is not within {low}..{high}")
        return float(value)

    def multi(self, sub: Any) -> Item:
        v35 = self.plan.model == "marengo3.5"
        sources = sub.media_sources or []
        if sub.input_text is None and not sources:
            raise _refuse("multi_input needs input_text, media_sources or both")
        if len(sources) > 10:
            raise _refuse(f"multi_input takes up to 10 media sources, got {len(sources)}")
        if sub.input_text is not None:
            self.text(sub.input_text)
            names = {s.name for s in sources if s.name}
            for ref in re.findall(r"<@([^>]+)>", sub.input_text):
                if ref not in names:
                    raise _refuse(f"input_text refers to <@{ref}>, which no media source names")
        kinds = [s.media_type for s in sources]
        allowed = ("image", "audio", "video") if v35 else ("image",)
        for k in kinds:
            if k == "document":
                raise _refuse("documents are not supported by this fake", "parameter_not_supported")
            if k not in allowed:
                raise _refuse(
                    f"media_type {k!r} is not one of {list(allowed)} for {self.plan.model}"
                )
        if len(set(kinds)) > 1 and sub.input_text is None:
            raise _refuse("media sources of different types need input_text")
        if self.plan.uncertainty and sub.input_text is not None and sources:
            raise _refuse("embedding_uncertainty cannot combine text with media sources")
        blobs = []
        for source in sources:
            data = self.media(source, 32 * MB)
            if source.media_type == "image":
                self.image(data)
            else:
                self.seconds(data, source.media_type, None, None)
            blobs.append(data)
        return Item("multi_input", multi_content(sub.input_text, blobs))


def media_seconds(data: bytes, kind: str) -> float | None:
    """Seconds the media lasts, from its packets' timestamps (demuxed with PyAV, not a header's
    claim, which a file written to a pipe lacks); None if it has no `kind` stream to read."""
    import av

    want = "video" if kind == "video" else "audio"
    try:
        with av.open(io.BytesIO(data)) as container:
            streams = [s for s in container.streams if s.type in ("audio", "video")]
            if not any(s.type == want for s in streams):
                return None
            end = 0.0
            for packet in container.demux(*streams):
                if packet.pts is not None and packet.time_base is not None:
                    stop = (packet.pts + (packet.duration or 0)) * packet.time_base
                    end = max(end, float(stop))
            return end if end > 0 and math.isfinite(end) else None
    except (av.FFmpegError, UnicodeDecodeError):
        return None
