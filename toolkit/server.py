"""`vtembed serve`: the TwelveLabs embed API v1.3 (`POST /v1.3/embed`) answered locally by the
configured embedder, so TwelveLabs clients (the official SDK too) run with no key and no network.

The wire format follows the SDK's types (`EmbeddingResponse`, `TextEmbeddingResult`,
`ImageEmbeddingResult`, `AudioEmbeddingResult`); every error is JSON `{code, message}` with the
status TwelveLabs uses. As in TwelveLabs, one request may carry a text, a picture and audio, and
gets an embedding of each.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vtembed.clip_tokens import get_counter
from vtembed.embedder import Embedder
from vtembed.models import TextChunk
from vtembed.server_audio import AudioService
from vtembed.server_errors import ApiError, mb_to_bytes, too_large
from vtembed.server_image import ImageService
from vtembed.server_model import add_model_route
from vtembed.server_v2 import add_v2_routes
from vtembed.settings import Settings
from vtembed.text_fit import largest
from vtembed.transcriber import Transcriber

API_KEY_ENV = "VTEMBED_SERVE_API_KEY"
OPEN_PATHS = frozenset({"/healthz"})
_FORM_ALLOWANCE = 1024 * 1024  # text fields and multipart framing, on top of the upload limit
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "content_too_large"}


def create_app(
    settings: Settings,
    embedder: Embedder,
    transcriber_factory: Callable[[], Transcriber] | None,
) -> FastAPI:
    """The key comes from the environment, never from settings, so it is not in any file."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await embedder.aclose()

    app = FastAPI(title="vtembed: TwelveLabs embed API v1.3, offline", lifespan=lifespan)
    limit_mb = settings.serve.max_upload_mb
    app.add_middleware(
        _Gate,
        api_key=os.environ.get(API_KEY_ENV) or None,
        max_body=mb_to_bytes(limit_mb) + _FORM_ALLOWANCE,
        limit_mb=limit_mb,
    )
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
    audio = AudioService(settings, embedder, transcriber_factory)
    image = ImageService(settings, embedder)

    add_model_route(app, embedder)
    add_v2_routes(app, settings, embedder, audio, image)  # POST /v1.3/embed-v2 (JSON)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "embedder": embedder.name, "model_name": embedder.model_name}

    @app.post("/v1.3/embed")
    async def embed(
        model_name: Annotated[str, Form()],
        text: Annotated[str | None, Form()] = None,
        text_truncate: Annotated[Literal["start", "end", "none"], Form()] = "end",
        audio_file: Annotated[UploadFile | None, File()] = None,
        audio_url: Annotated[str | None, Form()] = None,
        audio_start_offset_sec: Annotated[float, Form(ge=0)] = 0.0,
        image_file: Annotated[UploadFile | None, File()] = None,
        image_url: Annotated[str | None, Form()] = None,
    ) -> dict[str, Any]:
        if model_name != embedder.model_name:
            raise ApiError(
                400,
                "parameter_invalid",
                f"model_name {model_name!r} is not served here; known models: "
                f"{embedder.model_name}",
            )
        text = text if text and text.strip() else None
        has_image = image.check(image_file, image_url)
        if audio_file is not None and audio_url:
            raise ApiError(400, "parameter_invalid", "give audio_file or audio_url, not both")
        if text is None and not has_image and audio_file is None and not audio_url:
            raise ApiError(
                400,
                "parameter_not_provided",
                "nothing to embed: give text, image_file, image_url, audio_file or audio_url",
            )
        body: dict[str, Any] = {"model_name": embedder.model_name}
        if text is not None:
            limit = embedder.text_token_limit
            chunk = await asyncio.to_thread(fit_text, text, limit, text_truncate)
            [vector] = await embedder.embed([chunk])
            body["text_embedding"] = {"segments": [{"float": vector}]}
        if has_image:  # before audio: a picture takes a second, audio may take minutes
            body["image_embedding"] = await image.embedding(image_file, image_url)
        if audio_file is not None or audio_url:
            body["audio_embedding"] = await audio.embedding(
                audio_file, audio_url, audio_start_offset_sec
            )
        return body

    return app


