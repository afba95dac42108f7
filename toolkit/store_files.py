"""Where the host keeps a store's resume manifest and lock, and the lock itself.

The host, not the sink, decides: beside the store when it lives on this machine
(`PATH.state.sqlite`, `PATH.lock`, the names every built-in store has always used), else in the
cache folder under a name made from a hash of the store's key, so neither a server address nor
a credential in a target ends up in a file name.
"""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from vtembed.errors import UsageError

if TYPE_CHECKING:
    from vtembed.settings import Settings
    from vtembed.sink import Sink

STATE_SUFFIX = ".state.sqlite"
LOCK_SUFFIX = ".lock"


def state_location(
    sink_cls: type[Sink], target: str, settings: Settings | None, cache_dir: Path | None = None
) -> Path:
    """`cache_dir`, when given, is used instead of the settings' (a contract check's folder)."""
    local = sink_cls.local_path(target, settings)
    if local is not None:
        local = local.expanduser()
        return local.with_name(local.name + STATE_SUFFIX)
    from vtembed.settings import default_cache_dir

    cache = cache_dir or (settings.cache_dir if settings is not None else default_cache_dir())
    digest = hashlib.sha256(sink_cls.store_key(target, settings).encode()).hexdigest()[:16]
    return Path(cache) / "stores" / f"{sink_cls.scheme}-{digest}{STATE_SUFFIX}"


def frames_location(state_path: Path) -> Path:
    """The folder of the store's keyframes and thumbnails (`PATH.frames/MEDIA_ID/`), beside its
    manifest, so copying or deleting a store takes them along."""
    return state_path.with_name(state_path.name.removesuffix(STATE_SUFFIX) + ".frames")


def assets_location(state_path: Path) -> Path:
    """The folder of the store's kept transcripts and shot lists (`PATH.assets/MEDIA_ID/`),
    beside its manifest, like its frames (see `vtembed.assets`)."""
    return state_path.with_name(state_path.name.removesuffix(STATE_SUFFIX) + ".assets")


def frames_folder(settings: Settings, state_path: Path | None) -> Path | None:
    """Where a store's keyframes and thumbnails are: `[frames] thumbnails_dir` when set, else
    beside its manifest (None for a store that has none, a dry run's stand-in)."""
    if settings.frames.thumbnails_dir:
        return Path(settings.frames.thumbnails_dir).expanduser()
    return None if state_path is None else frames_location(state_path)


def lock_location(state_path: Path) -> Path:
    return state_path.with_name(state_path.name.removesuffix(STATE_SUFFIX) + LOCK_SUFFIX)


class StoreLock:
    """One writer per store, across processes: an exclusive `flock` held while the store is
    open. The kernel drops it when the process dies, so a killed run leaves no stale lock."""

    def __init__(self, path: Path, what: str) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file: TextIO | None = open(path, "w")  # noqa: SIM115
        except OSError as exc:
            raise UsageError(f"{what}: cannot write there ({exc.strerror})") from None
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.release()
            raise UsageError(f"{what} is in use by another vtembed run") from None

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
