"""The TwelveLabs Embed API v2 wire format (`POST {base_url}/embed-v2`, JSON), apart from transport.

Two forms of one API: Marengo 3.0 takes each kind of input on its own (`input_type` text, image,
audio), Marengo 3.5 only `multi_input` (text and media sources combined into one embedding, of
`embedding_dimension` dims). Media travel inline as base64 (`media_source.base64_string`) or by
URL with the span to embed. A cut audio segment is asked for as one fixed clip of the segment
length, so each request gives exactly one vector; an answer with another number of entries, an
`embedding_option` we do not know, or a vector of the wrong length is an error, never a record.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from vtembed.errors import MediaError

PROTOCOL = "twelvelabs-embed-v2"
"""Individual input types (Marengo 3.0)."""
MULTI_PROTOCOL = "twelvelabs-embed-v2-multi"
"""`multi_input` only, with a choice of dimension (Marengo 3.5)."""
PATH = "/embed-v2"
OPTIONS = frozenset({"visual", "audio", "transcription", "fused", "text"})
"""The `embedding_option` values the API documents; anything else is not an answer we read."""
OPTION_OF = {"audio": "audio", "video": "visual"}
"""The one `embedding_option` asked for each kind of timed media (vtembed transcribes itself)."""
CLIP_SEC = 10
"""The longest fixed segment the API cuts (2-10 s): a segment this long or shorter is one clip."""


@dataclass(frozen=True)
class EmbedV2:
    """Builds requests and reads answers for one model: `multi` for the multi_input form, whose
    `dimension` (None: the model's own) is sent as `embedding_dimension`."""

    multi: bool = False
    dimension: int | None = None
    PATH: ClassVar[str] = PATH

    def text(self, model_name: str, text: str) -> dict[str, Any]:
        if self.multi:
            return self._multi(model_name, {"input_text": text})
        return self._body(model_name, "text", {"input_text": text})

    def image(self, model_name: str, jpeg: bytes) -> dict[str, Any]:
        source = {"base64_string": _b64(jpeg)}
        if self.multi:
            return self._multi(model_name, {"media_sources": [{"media_type": "image", **source}]})
        return self._body(model_name, "image", {"media_source": source})

    def audio_file(self, model_name: str, flac: bytes) -> dict[str, Any]:
        return self._timed(model_name, "audio", {"base64_string": _b64(flac)}, None, None)

    def audio_url(
        self, model_name: str, url: str, start_sec: float, end_sec: float
    ) -> dict[str, Any]:
        return self._timed(model_name, "audio", {"url": url}, start_sec, end_sec)

    def video_file(self, model_name: str, mp4: bytes) -> dict[str, Any]:
        return self._timed(model_name, "video", {"base64_string": _b64(mp4)}, None, None)

    def video_url(
        self, model_name: str, url: str, start_sec: float, end_sec: float
    ) -> dict[str, Any]:
        return self._timed(model_name, "video", {"url": url}, start_sec, end_sec)

    def vector(self, body: Any, kind: str, dim: int) -> list[float]:
        """The one vector the request asked for, checked; audio from Marengo 3.0 is the entry
        whose `embedding_option` is `audio`, a clip the one whose option is `visual` (nothing
        else was asked for)."""
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not data:
            raise MediaError(f"TwelveLabs answered without data for the {kind}: not Embed API v2")
        for entry in data:
            option = entry.get("embedding_option") if isinstance(entry, dict) else None
            if option is not None and option not in OPTIONS:
                raise MediaError(f"TwelveLabs answered an unknown embedding_option {option!r}")
        asked = OPTION_OF.get(kind)
        wanted = [e for e in data if asked is None or self.multi or _option(e) == asked]
        if len(wanted) != 1:
            raise MediaError(
                f"TwelveLabs answered {len(wanted)} {kind} embeddings for one {kind}; expected 1"
            )
        values = wanted[0].get("embedding")
        if not isinstance(values, list) or not all(isinstance(v, int | float) for v in values):
            raise MediaError(f"TwelveLabs {kind} embedding has no float vector: not Embed API v2")
        if len(values) != dim:
            got = len(values)
            raise MediaError(f"TwelveLabs returned a {got}-dim {kind} vector; expected {dim}")
        return [float(v) for v in values]

    def usage(self, body: Any) -> Mapping[str, int]:
        """Input tokens by content type (Marengo 3.5 reports them), for the run summary."""
        usage = body.get("usage") if isinstance(body, dict) else None
        tokens = usage.get("input_tokens") if isinstance(usage, dict) else None
        if not isinstance(tokens, dict):
            return {}
        return {str(k): int(v) for k, v in tokens.items() if isinstance(v, int)}

    @staticmethod
    def error_detail(body: Any) -> str:
        if isinstance(body, dict) and ("code" in body or "message" in body):
            return f"{body.get('code', '?')}: {body.get('message', '')}"
        return "no error details in the answer"

    def _timed(
        self,
        model_name: str,
        kind: str,
        source: dict[str, str],
        start_sec: float | None,
        end_sec: float | None,
    ) -> dict[str, Any]:
        """Audio or video: one fixed clip (of at most CLIP_SEC) of the one option asked for."""
        if self.multi:
            if start_sec is not None:
                raise MediaError(f"Marengo 3.5 takes {kind} inline only: set audio_mode = file")
            return self._multi(model_name, {"media_sources": [{"media_type": kind, **source}]})
        value: dict[str, Any] = {
            "media_source": source,
            "embedding_option": [OPTION_OF[kind]],
            "embedding_scope": ["clip"],
            "segmentation": {"strategy": "fixed", "fixed": {"duration_sec": CLIP_SEC}},
        }
        if start_sec is not None and end_sec is not None:
            value.update(start_sec=round(start_sec, 3), end_sec=round(end_sec, 3))
        return self._body(model_name, kind, value)

    def _body(self, model_name: str, input_type: str, value: dict[str, Any]) -> dict[str, Any]:
        return {"json": {"input_type": input_type, "model_name": model_name, input_type: value}}

    def _multi(self, model_name: str, value: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "input_type": "multi_input",
            "model_name": model_name,
            "multi_input": value,
        }
        if self.dimension is not None:
            body["embedding_dimension"] = self.dimension
        return {"json": body}


def _option(entry: Any) -> str | None:
    return entry.get("embedding_option") if isinstance(entry, dict) else None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
