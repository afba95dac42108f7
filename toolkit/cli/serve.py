"""`vtembed serve`: a local TwelveLabs embed endpoint (POST /v1.3/embed) backed by the configured
embedder, for running TwelveLabs clients with no key and no network."""

from __future__ import annotations

import errno
import os
import shlex
import signal
import socket
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from vtembed.cli.context import app_context
from vtembed.cli.options import EmbedderOption, ModelOption
from vtembed.settings import Settings

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI


def register(app: typer.Typer) -> None:
    app.command(name="serve")(serve)


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on. [default: 127.0.0.1]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on. [default: 8765]")] = None,
    embedder: EmbedderOption = None,
    model: ModelOption = None,
) -> None:
    """Answer the TwelveLabs embed API v1.3 (POST /v1.3/embed) on this machine.

    Point any TwelveLabs client at http://HOST:PORT/v1.3. Set VTEMBED_SERVE_API_KEY to require
    that key in the x-api-key header. Ctrl-C stops the server.
    """
    from vtembed.api.serve import serving_app

    context = app_context(ctx)
    settings = context.settings(embedder=embedder, model=model, serve__host=host, serve__port=port)
    context.registry.embedder(settings.embedder)  # an unknown embedder is said before binding
    # Bind before loading the models, so a busy port is reported at once, in one line.
    sock = _bind(settings.serve.host, settings.serve.port)
    try:
        served = serving_app(context, settings)
        the_embedder = served.embedder
        typer.echo(_banner(settings, sock, the_embedder.describe(), the_embedder.model_name))
        _server(served.app, settings).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises the SIGINT
        pass
    finally:
        sock.close()
    typer.echo("vtembed serve: stopped", err=True)


def _server(app: FastAPI, settings: Settings) -> uvicorn.Server:
    import uvicorn  # only this command needs it

    class Server(uvicorn.Server):
        """Says why a Ctrl-C seems to wait, and makes a second one leave at once: a forced
        uvicorn shutdown cancels running requests and prints a traceback for each."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if sig == signal.SIGINT and self.should_exit:
                typer.echo("vtembed serve: stopped; requests in progress abandoned", err=True)
                os._exit(130)
            if sig == signal.SIGINT and self.server_state.tasks:
                typer.echo(
                    f"vtembed serve: stopping after the {len(self.server_state.tasks)} "
                    "request(s) in progress; Ctrl-C again to abandon them",
                    err=True,
                )
            super().handle_exit(sig, frame)

    host, port = settings.serve.host, settings.serve.port
    return Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))


def _bind(host: str, port: int) -> socket.socket:
    if not 0 <= port <= 65535:  # getaddrinfo would silently wrap it around
        typer.echo(f"error: port {port} is not between 0 and 65535", err=True)
        raise typer.Exit(2)
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
        hint = "stop what uses it or pick another --port" if exc.errno == errno.EADDRINUSE else ""
        hint = hint or "check --host and --port (serve.host, serve.port)"
        typer.echo(f"error: cannot listen on {host}:{port}: {reason}; {hint}", err=True)
        raise typer.Exit(2) from None
    return sock


def _banner(settings: Settings, sock: socket.socket, describe: str, model_name: str) -> str:
    """One line: where, what, whether a key is needed, and a request to paste."""
    from vtembed.server import API_KEY_ENV

    host = settings.serve.host
    port = sock.getsockname()[1]
    everywhere = host in ("0.0.0.0", "::", "")
    shown = "127.0.0.1" if everywhere else host
    shown = f"[{shown}]" if ":" in shown else shown
    base = f"http://{shown}:{port}/v1.3"
    where = f"{base} (all interfaces)" if everywhere else base
    key = os.environ.get(API_KEY_ENV)
    auth = f"x-api-key required (${API_KEY_ENV})" if key else "no API key required"
    header = f' -H "x-api-key: ${API_KEY_ENV}"' if key else ""
    curl = (
        f"curl{header} -F model_name={shlex.quote(model_name)} "
        f"-F 'text=a man walks his dog' {base}/embed"
    )
    return f"vtembed serve: {where} (POST /embed); {describe}; {auth}; try: {curl}"