def fit_text(text: str, limit: int, truncate: str) -> TextChunk:
    """Cut whole words from one side until the text fits, as `text_truncate` asks; counted with
    CLIP's tokenizer (start and end tokens included) because that is what the limit means."""
    counter = get_counter()
    tokens = counter.count(text)
    if tokens <= limit:
        return TextChunk(text, 0.0, 0.0, tokens)
    if truncate == "none":
        raise ApiError(
            400,
            "parameter_invalid",
            f"text has {tokens} tokens, over the limit of {limit} (CLIP tokens, start and end "
            "included); shorten it or set text_truncate to end or start",
        )
    from_end = truncate == "end"
    words = list(re.finditer(r"\S+", text))

    def keep(k: int) -> str:
        if k == 0:
            return ""
        return text[: words[k - 1].end()] if from_end else text[words[-k].start() :]

    # Every word is at least one token, so no more than `limit` words can fit.
    kept = keep(largest(lambda k: counter.count(keep(k)) <= limit, min(len(words), limit)))
    if not kept:  # a single "word" longer than the limit: cut inside it
        word = words[0 if from_end else -1].group()

        def part(n: int) -> str:
            return word[:n] if from_end else word[len(word) - n :]

        kept = part(largest(lambda n: counter.count(part(n)) <= limit, len(word)))
    return TextChunk(kept, 0.0, 0.0, counter.count(kept))


class _Gate:
    """Checks the key and caps the body before FastAPI reads any of it, so a client without the
    key, or with a huge upload, costs neither disk nor time."""

    def __init__(self, app: ASGIApp, api_key: str | None, max_body: int, limit_mb: float) -> None:
        self.app = app
        self.api_key = api_key.encode("utf-8") if api_key else None
        self.max_body = max_body
        self.limit_mb = limit_mb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        problem = self._auth_problem(headers.get("x-api-key"))
        length = headers.get("content-length", "")
        if problem is None and length.isdigit() and int(length) > self.max_body:
            problem = too_large("the request", self.limit_mb)
        if problem is not None:
            await _reply(problem.status_code, problem.code, problem.message)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise too_large("the request", self.limit_mb)
            return message

        await self.app(scope, limited, send)

    def _auth_problem(self, given: str | None) -> ApiError | None:
        if self.api_key is None:
            return None
        if given is None:
            return ApiError(401, "api_key_invalid", "this server needs an x-api-key header")
        # Header values arrive decoded as latin-1; back to bytes to compare with the key.
        if not hmac.compare_digest(given.encode("latin-1"), self.api_key):
            return ApiError(
                401, "api_key_invalid", f"x-api-key is not this server's key ({API_KEY_ENV})"
            )
        return None


def _reply(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _reply(exc.status_code, exc.code, exc.message)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(
        exc.status_code, "parameter_invalid" if exc.status_code == 400 else "error"
    )
    return _reply(exc.status_code, code, str(exc.detail))


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    """Still `{code, message}`; Starlette re-raises afterwards, so the traceback is logged."""
    return _reply(500, "internal_error", f"{type(exc).__name__}: {exc}")


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 becomes TwelveLabs' 400 with `parameter_not_provided` / `parameter_invalid`."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    missing = [str(e["loc"][-1]) for e in errors if e.get("type") == "missing"]
    if missing and len(missing) == len(errors):
        return _reply(
            400, "parameter_not_provided", f"required but not provided: {', '.join(missing)}"
        )
    problems = "; ".join(
        f"{e['loc'][-1]}: {'must be a file upload' if 'UploadFile' in e['msg'] else e['msg']}"
        for e in errors
    )
    return _reply(400, "parameter_invalid", problems)
