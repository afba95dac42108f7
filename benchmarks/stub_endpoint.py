"""A stand-in for the TwelveLabs embed endpoint (v1.3) on 127.0.0.1 that only sleeps.

Every POST waits DELAY_SEC and answers with a constant 1024-dim Marengo vector, so a benchmark
measures the client's waiting and overlap, not a model competing for the same cores (which is
what `vtembed serve` would be).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DELAY_SEC = 0.150
API_KEY = "bench-key"
VECTOR = json.dumps(
    {
        "model_name": "Marengo-retrieval-2.7",
        "text_embedding": {"segments": [{"float": [0.03125] * 1024}]},
        "audio_embedding": {
            "segments": [{"float": [0.03125] * 1024, "start_offset_sec": 0, "end_offset_sec": 10}]
        },
    }
).encode()


@dataclass
class Stub:
    url: str  # the base URL, as twelvelabs.base_url takes it
    answered: list[float] = field(default_factory=list)  # time.perf_counter() of each answer
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> None:
        with self._lock:
            self.answered.append(time.perf_counter())

    def answered_since(self, started: float) -> list[float]:
        """Seconds from `started` (a perf_counter reading) to each answer given after it."""
        with self._lock:
            return [t - started for t in self.answered if t >= started]


@contextmanager
def sleeping_stub(delay_sec: float = DELAY_SEC) -> Iterator[Stub]:
    """Serve on a free port for the duration of the block."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            time.sleep(delay_sec)
            stub.count()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(VECTOR)))
            self.end_headers()
            self.wfile.write(VECTOR)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub = Stub(f"http://127.0.0.1:{server.server_address[1]}/v1.3")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
