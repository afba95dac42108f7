"""How the TwelveLabs embedder treats HTTP answers: which failures are worth another attempt,
and how long the server asks to be left alone (`Retry-After`, in seconds or as an HTTP date)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState
from tenacity.wait import wait_random_exponential

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class Transient(Exception):
    """A failure worth retrying; `retry_after` is the server's own minimum wait, if it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def wait_respecting_retry_after(longest: float) -> Callable[[RetryCallState], float]:
    backoff = wait_random_exponential(multiplier=0.5, max=longest)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        floor = exc.retry_after if isinstance(exc, Transient) and exc.retry_after else 0.0
        return max(floor, backoff(state))

    return wait


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a `Retry-After` header: a number of seconds or an HTTP date
    (measured against the server's `Date` when it sent one, so clock skew does not matter)."""
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        when = _http_date(raw)
    if when is None:
        return None
    now = _http_date(response.headers.get("date", "")) or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
