"""Which model a TwelveLabs-compatible server other than TwelveLabs embeds with, asked before any
work: `vtembed serve` answers `GET {base_url}/vtembed/model` with its model's limits.

Without this, pointing the embedder at another machine's `vtembed serve` either stopped at "no
TwelveLabs protocol" (its model is declared nowhere here) or, with a Marengo model name, failed
every item with a 400 after transcribing it. Servers that do not answer the route (TwelveLabs
itself, another stand-in) are left alone: the declared models and settings tables decide.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from vtembed.errors import UsageError
from vtembed.plugins.embedders import twelvelabs_v1
from vtembed.settings import ModelSpec

OFFICIAL_HOSTS = frozenset({"api.twelvelabs.io"})
_TIMEOUT_SEC = 10.0


class ServedModel(BaseModel):
    model_name: str
    dim: int
    text_token_limit: int
    tokenizer: str = "clip"
    audio_segment_sec: float
    image_input: str | None = None
    """How the served embedder takes a picture: "ocr" ones embed its text, so the client reads
    the text itself (a picture without any is then no request, instead of the server's 400)."""
    audio_embedded_from: str | None = None


def asks(base_url: str) -> bool:
    """Only a server that is not TwelveLabs is asked (TwelveLabs has no such route)."""
    return urlsplit(base_url).hostname not in OFFICIAL_HOSTS


@functools.lru_cache(maxsize=8)
def served_model(base_url: str, api_key: str) -> ServedModel | None:
    """The server's model, or None when it does not say (not a vtembed server). Asked once per
    server in a process: the embedder's limits and its way with pictures both come from it."""
    url = base_url.rstrip("/") + "/vtembed/model"
    try:
        response = httpx.get(url, headers={"x-api-key": api_key}, timeout=_TIMEOUT_SEC)
    except httpx.HTTPError as exc:
        raise UsageError(f"cannot reach the TwelveLabs endpoint {base_url} ({exc})") from None
    if response.status_code == 401:
        raise UsageError(f"{base_url} refused the API key (HTTP 401)")
    if response.status_code != 200:
        return None
    try:
        return ServedModel.model_validate_json(response.content)
    except ValidationError:
        return None


def spec_of(served: ServedModel) -> ModelSpec:
    """The served model as this client embeds with it: over v1.3, which every vtembed serve
    speaks."""
    return ModelSpec(
        dim=served.dim,
        text_token_limit=served.text_token_limit,
        tokenizer=served.tokenizer,
        audio_segment_sec=served.audio_segment_sec,
        protocol=twelvelabs_v1.PROTOCOL,
    )


def refuse_other_model(base_url: str, served: ServedModel, model_name: str) -> None:
    if served.model_name != model_name:
        raise UsageError(
            f"{base_url} serves {served.model_name}, not {model_name}: add --model "
            f"{served.model_name}"
        )
