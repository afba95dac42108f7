"""A real Milvus server on 127.0.0.1, for the tests and the sink benchmark: the Milvus 2.3
standalone build that the PyPI package `milvus` ships (etcd, its message queue and the C++ query
engine in one process), unpacked into a folder of the caller's, on free ports, stopped when done.

It is the one Milvus server that installs from PyPI (this machine has no Docker). Being older than
Milvus 2.5, it also holds the sink to servers without nullable fields or INVERTED indexes.
"""

from __future__ import annotations

import contextlib
import platform
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

FIXED_PORTS = (2380, 9091)
"""Ports this build always takes (its etcd's peer port, its management port), whatever it is told:
one such server runs at a time."""


def missing() -> str | None:
    """Why the server cannot run here, or None when it can."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return f"the PyPI `milvus` server is built for Linux x86_64, not {platform.machine()}"
    try:
        import milvus  # noqa: F401
    except ImportError:
        return "the PyPI package `milvus` is not installed: pip install -e '.[test]'"
    return None


ROOT_TOKEN = "root:Milvus"
"""The root user and its default password, when the server is started with authorization."""


@contextlib.contextmanager
def running(folder: Path, *, authorization: bool = False) -> Iterator[str]:
    """Start the server with its data (and its unpacked binaries, about 250 MB) in folder; yield
    its URI once it answers its health check. The binaries go when it stops (pytest keeps the
    folders of its last runs)."""
    from milvus import MilvusServer

    for port in FIXED_PORTS:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            raise RuntimeError(
                f"port {port} is in use (another Milvus server still running?): the PyPI "
                "Milvus server needs it"
            )
    server = MilvusServer()
    server.set_base_dir(str(folder))
    server.config.set("authorization_enabled", authorization)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.listen_port}"
    finally:
        server.stop()
        shutil.rmtree(folder / "bin", ignore_errors=True)


def for_tests(folder: Path, *, authorization: bool = False) -> Iterator[str]:
    """A pytest fixture's body: the server's URI while it runs, or the test skipped with the
    reason this machine cannot run it."""
    import pytest

    reason = missing()
    if reason:
        pytest.skip(f"no Milvus server here: {reason}")
    with running(folder, authorization=authorization) as uri:
        yield uri


def drop_collections(uri: str, token: str = "") -> None:
    """Leave the server empty, so the next test or run starts from nothing."""
    from pymilvus import MilvusClient

    client = MilvusClient(uri=uri, token=token)
    try:
        for name in client.list_collections():
            client.drop_collection(name)
    finally:
        client.close()
