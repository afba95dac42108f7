"""`vtembed serve`: a local TwelveLabs embed endpoint (POST /v1.3/embed) backed by the configured
embedder, for running TwelveLabs clients with no key and no network."""

from __future__ import annotations

import os
import shlex
import socket
from typing import Annotated

import typer

from vtembed.cli.context import app_context
from vtembed.server import API_KEY_ENV, create_app
from vtembed.settings import Settings
from vtembed.transcribe import Transcriber


def register(app: typer.Typer) -> None:
    app.command(name="serve")(serve)


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on. [default: 127.0.0.1]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on. [default: 8765]")] = None,
    embedder: Annotated[
        str | None, typer.Option(help="Embedder plugin. [default: local (offline)]")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Embedding model. [default: the embedder's own]")
    ] = None,
) -> None:
    """Answer the TwelveLabs embed API v1.3 (POST /v1.3/embed) on this machine.

    Point any TwelveLabs client at http://HOST:PORT/v1.3. Set VTEMBED_SERVE_API_KEY to require
    that key in the x-api-key header. Ctrl-C stops the server.
    """
    import uvicorn  # only this command needs it

    context = app_context(ctx)
    settings = context.settings(embedder=embedder, model=model, serve__host=host, serve__port=port)
    embedder_cls = context.registry.embedder(settings.embedder)
    # Bind before loading the models, so a busy port is reported at once, in one line.
    sock = _bind(settings.serve.host, settings.serve.port)
    the_embedder = embedder_cls(settings, settings.model or None)
    app = create_app(settings, the_embedder, lambda: Transcriber(settings.whisper))
    typer.echo(_banner(settings, sock, the_embedder.describe(), the_embedder.model_name))
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.serve.host, port=settings.serve.port, log_level="warning")
    )
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises the SIGINT
        pass
    finally:
        sock.close()
    typer.echo("vtembed serve: stopped", err=True)


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        typer.echo(
            f"error: cannot listen on {host}:{port}: {reason}; "
            "stop what uses it or pick another --port",
            err=True,
        )
        raise typer.Exit(2) from None
    return sock


def _banner(settings: Settings, sock: socket.socket, describe: str, model_name: str) -> str:
    """One line: where, what, whether a key is needed, and a request to paste."""
    host = settings.serve.host
    port = sock.getsockname()[1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    base = f"http://{shown}:{port}/v1.3"
    key = os.environ.get(API_KEY_ENV)
    auth = f"x-api-key required (${API_KEY_ENV})" if key else "no API key required"
    header = f' -H "x-api-key: ${API_KEY_ENV}"' if key else ""
    curl = (
        f"curl{header} -F model_name={shlex.quote(model_name)} "
        f"-F 'text=a man walks his dog' {base}/embed"
    )
    return f"vtembed serve: {base} (POST /embed); {describe}; {auth}; try: {curl}"
