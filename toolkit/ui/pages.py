"""The two HTML pages, rendered on the server so an address is a bookmark: `/?q=...` holds its
results (and `&play=ID&t=SEC` its player and transcript) in the HTML itself, and reads with
the script off. The script (static/ui.js) only makes a click play without a reload.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from vtembed import __version__
from vtembed.api import moments
from vtembed.api.searching import MODALITIES, MODES
from vtembed.errors import UsageError
from vtembed.ui import views

if TYPE_CHECKING:
    from vtembed.ui.app import UiContext

DEFAULT_K = 10
MAX_K = 200


def _templates() -> Jinja2Templates:
    from vtembed.ui.app import HERE

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value is escaped unless it is Markup (highlighted text)
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(version=__version__, duration=views.duration)
    return Jinja2Templates(env=env)


def _int(text: str | None, default: int, low: int, high: int) -> int:
    """A form's number, kept in bounds: a hand-edited address still gets a page."""
    try:
        return min(high, max(low, int(text))) if text else default
    except ValueError:
        return default


def _float(text: str | None) -> float:
    try:
        return max(0.0, float(text)) if text else 0.0
    except ValueError:
        return 0.0


def router(ctx: UiContext) -> APIRouter:
    templates = _templates()
    pages = APIRouter()

    @pages.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        args = request.query_params
        q = args.get("q", "").strip()
        modality = args.get("modality", "all")
        modality = modality if modality in MODALITIES else "all"
        media = args.get("media", "").strip()
        k = _int(args.get("k"), DEFAULT_K, 1, MAX_K)
        mode = args.get("mode", "hybrid")
        mode = mode if mode in MODES else "hybrid"
        params = {"q": q, "modality": modality, "media": media, "k": k, "mode": mode}
        page: dict[str, Any] = {
            **params, "modalities": MODALITIES, "modes": MODES, "choices": ctx.choices(),
            "cards": None, "error": None, "unknown_media": False, "player": None, "notes": (),
        }  # fmt: skip
        status = 200
        if q:
            try:
                found = ctx.search(q, k=k, modality=modality, media=media, mode=mode)
            except UsageError as exc:
                page["error"], status = str(exc), 400
            else:
                page["cards"] = [views.card(h, q, params) for h in found.hits]
                page["unknown_media"] = found.unknown_media
                page["notes"] = found.notes
        play = args.get("play", "")
        if play:
            page["player"] = _player(ctx, play, _float(args.get("t")), q)
        return templates.TemplateResponse(request, "index.html", page, status_code=status)

    @pages.get("/archive", response_class=HTMLResponse)
    def archive(request: Request) -> HTMLResponse:
        found = moments.overview(ctx.vt, ctx.settings)
        totals: dict[str, int] = {}
        for item in found.items or []:
            for modality, count in item.counts.items():
                totals[modality] = totals.get(modality, 0) + count
        columns = [m for m in moments.MODALITY_ORDER if m in totals] + sorted(
            set(totals) - set(moments.MODALITY_ORDER)
        )
        seconds = sum(i.duration_sec or 0.0 for i in found.items or [])
        page = {
            "overview": found, "columns": columns, "totals": totals, "seconds": seconds,
            "records": sum(totals.values()), "where": views.where,
        }  # fmt: skip
        return templates.TemplateResponse(request, "archive.html", page)

    return pages


def _player(ctx: UiContext, media_id: str, at_sec: float, query: str) -> dict[str, Any]:
    """The player and the transcript around `at_sec`; `missing` for an id the store lacks."""
    view = ctx.media_view(media_id)
    if view is None:
        return {"missing": media_id}
    return {**view, "start_sec": at_sec, "lines": ctx.lines(media_id, at_sec, query, 60.0)}
