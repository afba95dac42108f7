"""The TwelveLabs embedder: Marengo vectors from the TwelveLabs embed API, over httpx.

One pooled async client per run; a bounded number of requests in flight and an optional
client-side rate limit; retries with exponential backoff and jitter on 429, 5xx, timeouts and
dropped connections, never sooner than a `Retry-After` says. Any other 4xx fails the item, which
is then redone on the next run. The key is a secret: it goes into the `x-api-key` header and
nowhere else.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx
from aiolimiter import AsyncLimiter
from pydantic import BaseModel, Field, SecretStr
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from vtembed import hookimpl
from vtembed.embedder import Embeddable, Embedder
from vtembed.errors import MediaError, UsageError
from vtembed.media import encode_flac, encode_segment
from vtembed.models import AudioSegment, ImageFrame, VideoClip
from vtembed.plugins.embedders import twelvelabs_served, twelvelabs_v1, twelvelabs_v2
from vtembed.plugins.embedders.twelvelabs_http import (
    RETRY_STATUS,
    Transient,
    json_body,
    retry_after,
    wait_respecting_retry_after,
)
from vtembed.settings import ModelSpec, PluginSection, Settings, section
from vtembed.video_clips import cut_clip

PROTOCOLS = (twelvelabs_v1.PROTOCOL, twelvelabs_v2.PROTOCOL, twelvelabs_v2.MULTI_PROTOCOL)


class TwelveLabsSettings(BaseModel):
    api_key: SecretStr | None = Field(None, description="API key; also TWELVELABS_API_KEY.")
    base_url: str = Field(
        "https://api.twelvelabs.io/v1.3", description="API base URL; also TWELVELABS_BASE_URL."
    )
    max_in_flight: int = Field(8, ge=1, description="Requests in flight at once.")
    requests_per_minute: float = Field(0.0, ge=0, description="Client-side rate limit; 0: none.")
    max_attempts: int = Field(8, ge=1, description="Attempts per request before the item fails.")
    backoff_max_sec: float = Field(60.0, gt=0, description="Longest wait between retries.")
    timeout_sec: float = Field(60.0, gt=0, description="Connect/read timeout per request.")
    audio_mode: Literal["file", "url"] = Field(
        "file", description="Upload cut segments (file) or send audio_url for http(s) media (url)."
    )
    price_text_per_1k: float = Field(0.0, ge=0, description="Your price per 1000 text requests.")
    price_audio_per_minute: float = Field(0.0, ge=0, description="Your price per audio minute.")
    price_image_per_1k: float = Field(0.0, ge=0, description="Your price per 1000 image requests.")
    price_video_per_minute: float = Field(0.0, ge=0, description="Your price per video minute.")
    embedding_dimension: int | None = Field(
        None, ge=1, description="Vector size for marengo3.5 (256-1024); unset: 512."
    )


SECTION = PluginSection(
    "twelvelabs",
    TwelveLabsSettings,
    env={"TWELVELABS_API_KEY": "api_key", "TWELVELABS_BASE_URL": "base_url"},
)


def _marengo(dim: int, text_token_limit: int, protocol: str) -> ModelSpec:
    """A Marengo model: CLIP-counted text (a stand-in for Marengo's own tokenizer, which is
    not published; CLIP BPE counts a little high on English, so chunks stay within the
    limit), 10 s audio segments (the longest fixed segment Embed API v2 cuts)."""
    return ModelSpec(
        dim=dim,
        text_token_limit=text_token_limit,
        tokenizer="clip",
        audio_segment_sec=10.0,
        protocol=protocol,
    )


class TwelveLabsEmbedder(Embedder):
    name = "twelvelabs"
    default_model = "Marengo-retrieval-2.7"
    # Marengo 2.7 (being retired) stays on v1.3 with the 77-token limit the project was built
    # around; marengo3.0 speaks the Embed API v2 (its v1.3 form: `protocol` set back in a
    # [models."marengo3.0"] table), marengo3.5 only v2's multi_input. A newer model of a
    # protocol spoken here is a full [models."NAME"] table, a new protocol one module.
    models: ClassVar[Mapping[str, ModelSpec]] = {
        "Marengo-retrieval-2.7": _marengo(1024, 77, twelvelabs_v1.PROTOCOL),
        "marengo3.0": _marengo(512, 500, twelvelabs_v2.PROTOCOL),
        "marengo3.5": _marengo(512, 2000, twelvelabs_v2.MULTI_PROTOCOL),
    }
    settings_section = SECTION
    image_input: ClassVar[str | None] = "file"
    """Each shot's keyframe is uploaded as a JPEG `image_file`: Marengo embeds the picture."""

    def __init__(self, settings: Settings, model_name: str | None = None) -> None:
        super().__init__(settings, model_name)
        self.config: TwelveLabsSettings = section(settings, SECTION.name)
        self.protocol = self._wire()
        self._follow_served_model()
        if self.config.api_key is None and not settings.dry_run:
            raise UsageError(
                "TWELVELABS_API_KEY is not set: export it (or set twelvelabs.api_key), "
                "or use --embedder local to work offline"
            )
        self._client: httpx.AsyncClient | None = None
        self._in_flight = asyncio.Semaphore(self.config.max_in_flight)
        rpm = self.config.requests_per_minute
        self._limiter = AsyncLimiter(rpm / 60, 1) if rpm else None
        self.tokens_used: Counter[str] = Counter()

    def _follow_served_model(self) -> None:
        """Against a `vtembed serve`, take pictures and sound as its embedder does: one that
        embeds a picture by its text gets the text read here (OCR) and sent as text."""
        if not twelvelabs_served.asks(self.config.base_url):
            return
        key = self.config.api_key.get_secret_value() if self.config.api_key else ""
        served = twelvelabs_served.served_model(self.config.base_url, key)
        if served is not None:
            self.image_input = served.image_input
            self.audio_embedded_from = served.audio_embedded_from

    def wants(self, item: Embeddable) -> bool:
        """A picture read by OCR needs text to be sent (as a text request), and a served
        embedder that embeds sound by its transcript needs words in the segment."""
        if isinstance(item, ImageFrame) and self.image_input == "ocr":
            return bool(item.text.strip())
        if isinstance(item, AudioSegment) and self.audio_embedded_from == "transcript":
            return bool(item.text.strip())
        return super().wants(item)

    def _wire(self) -> Any:
        """The protocol's request builder; a chosen `embedding_dimension` becomes the model's
        dimension (the store records it, and search asks for it again)."""
        protocol, wanted = self.spec.protocol, self.config.embedding_dimension
        if protocol not in PROTOCOLS:
            raise UsageError(
                f"model {self.model_name} has no TwelveLabs protocol (protocol "
                f"{protocol!r}); known: {', '.join(PROTOCOLS)}"
            )
        if wanted is not None and protocol != twelvelabs_v2.MULTI_PROTOCOL:
            raise UsageError(
                f"twelvelabs.embedding_dimension is for multi_input models such as marengo3.5; "
                f"{self.model_name} always gives {self.dim} dims"
            )
        if protocol == twelvelabs_v1.PROTOCOL:
            return twelvelabs_v1
        self.video_input = True  # Embed API v2 embeds clips of the picture (input_type video)
        if wanted is not None:
            self.spec = self.spec.model_copy(update={"dim": wanted})
        return twelvelabs_v2.EmbedV2(protocol == twelvelabs_v2.MULTI_PROTOCOL, wanted)

    @classmethod
    def for_store(cls, settings: Settings, model_name: str, dim: int) -> Embedder:
        """A marengo3.5 store holds vectors of the dimension it was made with: ask for those."""
        spec = cls.find_model(model_name, settings)
        if spec is not None and spec.protocol == twelvelabs_v2.MULTI_PROTOCOL and dim != spec.dim:
            settings = settings.model_copy(deep=True)
            section(settings, SECTION.name).embedding_dimension = dim
        return cls(settings, model_name)

    def usage(self) -> Mapping[str, int]:
        return dict(self.tokens_used)

    @classmethod
    def model_spec(cls, model_name: str, settings: Settings) -> ModelSpec:
        """A server other than TwelveLabs that says which model it embeds with (`vtembed
        serve` does) decides the limits, and a run for another model stops here, before any
        work; otherwise the declared models and settings tables."""
        config: TwelveLabsSettings | None = getattr(settings, SECTION.name, None)
        if config is not None and twelvelabs_served.asks(config.base_url):
            key = config.api_key.get_secret_value() if config.api_key else ""
            served = twelvelabs_served.served_model(config.base_url, key)
            if served is not None:
                twelvelabs_served.refuse_other_model(config.base_url, served, model_name)
                return twelvelabs_served.spec_of(served)
        return super().model_spec(model_name, settings)

    @classmethod
    def serves(cls, model_name: str, settings: Settings) -> bool:
        """Any model, declared or added by a full settings table, whose protocol it speaks."""
        spec = cls.find_model(model_name, settings)
        return spec is not None and spec.protocol in PROTOCOLS

    @classmethod
    def doctor(cls, settings: Settings) -> list[tuple[str, str | None]]:
        """The model's table and protocol, then the key: whether one is set, never what it is."""
        checks = super().doctor(settings)
        if any(fix for _, fix in checks):
            return checks
        model = settings.model or cls.default_model
        protocol = cls.model_spec(model, settings).protocol
        if protocol not in PROTOCOLS:
            fix = f"its protocol {protocol!r} is not one TwelveLabs speaks ({', '.join(PROTOCOLS)})"
            return [(f"embedder twelvelabs: model {model}", fix)]
        config: TwelveLabsSettings = section(settings, SECTION.name)
        if config.api_key is None or not config.api_key.get_secret_value().strip():
            fix = (
                "not set: export TWELVELABS_API_KEY=... (or set api_key in the [twelvelabs] "
                "table of the config), or use --embedder local to work offline"
            )
            return [*checks, ("TwelveLabs API key", fix)]
        return [*checks, (f"TwelveLabs API key set (for {config.base_url})", None)]

    @classmethod
    def hint_when_not_chosen(cls, settings: Settings) -> str | None:
        if os.environ.get("TWELVELABS_API_KEY"):
            return "TWELVELABS_API_KEY is set: add --embedder twelvelabs to embed with Marengo"
        return None

    def describe(self) -> str:
        return (
            f"embedder twelvelabs: {self.model_name} ({self.dim} dims) at {self.config.base_url}, "
            f"{self.config.max_in_flight} requests in flight"
        )

    def estimate_cost(
        self,
        text_requests: int,
        audio_seconds: float,
        image_requests: int = 0,
        video_seconds: float = 0.0,
    ) -> str | None:
        c = self.config
        prices = (c.price_text_per_1k, c.price_audio_per_minute, c.price_image_per_1k)
        if not any((*prices, c.price_video_per_minute)):
            return (
                "set twelvelabs.price_text_per_1k, price_audio_per_minute, price_image_per_1k "
                "and price_video_per_minute to estimate cost"
            )
        cost = text_requests / 1000 * c.price_text_per_1k
        cost += audio_seconds / 60 * c.price_audio_per_minute
        cost += image_requests / 1000 * c.price_image_per_1k
        cost += video_seconds / 60 * c.price_video_per_minute
        return f"estimated cost {cost:.2f} at your configured prices"

    async def embed(self, batch: Sequence[Embeddable]) -> list[list[float]]:
        try:
            async with asyncio.TaskGroup() as group:  # one failure cancels the rest of the batch
                tasks = [group.create_task(self._embed_one(item)) for item in batch]
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None  # the item fails with its first real cause
        return [task.result() for task in tasks]

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _embed_one(self, item: Embeddable) -> list[float]:
        if isinstance(item, AudioSegment):
            kind, request = "audio", await self._audio_request(item)
        elif isinstance(item, ImageFrame) and self.image_input == "file":
            kind, request = "image", await self._image_request(item)
        elif isinstance(item, VideoClip):
            kind, request = "video", await self._video_request(item)
        else:
            kind, request = "text", self.protocol.text(self.model_name, item.text)
        where = f"{kind} {item.start_sec:.1f}-{item.end_sec:.1f} s"
        body = await self._post(request, where)
        vector = self.protocol.vector(body, kind, self.dim)
        self.tokens_used.update(self.protocol.usage(body))
        return vector

    def uploads_audio(self, media_uri: str) -> bool:
        return not self._sends_url(media_uri)

    def _sends_url(self, media_uri: str) -> bool:
        """`audio_mode = "url"` sends http(s) media by its URL; the rest is uploaded."""
        return self.config.audio_mode == "url" and media_uri.startswith(("http://", "https://"))

    async def _audio_request(self, seg: AudioSegment) -> dict[str, Any]:
        if self._sends_url(seg.media_uri):
            return self.protocol.audio_url(
                self.model_name, seg.media_uri, seg.start_sec, seg.end_sec
            )
        if seg.samples is not None and len(seg.samples):
            flac = await asyncio.to_thread(encode_flac, seg.samples)
        else:
            flac = await asyncio.to_thread(
                encode_segment, seg.path, seg.audio_stream, seg.start_sec, seg.end_sec
            )
        return self.protocol.audio_file(self.model_name, flac)

    async def _video_request(self, clip: VideoClip) -> dict[str, Any]:
        if self._sends_url(clip.media_uri):
            return self.protocol.video_url(
                self.model_name, clip.media_uri, clip.start_sec, clip.end_sec
            )
        mp4 = await asyncio.to_thread(
            cut_clip, clip.path, clip.video_stream, clip.start_sec, clip.end_sec
        )
        return self.protocol.video_file(self.model_name, mp4)

    async def _image_request(self, frame: ImageFrame) -> dict[str, Any]:
        try:
            jpeg = await asyncio.to_thread(Path(frame.image_path).read_bytes)
        except OSError as exc:
            problem = f"keyframe {frame.image_path} cannot be read: {exc.strerror}"
            raise MediaError(problem) from None
        return self.protocol.image(self.model_name, jpeg)

    async def _post(self, request: dict[str, Any], where: str) -> Any:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.max_attempts),
            wait=wait_respecting_retry_after(self.config.backoff_max_sec),
            retry=retry_if_exception_type(Transient),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._post_once(request, where)
        except Transient as exc:
            attempts = self.config.max_attempts
            message = f"TwelveLabs {where}: still failing after {attempts} attempts ({exc})"
            raise MediaError(message) from None
        raise AssertionError("unreachable")

    async def _post_once(self, request: dict[str, Any], where: str) -> Any:
        if self._limiter is not None:
            await self._limiter.acquire()
        async with self._in_flight:
            try:
                response = await self._http().post(self.protocol.PATH, **request)
            except httpx.TimeoutException:
                raise Transient("timed out") from None
            except httpx.TransportError as exc:
                raise Transient(f"connection failed: {type(exc).__name__}") from None
        body = json_body(response)
        if response.status_code in RETRY_STATUS:
            detail = self.protocol.error_detail(body)
            raise Transient(f"HTTP {response.status_code} {detail}", retry_after(response))
        if response.status_code >= 400:
            detail = self.protocol.error_detail(body)
            raise MediaError(f"TwelveLabs refused {where}: HTTP {response.status_code} {detail}")
        if body is None:
            raise MediaError(f"TwelveLabs {where}: the answer is not JSON")
        return body

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            key = self.config.api_key.get_secret_value() if self.config.api_key else ""
            n = self.config.max_in_flight
            self._client = httpx.AsyncClient(
                base_url=self.config.base_url.rstrip("/"),
                headers={"x-api-key": key},
                timeout=httpx.Timeout(self.config.timeout_sec),
                limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
            )
        return self._client


@hookimpl
def vtembed_register_embedders(register: Callable[[type[Embedder]], None]) -> None:
    register(TwelveLabsEmbedder)
