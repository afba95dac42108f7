"""A real HTTP server on 127.0.0.1 that speaks the TwelveLabs Embed API v2 (`/v1.3/embed-v2`,
sync, and `/v1.3/embed-v2/tasks`, async), checks every body strictly (see
`tests/twelvelabs_v2_checks.py`: the SDK's own pydantic request types plus the documented rules)
and answers what the SDK's response types parse. It injects what the real service does but not
on demand: 429 with Retry-After (seconds or an HTTP date), 500, 503, dropped connections, slow
answers and tasks that stay `processing` or end `failed`.

Each distinct request (by content) fails on its first attempts as `faults` says, then succeeds
with vectors derived from what it embeds: `FakeTwelveLabsV2.expected_vector` gives a test the
vector it should see, so it can tell which record came from which request, and that none was
lost or doubled. Every refused body (400) is also kept in `violations`.

Audio/video answers: for each `embedding_option` (in the order asked) and each
`embedding_scope`, `clip` is one entry per segment (fixed `duration_sec`, dynamic cut into equal
`min_duration_sec` pieces, none given: one segment over the whole span for sync, 6 s audio /
4 s video for tasks), `asset` one entry for the span; then, with `fused_embedding`, the same for
option `fused`. Times are absolute in the media (request `start_sec` + offset).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import numpy as np

from tests.twelvelabs_v2_checks import Plan, Refusal, multi_content, parse_request

FAULTS = ("429", "429-date", "503-date", "500", "503", "drop", "slow")
FULL_DIM = 1024


@dataclass
class Arrival:
    key: str
    at: float
    answer: str
    input_type: str | None
    path: str


@dataclass
class Task:
    id: str
    plan: Plan
    polls: int = 0
    created: float = field(default_factory=time.monotonic)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


@dataclass
class FakeTwelveLabsV2:
    api_key: str
    faults: tuple[str, ...] = ()
    """Answered to a POST's first attempts (same body = same request), in order; then success."""
    poll_faults: tuple[str, ...] = ()
    """The same, for the GETs of each task (by task id)."""
    slow_sec: float = 3.0
    retry_after_sec: int = 1
    task_polls_until_ready: int = 2
    """A task answers `processing` to this many GETs before `ready` (the next one)."""
    task_ready_after_sec: float = 0.0
    """...and not before this long after it was created."""
    failing_task_message: str | None = None
    """Tasks end `failed` with this `error.message` instead of `ready`."""
    wrong_dim: bool = False
    """Vectors one value longer than asked."""
    missing_data: bool = False
    """A 200 with `data: []` (sync) or a ready task with `data: null`."""
    unknown_option: bool = False
    """Audio/video entries with `embedding_option: "smell"`."""
    assets: dict[str, bytes] = field(default_factory=dict)
    """Media an `asset_id` names (uploads the fake pretends happened)."""
    arrivals: list[Arrival] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    unheard: list[str] = field(default_factory=list)
    """Answers the client did not wait for (it hung up first)."""
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    tasks: dict[str, Task] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        """Serve on 127.0.0.1 (a free port); return the base URL the SDK takes, `.../v1.3`."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake.handle(self)

            def do_GET(self) -> None:
                fake.handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1.3"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def expected_vector(
        kind: str,
        content: bytes | str,
        start_sec: float | None = None,
        end_sec: float | None = None,
        option: str | None = None,
        dim: int = 512,
        scope: str | None = None,
    ) -> list[float]:
        """The vector the fake answers for `content` (text, or the media's bytes; for
        text_image and multi_input `FakeTwelveLabsV2.multi_content(text, [bytes...])`) of `kind`
        (the input_type; `image` for a task's image), over `start_sec..end_sec` (as answered,
        absolute) with `option`/`scope` as answered (None for text, images, multi_input).
        Unit-norm and Matryoshka-like: a shorter one is the normalised head of the 1024 one."""
        data = content.encode() if isinstance(content, str) else content
        times = "-" if start_sec is None else f"{start_sec:.3f}-{end_sec:.3f}"
        key = f"{kind}|{hashlib.sha256(data).hexdigest()}|{times}|{option}|{scope}"
        seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
        v = np.random.default_rng(seed).normal(size=max(FULL_DIM, dim))[:dim]
        return (v / np.linalg.norm(v)).round(6).tolist()

    multi_content = staticmethod(multi_content)

    @staticmethod
    def segments(start: float, end: float, segment_sec: float | None) -> list[tuple[float, float]]:
        """The clips the fake cuts `start..end` into (absolute times, last one shorter)."""
        if not segment_sec:
            return [(start, end)]
        cuts, at = [], start
        while at < end - 1e-9:
            cuts.append((round(at, 3), round(min(at + segment_sec, end), 3)))
            at += segment_sec
        return cuts

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        try:
            self._answer(req)
        except (BrokenPipeError, ConnectionResetError):  # the client stopped waiting first
            with self.lock:
                self.unheard.append(getattr(req, "fake_answer", "?"))

    def _answer(self, req: BaseHTTPRequestHandler) -> None:
        body = req.rfile.read(int(req.headers.get("content-length", 0)))
        path = req.path.split("?")[0]
        polled = req.command == "GET" and path.startswith("/v1.3/embed-v2/tasks/")
        task_id = path.rsplit("/", 1)[1] if polled and path.count("/") == 4 else None
        posted = req.command == "POST" and path in ("/v1.3/embed-v2", "/v1.3/embed-v2/tasks")
        if not (task_id or posted):
            return self._send(req, 404, {"code": "not_found", "message": f"{req.command} {path}"})
        if req.headers.get("x-api-key") != self.api_key:
            return self._send(req, 401, {"code": "api_key_invalid", "message": "bad API key"})
        if task_id:
            return self._poll(req, task_id)
        is_task = path.endswith("/tasks")
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        input_type = parsed.get("input_type") if isinstance(parsed, dict) else None
        key = (
            f"{'task' if is_task else 'sync'}:{input_type}:{hashlib.sha256(body).hexdigest()[:16]}"
        )
        problem: Refusal | None = None
        plan: Plan | None = None
        try:
            if req.headers.get("content-type", "").split(";")[0] != "application/json":
                raise Refusal("parameter_invalid", "the body must be application/json")
            plan = parse_request(parsed, task=is_task, assets=self.assets, fetch=self._fetch)
        except Refusal as refusal:
            problem = refusal
        fault = self._arrive(req, key, input_type, path, self.faults, problem)
        if problem:
            return self._send(req, 400, {"code": problem.code, "message": problem.message})
        if fault and self._fault(req, fault):
            return None
        assert plan is not None
        if is_task:
            with self.lock:
                task = Task(
                    hashlib.sha256(f"{key}{len(self.tasks)}".encode()).hexdigest()[:24], plan
                )
                self.tasks[task.id] = task
            answer: dict[str, Any] = {"_id": task.id, "status": "processing", "data": None}
            if plan.model == "marengo3.5":
                answer["metadata"] = {"embedding_dimension": plan.dim}
            return self._send(req, 200, answer)
        answer = {"data": [] if self.missing_data else self.entries(plan)}
        if plan.usage is not None:
            answer["usage"] = self._usage(plan)
        return self._send(req, 200, answer)

    def _arrive(
        self,
        req: BaseHTTPRequestHandler,
        key: str,
        input_type: str | None,
        path: str,
        faults: tuple[str, ...],
        problem: Refusal | None,
    ) -> str | None:
        with self.lock:
            attempt = self.attempts[key]
            self.attempts[key] += 1
            fault = faults[attempt] if attempt < len(faults) and not problem else None
            answer = "400" if problem else (fault or "ok")
            req.fake_answer = answer  # type: ignore[attr-defined]
            self.arrivals.append(Arrival(key, time.monotonic(), answer, input_type, path))
            if problem:
                self.violations.append(f"{path} {problem.code}: {problem.message}")
        return fault

    def _fault(self, req: BaseHTTPRequestHandler, fault: str) -> bool:
        """Answer `fault`; True if that was the whole answer ("slow" then answers normally)."""
        if fault == "drop":
            req.connection.shutdown(socket.SHUT_RDWR)
            req.close_connection = True
            return True
        if fault == "slow":
            time.sleep(self.slow_sec)
            return False
        status = int(fault[:3])
        headers = {}
        if fault == "429":
            headers["Retry-After"] = str(self.retry_after_sec)
        elif fault.endswith("-date"):
            headers["Retry-After"] = formatdate(time.time() + self.retry_after_sec + 1, usegmt=True)
        codes = {429: "too_many_requests", 500: "internal_error", 503: "service_unavailable"}
        self._send(req, status, {"code": codes[status], "message": f"fake {fault}"}, headers)
        return True

    def _poll(self, req: BaseHTTPRequestHandler, task_id: str) -> None:
        with self.lock:
            task = self.tasks.get(task_id)
        if task is None:
            self._arrive(req, f"poll:{task_id}", None, req.path, (), None)
            return self._send(
                req, 404, {"code": "resource_not_exists", "message": f"no task {task_id}"}
            )
        fault = self._arrive(
            req, f"poll:{task_id}", task.plan.input_type, req.path, self.poll_faults, None
        )
        if fault and self._fault(req, fault):
            return None
        with self.lock:
            task.polls += 1
            done = task.polls > self.task_polls_until_ready and (
                time.monotonic() - task.created >= self.task_ready_after_sec
            )
        answer: dict[str, Any] = {"_id": task.id, "created_at": task.created_at, "data": None}
        if not done:
            answer["status"] = "processing"
        elif self.failing_task_message is not None:
            answer.update(status="failed", error={"message": self.failing_task_message})
        else:
            answer.update(
                status="ready", data=None if self.missing_data else self.entries(task.plan)
            )
            if task.plan.usage is not None:
                answer["usage"] = self._usage(task.plan)
        answer["updated_at"] = datetime.now(UTC).isoformat()
        return self._send(req, 200, answer)

    def entries(self, plan: Plan) -> list[dict[str, Any]]:
        """The `data[]` a plan's answer holds (see the module docstring for the order)."""
        item, dim = plan.item, plan.dim

        def entry(option: str | None, scope: str | None, s: float | None, e: float | None) -> dict:
            v = self.expected_vector(item.kind, item.content, s, e, option, dim, scope)
            out: dict[str, Any] = {
                "embedding": [*v, 0.0] if self.wrong_dim else v,
                "embedding_option": "smell" if self.unknown_option and option else option,
                "embedding_scope": scope,
            }
            if s is not None:
                out.update(start_sec=s, end_sec=e)
            if plan.uncertainty:
                out["embedding_uncertainty"] = [round(abs(x), 6) for x in v]
            return out

        if item.start is None or item.end is None:
            option, scope = (item.options[0], item.scopes[0]) if item.options else (None, None)
            return [entry(option, scope, None, None)]
        span = (round(item.start, 3), round(item.end, 3))
        options = list(item.options if item.separate else ()) + (["fused"] if item.fused else [])
        out = []
        for option in options:
            for scope in item.scopes:
                cuts = self.segments(*span, item.segment_sec) if scope == "clip" else [span]
                out += [entry(option, scope, s, e) for s, e in cuts]
        return out

    @staticmethod
    def _usage(plan: Plan) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "input_tokens": dict(plan.usage or {}),
            "truncated": plan.truncated,
        }
        if plan.truncated:
            usage["truncation_reason"] = "model_context_window"
        return usage

    @staticmethod
    def _fetch(url: str) -> bytes:
        try:
            response = httpx.get(url, timeout=10, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise Refusal("media_fetch_failed", f"failed to fetch {url}: {exc}") from None
        if response.status_code != 200:
            raise Refusal("media_fetch_failed", f"failed to fetch {url}: {response.status_code}")
        return response.content

    @staticmethod
    def _send(
        req: BaseHTTPRequestHandler,
        status: int,
        body: Mapping[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            req.send_header(name, value)
        req.end_headers()
        req.wfile.write(data)
