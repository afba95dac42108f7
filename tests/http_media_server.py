"""A real HTTP/1.1 server on 127.0.0.1 that serves media the way real servers misbehave.

Each route is a `Route`: a body plus what goes wrong (503s before success, a stall, a dropped
connection, a trickle, an HTML page labelled video/mp4, a redirect). Every route honours
`Range: bytes=N-` with `If-Range`, as static file servers and CDNs do. The server counts GETs and
HEADs per path, records the Range header of every GET and how many body bytes it sent, so a test
can prove what a client downloaded, resumed or skipped.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, unquote, urlsplit

LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "video/mp4"
    etag: str | None = None
    last_modified: str | None = None
    disposition: str | None = None
    status: int = 200
    redirect_to: str | None = None
    """A path on this server: answer 302 with it as Location."""
    fail_first: int = 0
    """The first this-many GETs are answered 503."""
    drop_first: int = 0
    """The first this-many GETs send half the body, then close the connection."""
    stall_after: int | None = None
    """Send this many body bytes, then nothing until the server stops."""
    trickle: tuple[int, float] | None = None
    """Send the body in pieces of this many bytes with this many seconds between them."""
    head_status: int | None = None
    """Answer HEAD with this status and no headers (servers that refuse HEAD)."""


class _Server(ThreadingHTTPServer):
    """A client that hangs up (vtembed downloading two items side by side closes a kept-alive
    connection when it is done with it) is no error of the server's: socketserver would print
    a traceback into the run's output. Any other error still is printed."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return
        super().handle_error(request, client_address)


@dataclass
class MediaServer:
    routes: dict[str, Route] = field(default_factory=dict)
    gets: Counter[str] = field(default_factory=Counter)
    heads: Counter[str] = field(default_factory=Counter)
    ranges: dict[str, list[str | None]] = field(default_factory=lambda: defaultdict(list))
    sent: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def add(self, path: str, route: Route) -> str:
        """Serve `route` at `path` (plain text, may be non-ASCII); returns its full URL."""
        self.routes[path] = route
        return self.url(path)

    def url(self, path: str) -> str:
        return f"{self.base}{quote(path)}"

    def start(self) -> MediaServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.handle(self, head=False)

            def do_HEAD(self) -> None:
                server.handle(self, head=True)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, req: BaseHTTPRequestHandler, head: bool) -> None:
        path = unquote(urlsplit(req.path).path)
        route = self.routes.get(path)
        with self.lock:
            counter = self.heads if head else self.gets
            counter[path] += 1
            count = counter[path]
            if not head:
                self.ranges[path].append(req.headers.get("Range"))
        if route is None:
            return self._empty(req, 404, "Not Found")
        if route.redirect_to is not None:
            return self._empty(req, 302, "Found", {"Location": self.url(route.redirect_to)})
        if head and route.head_status is not None:
            return self._empty(req, route.head_status, "")
        if not head and count <= route.fail_first:
            return self._empty(req, 503, "Service Unavailable", {"Retry-After": "0"})
        if route.status != 200:
            return self._empty(req, route.status, "")
        self._body(req, route, path, head, drop=not head and count <= route.drop_first)

    def _body(
        self, req: BaseHTTPRequestHandler, route: Route, path: str, head: bool, drop: bool
    ) -> None:
        body, start = route.body, self._range_start(req, route)
        if start is not None and start >= len(body):
            return self._empty(req, 416, "Range Not Satisfiable")
        req.send_response(206 if start is not None else 200)
        headers = {"Content-Type": route.content_type, "Accept-Ranges": "bytes"}
        headers |= {"ETag": route.etag, "Last-Modified": route.last_modified}
        headers["Content-Disposition"] = route.disposition
        if start is not None:
            headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        payload = body[start or 0 :]
        headers["Content-Length"] = str(len(payload))
        for name, value in headers.items():
            if value is not None:
                req.send_header(name, value)
        req.end_headers()
        if head:
            return
        if drop:
            self._send(req, path, payload[: len(payload) // 2])
            req.close_connection = True
            return
        if route.stall_after is not None:
            self._send(req, path, payload[: route.stall_after])
            self.stopping.wait(120)
            req.close_connection = True
            return
        piece, pause = route.trickle or (len(payload) or 1, 0.0)
        for at in range(0, len(payload), piece):
            if at and pause:
                self.stopping.wait(pause)
            if not self._send(req, path, payload[at : at + piece]):
                return

    def _send(self, req: BaseHTTPRequestHandler, path: str, data: bytes) -> bool:
        try:
            req.wfile.write(data)
            req.wfile.flush()
        except OSError:  # the client went away (killed, or gave up on a stall)
            req.close_connection = True
            return False
        with self.lock:
            self.sent[path] += len(data)
        return True

    @staticmethod
    def _range_start(req: BaseHTTPRequestHandler, route: Route) -> int | None:
        match = re.fullmatch(r"bytes=(\d+)-", req.headers.get("Range", ""))
        if not match:
            return None
        if_range = req.headers.get("If-Range")
        if if_range is not None and if_range not in (route.etag, route.last_modified):
            return None  # changed since the client's part: send the whole body (200)
        return int(match.group(1))

    @staticmethod
    def _empty(
        req: BaseHTTPRequestHandler, status: int, reason: str, headers: dict[str, str] | None = None
    ) -> None:
        body = f"<html><body>{status} {reason}</body></html>".encode()
        req.send_response(status, reason or None)
        for name, value in (headers or {}).items():
            req.send_header(name, value)
        req.send_header("Content-Type", "text/html")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        if req.command != "HEAD":
            req.wfile.write(body)
