"""Reaching Milvus: Milvus Lite for a local `.db` path, a server for a URI, one client for both.

pymilvus treats a URI ending in `.db` as Milvus Lite and starts its server inside this process
(milvus-lite 3 is pure Python: a gRPC server on a free 127.0.0.1 port, a thread pool, and a
`LOCK` file that keeps every other process out of the database folder while it runs). Clients of
one path share that server; the last one to close stops it, so the lock is released as soon as
a sink closes, not only at exit.

pymilvus and milvus-lite log failed calls with tracebacks through `logging`; vtembed reports
its own one-line errors instead, so their loggers stay quiet unless `--verbose` asked for debug.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from vtembed.errors import UsageError
from vtembed.plugins.sinks.milvus_lite_faiss import quiet_ivf_training

LITE_SUFFIX = ".db"
LITE_LOCK = "LOCK"  # what milvus-lite 3 makes first in a database folder, beside `collections/`
LITE_COLLECTIONS = "collections"
SERVER_SCHEMES = ("http", "https", "tcp", "unix")

_lite_clients: Counter[Path] = Counter()
_lite_guard = threading.Lock()


@dataclass(frozen=True)
class Where:
    """A parsed `milvus:` target: a Milvus Lite folder, or a server URI."""

    target: str
    lite: Path | None
    uri: str
    shown: str
    """The target without any `user:password@` it carries, for messages and summaries."""

    @property
    def label(self) -> str:
        return f"sink milvus:{self.shown}"


def is_server_uri(target: str) -> bool:
    """Whether target names a server (`http://...`); anything else is a path on this machine."""
    return not target.endswith(LITE_SUFFIX) and urlsplit(target).scheme in SERVER_SCHEMES


def parse(target: str) -> Where:
    if target.endswith(LITE_SUFFIX):
        path = Path(target).expanduser().absolute()
        return Where(target, path, str(path), target)
    if not is_server_uri(target):
        raise UsageError(
            f"sink milvus:{target}: give a Milvus Lite path ending in {LITE_SUFFIX} "
            "(milvus:./archive.db) or a server URI (milvus:http://localhost:19530)"
        )
    shown = target
    parts = urlsplit(target)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        shown = urlunsplit(parts._replace(netloc=netloc))
    return Where(target, None, target, shown)


def connect(where: Where, *, token: str, timeout: float, create: bool) -> Any | None:
    """A MilvusClient for the target; None when a Lite database does not exist and `create` is
    false (so reading never leaves an empty database behind)."""
    if where.lite is not None:
        return _connect_lite(where, create=create)
    pymilvus = _pymilvus()
    try:
        return pymilvus.MilvusClient(uri=where.uri, token=token, timeout=timeout)
    except pymilvus.MilvusException as exc:
        raise UsageError(
            f"{where.label}: cannot connect ({_message(exc)}); is the server running, "
            "and are the URI and token right?"
        ) from None


def release(where: Where, client: Any) -> None:
    """Close the client; the last client of a Lite database also stops its server."""
    client.close()
    if where.lite is None:
        return
    with _lite_guard:
        _lite_clients[where.lite] -= 1
        last = _lite_clients[where.lite] <= 0
        if last:
            del _lite_clients[where.lite]
    if last:
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(str(where.lite))


@contextlib.contextmanager
def calling(where: Where, what: str) -> Iterator[None]:
    """Turn a Milvus error into one line that names the sink and what was being done."""
    pymilvus = _pymilvus()
    try:
        yield
    except pymilvus.MilvusException as exc:
        raise UsageError(f"{where.label}: {what} failed: {_message(exc)}") from None


def versions() -> dict[str, str]:
    """Installed pymilvus and milvus-lite versions ("" for one that is missing)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for dist in ("pymilvus", "milvus-lite"):
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            found[dist] = ""
    return found


def lite_in_use(path: Path) -> bool:
    """Whether another process holds the Lite database's lock (it runs a server on it)."""
    lock = path / LITE_LOCK
    if not lock.is_file():
        return False
    with open(lock, "rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False


def lite_problem(path: Path) -> str | None:
    """Why path cannot be a Milvus Lite database folder, or None: it is one, or not there yet,
    or an empty folder. Milvus Lite opens any folder and adds its own files to whatever is
    there, so a folder that holds other files is refused rather than mixed with a database."""
    if not path.exists():
        return None
    if not path.is_dir():
        return (
            f"{path} is a file, not a Milvus Lite database folder (files made by milvus-lite 2 "
            "cannot be opened by milvus-lite 3: ingest into a new path)"
        )
    if (path / LITE_LOCK).is_file() or (path / LITE_COLLECTIONS).is_dir() or _empty(path):
        return None
    return (
        f"{path} is a folder that is not a Milvus Lite database (it holds other files): "
        "give a new path"
    )


def _empty(folder: Path) -> bool:
    return next(folder.iterdir(), None) is None


def _connect_lite(where: Where, *, create: bool) -> Any | None:
    path = where.lite
    assert path is not None
    if problem := lite_problem(path):
        raise UsageError(f"{where.label}: {problem}")
    if not path.exists():
        if not create:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"{where.label}: cannot write there ({exc.strerror})") from None
    pymilvus = _pymilvus()
    quiet_ivf_training()
    with _lite_guard:
        try:
            client = pymilvus.MilvusClient(uri=str(path))
        except pymilvus.MilvusException as exc:
            if lite_in_use(path):
                raise UsageError(
                    f"{where.label} is in use by another process (Milvus Lite opens a database "
                    "in one process at a time): wait for it to finish, or use a Milvus server"
                ) from None
            raise UsageError(f"{where.label}: cannot open ({_message(exc)})") from None
        _lite_clients[path] += 1
    return client


def _pymilvus() -> Any:
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
    for name in ("pymilvus", "milvus_lite", "grpc._server"):
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.CRITICAL)
    import pymilvus

    return pymilvus


def _message(exc: Exception) -> str:
    return str(getattr(exc, "message", "") or exc)
