"""A real HTTP server on 127.0.0.1 that speaks the TwelveLabs embed v1.3 wire protocol, checks
what clients send, and injects the faults the real service produces but not on demand:
429 with Retry-After, 500, 503, slow answers and dropped connections.

Each distinct request (by content) fails on its first attempts as the fault plan says, then
succeeds with a vector derived from its content, so a test can tell exactly which record came from
which request and that none was lost or doubled.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import io
import json
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from vtembed.clip_tokens import get_counter

FAULTS = ("429", "500", "503-date", "slow", "drop", "429-long")


@dataclass
class Arrival:
    key: str
    at: float
    answer: str


@dataclass
class FakeTwelveLabs:
    api_key: str
    model_name: str = "Marengo-retrieval-2.7"
    dim: int = 1024
    token_limit: int = 77
    max_audio_sec: float = 10.0
    faults: tuple[str, ...] = ()
    """Answered to a request's first attempts, in order; then it succeeds."""
    slow_sec: float = 4.0
    retry_after_sec: float = 1.0
    refuse_text_containing: str | None = None
    wrong_dim: bool = False
    not_json: bool = False
    arrivals: list[Arrival] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    unheard: list[str] = field(default_factory=list)
    """Answers the client did not wait for (its timeout came first): slow ones, as planned."""
    images: list[tuple[int, int]] = field(default_factory=list)
    """Width and height of every JPEG `image_file` that passed the wire check."""
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake.handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1.3"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def vector_for(key: str, dim: int) -> list[float]:
        seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
        v = np.random.default_rng(seed).normal(size=dim)
        return (v / np.linalg.norm(v)).round(6).tolist()

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        try:
            self._answer(req)
        except (BrokenPipeError, ConnectionResetError):  # the client stopped waiting first
            with self.lock:
                self.unheard.append(getattr(req, "fake_answer", "?"))

    def _answer(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("content-length", 0))
        body = req.rfile.read(length)
        if req.path != "/v1.3/embed":
            return self._send(req, 404, {"code": "not_found", "message": req.path})
        if req.headers.get("x-api-key") != self.api_key:
            return self._send(req, 401, {"code": "api_key_invalid", "message": "bad key"})
        fields, files = _multipart(req.headers.get("content-type", ""), body)
        problem = self._check(fields, files)
        upload = files.get("audio_file") or files.get("image_file") or b""
        key = fields.get("text") or hashlib.sha256(upload).hexdigest()
        if "audio_url" in fields:
            key = f"{fields['audio_url']}@{fields.get('audio_start_offset_sec')}"
        with self.lock:
            attempt = self.attempts[key]
            self.attempts[key] += 1
            fault = self.faults[attempt] if attempt < len(self.faults) else None
            answer = "400" if problem else (fault or "ok")
            req.fake_answer = answer  # type: ignore[attr-defined]
            self.arrivals.append(Arrival(key, time.monotonic(), answer))
            if problem:
                self.violations.append(problem)
        if problem:
            return self._send(req, 400, {"code": "wire_check_failed", "message": problem})
        if fault == "drop":
            req.connection.shutdown(socket.SHUT_RDWR)
            req.close_connection = True
            return None
        if fault == "slow":
            time.sleep(self.slow_sec)
        if fault in ("429", "429-long"):
            wait = self.retry_after_sec * (2 if fault == "429-long" else 1)
            return self._send(
                req,
                429,
                {"code": "too_many_requests", "message": "slow down"},
                {"Retry-After": f"{wait:g}"},
            )
        if fault == "500":
            return self._send(req, 500, {"code": "internal", "message": "oops"})
        if fault == "503-date":
            when = formatdate(time.time() + 2 * self.retry_after_sec + 1, usegmt=True)
            return self._send(
                req,
                503,
                {"code": "unavailable", "message": "busy"},
                {"Retry-After": when},
            )
        if self.refuse_text_containing and self.refuse_text_containing in fields.get("text", ""):
            return self._send(req, 400, {"code": "text_refused", "message": "we do not embed that"})
        kind = "text" if "text" in fields else "image" if "image_file" in files else "audio"
        dim = self.dim + (1 if self.wrong_dim else 0)
        segment: dict[str, Any] = {"float": self.vector_for(key, dim)}
        if kind == "audio":
            segment.update(start_offset_sec=0.0, end_offset_sec=self.max_audio_sec)
        if self.not_json:
            return self._send_raw(req, 200, b"<html>gateway</html>", "text/html")
        return self._send(
            req, 200, {"model_name": self.model_name, f"{kind}_embedding": {"segments": [segment]}}
        )

    def _check(self, fields: dict[str, str], files: dict[str, bytes]) -> str | None:
        if fields.get("model_name") != self.model_name:
            return f"model_name {fields.get('model_name')!r}"
        if "text" in fields:
            tokens = get_counter().count(fields["text"])
            if tokens > self.token_limit:
                return f"text of {tokens} tokens"
            if fields.get("text_truncate") != "none":
                return f"text_truncate {fields.get('text_truncate')!r}"
            return None
        if "audio_file" in files:
            seconds = _duration(files["audio_file"])
            if seconds is None or seconds > self.max_audio_sec + 0.05:
                return f"audio of {seconds} s"
            return None
        if "audio_url" in fields:
            if not fields["audio_url"].startswith(("http://", "https://")):
                return f"audio_url {fields['audio_url']!r}"
            float(fields.get("audio_start_offset_sec", "0"))
            return None
        if "image_file" in files:
            size = _jpeg_size(files["image_file"])
            if size is None:
                return "image_file is not a JPEG picture"
            with self.lock:
                self.images.append(size)
            return None
        return f"neither text, audio nor image: {sorted(fields)} {sorted(files)}"

    def _send(
        self,
        req: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        self._send_raw(req, status, json.dumps(body).encode(), "application/json", headers)

    @staticmethod
    def _send_raw(
        req: BaseHTTPRequestHandler,
        status: int,
        data: bytes,
        ctype: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        req.send_response(status)
        req.send_header("Content-Type", ctype)
        req.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            req.send_header(name, value)
        req.end_headers()
        req.wfile.write(data)


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    if not content_type.startswith("multipart/form-data"):
        return {"_not_multipart": content_type}, {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename():
            files[str(name)] = payload
        else:
            fields[str(name)] = payload.decode()
    return fields, files


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """A JPEG's width and height, decoded (not just its magic bytes); None if it is not one."""
    import cv2

    if not data.startswith(b"\xff\xd8\xff"):
        return None
    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return None if picture is None else (int(picture.shape[1]), int(picture.shape[0]))


def _duration(data: bytes) -> float | None:
    """Seconds of sound the file really holds, decoded in this process: a header's duration
    can be missing or wrong (a FLAC written to a pipe has none), and an ffprobe process per
    request was slow enough on a loaded machine to run past the client's timeout."""
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.audio[0]
            samples = sum(frame.samples for frame in container.decode(stream))
            return samples / stream.rate if stream.rate else None
    except (av.FFmpegError, IndexError):
        return None
