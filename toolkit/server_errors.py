"""Errors `vtembed serve` answers the way TwelveLabs does, and its size limits."""

from __future__ import annotations

from starlette.exceptions import HTTPException


class ApiError(HTTPException):
    """An error answered the way TwelveLabs answers: the status and JSON `{code, message}`.

    An HTTPException, so FastAPI passes it through even when it is raised while the request
    body is still being read (the size limit)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status_code=status, detail=message)
        self.code = code
        self.message = message


def too_large(what: str, limit_mb: float) -> ApiError:
    return ApiError(
        413, "content_too_large", f"{what} is larger than this server's limit of {limit_mb:g} MB"
    )


def mb_to_bytes(limit_mb: float) -> int:
    return int(limit_mb * 1024 * 1024)
