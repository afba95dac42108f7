"""`vtembed ui`'s web app: a face on the Python API, as the CLI is.

A search here is `Vtembed.search` with the same settings `vtembed search` would use, so the
page and the terminal rank alike; what the page shows besides hits (an item, its transcript
around a second, the archive overview) comes from `vtembed.api.moments`. Route handlers are
plain `def`s: the API embeds queries with `asyncio.run`, which FastAPI's worker threads allow
and its event loop would not. The JSON under `/api/` is what the page's script reads, and what
scripts may call.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.staticfiles import StaticFiles

from vtembed.api import moments
from vtembed.api.app import Vtembed
from vtembed.api.searching import SearchResult, frames_root
from vtembed.downloads import Downloads
from vtembed.errors import UsageError
from vtembed.settings import Settings
from vtembed.thumbnails import THUMB_SUFFIX
from vtembed.ui import views
from vtembed.ui.auth import TokenGate
from vtembed.ui.media_routes import SAFE_ID, MediaFiles, router

HERE = Path(__file__).resolve().parent
CHOICES_MAX = 200
"""Up to this many items, the media filter is a list of titles; beyond, a text box."""


@dataclass
class UiContext:
    """The application and the store one `vtembed ui` serves, with what it remembers."""

    vt: Vtembed
    sink: str
    embedder: str | None
    settings: Settings
    files: MediaFiles
    _choices: tuple[float, list[tuple[str, str]] | None] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def search(
        self, query: str, *, k: int, modality: str, media: str | None, mode: str = "hybrid"
    ) -> SearchResult:
        """`Vtembed.search` with the defaults `vtembed search` has (grouped hits)."""
        return self.vt.search(
            query, k=k, modality=modality, media=media or None, mode=mode, sink=self.sink,
            embedder=self.embedder,
        )  # fmt: skip

    def choices(self) -> list[tuple[str, str]] | None:
        """(id, title) of every item for the media filter; None when the sink cannot list
        them or there are too many. Remembered for a minute: each title costs a lookup."""
        with self._lock:
            if self._choices is not None and time.monotonic() - self._choices[0] < 60:
                return self._choices[1]
        sink_cls, target = self.vt.registry.sink(self.sink)
        found: list[tuple[str, str]] | None = None
        if sink_cls.declares("media_counts"):
            ids = sink_cls.media_counts(target, self.settings)
            if len(ids) <= CHOICES_MAX:
                items = [moments.media_info(self.vt, self.settings, i) for i in ids]
                found = sorted(((i.id, i.title or i.id) for i in items if i), key=lambda c: c[1])
        with self._lock:
            self._choices = (time.monotonic(), found)
        return found

    def has_pictures(self, media_id: str) -> bool:
        folder = self.files.frames_root / media_id
        return bool(SAFE_ID.match(media_id)) and any(folder.glob(f"*{THUMB_SUFFIX}"))

    def media_view(self, media_id: str) -> dict[str, Any] | None:
        """An item as the player needs it: where to play it from and as what."""
        found = self.files.playable(media_id)
        if found is None:
            return None
        item = found.item
        src = views.media_url(item.id) if found.file is not None else None
        if src is None and found.remote:
            src = item.uri
        return {
            "id": item.id, "title": item.title or views.where(item.uri), "uri": item.uri,
            "source": item.source, "duration_sec": item.duration_sec, "media": item.media,
            "kind": views.media_kind(item.uri, self.has_pictures(item.id)),
            "play_url": src, "local": found.file is not None, "remote": found.remote,
        }  # fmt: skip

    def lines(self, media_id: str, at_sec: float, query: str, window: float) -> list[dict]:
        found = moments.transcript_around(self.vt, self.settings, media_id, at_sec, window)
        return [views.line(m, query) for m in found]


def create_app(
    vt: Vtembed, *, sink: str | None, embedder: str | None = None, token: str | None = None
) -> FastAPI:
    """Raises `UsageError` (one line) for a store that cannot be searched or holds nothing,
    before anything listens."""
    settings = vt.settings(sources=False, sink=sink, embedder=embedder)
    sink = settings.sink  # the default store when none was named
    sink_cls, target, _model, _dim = moments.stored_model(vt, settings)
    downloads = Downloads(vt.settings(sink=sink)).cache_root()  # with [url]: its cache_dir
    files = MediaFiles(
        lambda media_id: moments.media_info(vt, settings, media_id),
        frames_root(sink_cls, target, settings),
        downloads,
    )
    ctx = UiContext(vt, sink, embedder, settings, files)
    app = FastAPI(title="vtembed ui", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ui = ctx
    app.add_middleware(TokenGate, token=token)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(router(files))
    from vtembed.ui.pages import router as pages

    app.include_router(pages(ctx))
    _api(app, ctx)
    app.add_exception_handler(UsageError, _usage_error)
    return app


def _api(app: FastAPI, ctx: UiContext) -> None:
    @app.get("/api/search")
    def api_search(
        q: str,
        k: int = Query(10, ge=1, le=200),
        modality: str = "all",
        media: str | None = None,
        mode: str = "hybrid",
    ) -> dict[str, Any]:
        found = ctx.search(q, k=k, modality=modality, media=media, mode=mode)
        params = {"q": q, "modality": modality, "media": media, "k": k, "mode": mode}
        hits = [{**views.card(h, q, params), "record": h.to_json()} for h in found.hits]
        return {
            "query": q, "model_name": found.model_name, "unknown_media": found.unknown_media,
            "mode": found.mode, "notes": list(found.notes), "hits": hits,
        }  # fmt: skip

    @app.get("/api/media/{media_id:path}")
    def api_media(media_id: str) -> dict[str, Any]:
        item = moments.media_item(ctx.vt, ctx.settings, media_id)
        view = ctx.media_view(media_id) if item is not None else None
        if item is None or view is None:
            raise HTTPException(404, f"the store holds no media {media_id!r}")
        return {**view, "counts": item.counts}

    @app.get("/api/transcript/{media_id:path}")
    def api_transcript(
        media_id: str,
        t: float = Query(0.0, ge=0),
        window: float = Query(60.0, gt=0, le=3600),
        q: str = "",
    ) -> dict[str, Any]:
        if ctx.files.playable(media_id) is None:
            raise HTTPException(404, f"the store holds no media {media_id!r}")
        return {"media_id": media_id, "at_sec": t, "lines": ctx.lines(media_id, t, q, window)}

    @app.get("/api/archive")
    def api_archive() -> dict[str, Any]:
        found = moments.overview(ctx.vt, ctx.settings)
        items = None
        if found.items is not None:
            items = [
                {"id": i.id, "title": i.title, "uri": i.uri, "source": i.source,
                 "duration_sec": i.duration_sec, "counts": i.counts}
                for i in found.items
            ]  # fmt: skip
        return {
            "sink": found.sink, "model_name": found.model_name, "dim": found.dim,
            "embedder": found.embedder, "items": items,
        }  # fmt: skip


def _usage_error(request: Request, exc: Exception) -> JSONResponse:
    """A query the API refuses (empty, too long, an unknown modality): 400 and its one line."""
    return JSONResponse({"error": str(exc)}, status_code=400)
