"""`transcript`: an ingested item's kept transcript, as the store has it (nothing recomputed).

The item is named the way a user knows it: the path given to ingest, its URI (a feed
episode's enclosure URL), or its media id as records show it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vtembed.assets import AssetStore, KeptTranscript
from vtembed.errors import UsageError
from vtembed.manifest import stored_items
from vtembed.settings import Settings
from vtembed.store_files import assets_location, state_location

if TYPE_CHECKING:
    from vtembed.api.app import Vtembed


def kept_transcript(app: Vtembed, media: str, settings: Settings) -> KeptTranscript:
    sink_cls, target = app.registry.sink(settings.sink)
    state = state_location(sink_cls, target, settings)
    if not state.is_file():
        raise UsageError(f"--sink {settings.sink}: no vtembed store there")
    names = {media}
    path = Path(media).expanduser()
    if path.exists():
        names.add(path.resolve().as_uri())
    assets = AssetStore(assets_location(state), writable=False)
    for row, _ in stored_items(state):  # the catalogue, not every kept transcript read
        if names & {row.media_id, row.uri} and (kept := assets.transcript(row.media_id)):
            return kept
    raise UsageError(
        f"{media}: no kept transcript in {settings.sink} (ingest it into that store first)"
    )
