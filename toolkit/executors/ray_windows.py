"""A long item's windows, heard by several actors, put back together into the item's outcome.

An item split into windows (`vtembed.item_windows`) is settled only once every window is: then
its words are joined in order and it goes on as any other item (planned, embedded and written on
the driver, so records and resume stay per item). The first window that fails fails the item,
with a line that says which window; the item's windows still queued are then not transcribed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vtembed.executors.ray_worker import Outcome
from vtembed.item_windows import ItemWindow, joined
from vtembed.models import MediaItem
from vtembed.pipeline import Transcribed


@dataclass
class _Waiting:
    heard: list[Transcribed | None]
    warnings: list[str]


@dataclass
class WindowsHeard:
    """The long items whose windows are out, each with what its windows gave so far."""

    _waiting: dict[MediaItem, _Waiting] = field(default_factory=dict)

    def expect(self, split: Outcome) -> None:
        """`split`: the outcome that split its item into `split.windows`."""
        self._waiting[split.item] = _Waiting([None] * len(split.windows), list(split.warnings))

    def wanted(self, window: ItemWindow) -> bool:
        """False once another window of its item failed."""
        return window.item in self._waiting

    def settle(self, window: ItemWindow, outcome: Outcome) -> Outcome | None:
        """The item's outcome once it is settled (every window heard, or the first failed);
        None while windows are missing, and for a window of an item already failed."""
        waiting = self._waiting.get(window.item)
        if waiting is None:
            return None
        # A warning about the file (a broken tail) may come from the split and a window both.
        waiting.warnings.extend(w for w in outcome.warnings if w not in waiting.warnings)
        warnings = tuple(waiting.warnings)
        if outcome.transcribed is None:
            del self._waiting[window.item]
            return Outcome(
                window.item, error=outcome.error, warnings=warnings,
                worker_broken=outcome.worker_broken,
            )  # fmt: skip
        waiting.heard[window.index] = outcome.transcribed
        heard = [part for part in waiting.heard if part is not None]
        if len(heard) < len(waiting.heard):
            return None
        del self._waiting[window.item]
        whole = Transcribed(
            window.item,
            heard[0].info,
            max(part.duration_sec for part in heard),
            joined([part.transcript for part in heard]),
        )
        return Outcome(window.item, transcribed=whole, warnings=warnings)
