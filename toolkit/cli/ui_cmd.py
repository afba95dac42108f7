"""`vtembed ui`: search an archive in the browser, play the moments found, read what was said.

Parses, builds the web app from the application (`vtembed.ui.app`) and runs it; the page's
work happens in the Python API. It listens on 127.0.0.1 unless told otherwise, and another
address is refused unless `VTEMBED_UI_TOKEN` is set: the page plays every file in the store.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from typing import Annotated

import typer

from vtembed.cli.context import app_context
from vtembed.cli.options import EmbedderOption

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8766


def register(app: typer.Typer) -> None:
    app.command(name="ui")(ui)


def ui(
    ctx: typer.Context,
    sink: Annotated[
        str | None,
        typer.Option(
            help="The store to search, SCHEME:TARGET. [default: jsonl:vtembed-out/embeddings.jsonl]"
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free one).")] = DEFAULT_PORT,
    embedder: EmbedderOption = None,
) -> None:
    """Serve a local search page for the store: results with thumbnails, a player that starts
    at the moment found, the transcript around it, and an archive overview.

    Set VTEMBED_UI_TOKEN to require a token (needed for any --host but a loopback address);
    open the printed address with ?token=... once. Ctrl-C stops the server.
    """
    from vtembed.ui.auth import TOKEN_ENV

    token = os.environ.get(TOKEN_ENV) or None
    if token is None and not is_loopback(host):
        typer.echo(
            f"error: --host {host} would show the archive to other machines: set {TOKEN_ENV} "
            f"to require a token, or keep --host {DEFAULT_HOST}",
            err=True,
        )
        raise typer.Exit(2)
    import uvicorn  # only this command and serve need it

    from vtembed.ui.app import create_app

    web = create_app(app_context(ctx), sink=sink, embedder=embedder, token=token)
    sock = _bind(host, port)
    try:
        typer.echo(_banner(host, sock.getsockname()[1], web.state.ui.sink, token is not None))
        config = uvicorn.Config(web, log_level="warning", timeout_graceful_shutdown=2)
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn stops gracefully, then re-raises the SIGINT
        pass
    finally:
        sock.close()
    typer.echo("vtembed ui: stopped", err=True)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    """Bound before the banner, so a busy port is one line and port 0 prints the real one."""
    if not 0 <= port <= 65535:
        typer.echo(f"error: port {port} is not between 0 and 65535", err=True)
        raise typer.Exit(2)
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        busy = exc.errno == errno.EADDRINUSE
        hint = "stop what uses it or pick another --port" if busy else "check --host and --port"
        typer.echo(
            f"error: cannot listen on {host}:{port}: {exc.strerror or exc}; {hint}", err=True
        )
        raise typer.Exit(2) from None
    return sock


def _banner(host: str, port: int, sink: str, token: bool) -> str:
    everywhere = host in ("0.0.0.0", "::", "")
    shown = DEFAULT_HOST if everywhere else host.strip("[]")
    shown = f"[{shown}]" if ":" in shown else shown
    url = f"http://{shown}:{port}/"
    where = " (all interfaces)" if everywhere else ""
    from vtembed.ui.auth import TOKEN_ENV

    gate = f"; token required: open {url}?token=${TOKEN_ENV} once" if token else ""
    return f"vtembed ui: {url}{where} searching {sink}{gate}; Ctrl-C stops"
