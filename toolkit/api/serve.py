"""`serve`: the local TwelveLabs-compatible endpoint, built from the configured embedder.

The face (`vtembed serve`) binds the socket and runs uvicorn; this builds what it serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vtembed.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from vtembed.api.app import Vtembed
    from vtembed.embedder import Embedder


@dataclass(frozen=True)
class Served:
    app: FastAPI
    embedder: Embedder


def serving_app(vt: Vtembed, settings: Settings) -> Served:
    """Loads the embedder's model (seconds); raises `UsageError` for an unknown embedder or
    model before that."""
    from vtembed.server import create_app
    from vtembed.transcriber import Transcriber

    embedder = vt.registry.embedder(settings.embedder)(settings, settings.model or None)
    app = create_app(settings, embedder, lambda: Transcriber(settings.whisper))
    return Served(app, embedder)
