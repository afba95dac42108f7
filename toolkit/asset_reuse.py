"""Which kept assets an ingest may use, and keeping the ones it makes (see `vtembed.assets`).

An ingest uses a kept transcript or shot list only when its key says the same file and the same
settings would make it again; `reembed` uses whatever the store it reads from kept for that
version of the file (`any_settings`), since those are what its old records were made from.
"""

from __future__ import annotations

import logging

from vtembed.assets import AssetStore, KeptShots, KeptTranscript, shots_key, transcript_key
from vtembed.models import MediaItem
from vtembed.settings import Settings

log = logging.getLogger(__name__)


class Reuse:
    def __init__(
        self, store: AssetStore | None, settings: Settings, any_settings: bool = False
    ) -> None:
        self.store = store
        self.settings = settings
        self.any_settings = any_settings
        self.keeps = store is not None and store.writable and settings.assets.keep
        self.reuses = store is not None and (settings.assets.reuse or any_settings)

    def transcript(self, item: MediaItem) -> KeptTranscript | None:
        if not self.reuses or self.store is None:
            return None
        kept = self.store.transcript(item.id)
        if kept is None or kept.item.fingerprint != item.fingerprint:
            return None
        if not self.any_settings and kept.key != transcript_key(item, self.settings):
            log.debug("%s: kept transcript made with other settings", item.label)
            return None
        return kept

    def keep_transcript(self, kept: KeptTranscript) -> None:
        if self.keeps and self.store is not None:
            self.store.keep_transcript(kept)

    def shots(self, item: MediaItem) -> KeptShots | None:
        if not self.reuses or self.store is None:
            return None
        kept = self.store.shots(item.id)
        if kept is None or kept.fingerprint != item.fingerprint:
            return None
        if not self.any_settings and kept.key != shots_key(item, self.settings):
            return None
        return kept

    def keep_shots(self, item: MediaItem, kept: KeptShots) -> None:
        if self.keeps and self.store is not None:
            self.store.keep_shots(item.id, kept)

    def shots_key(self, item: MediaItem) -> str:
        return shots_key(item, self.settings)

    def transcript_key(self, item: MediaItem) -> str:
        return transcript_key(item, self.settings)
