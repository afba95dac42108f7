"""The token gate of `vtembed ui`: with `VTEMBED_UI_TOKEN` set, every request carries it.

A browser brings it once in the address (`/?token=...`): the answer sets it as a cookie
(HttpOnly, SameSite=Strict) and redirects to the same address without it, so it stays out of
bookmarks, history and the `Referer` of the media requests. Scripts send it as
`Authorization: Bearer ...` or `x-ui-token: ...`. Every comparison is `hmac.compare_digest`, so
how long a refusal takes says nothing about the token. Without a token the command listens on
a loopback address only, and the gate lets through requests addressed to a loopback name.
"""

from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_ENV = "VTEMBED_UI_TOKEN"
COOKIE = "vtembed_ui_token"


class TokenGate:
    """Pure ASGI middleware (no request body is read), so media streams pass through as is."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.token is None:
            if loopback_name(headers.get("host", "")):
                await self.app(scope, receive, send)
            else:
                await _foreign_host()(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = [value for key, value in query if key == "token"]
        if given:
            response = self._from_address(scope, query, given[-1])
        elif any(self._equal(candidate) for candidate in _carried(headers)):
            await self.app(scope, receive, send)
            return
        else:
            response = _refused()
        await response(scope, receive, send)

    def _equal(self, candidate: str) -> bool:
        assert self.token is not None
        return hmac.compare_digest(candidate.encode(), self.token)

    def _from_address(self, scope: Scope, query: list[tuple[str, str]], given: str) -> Response:
        if not self._equal(given):
            return _refused()
        rest = urlencode([(k, v) for k, v in query if k != "token"])
        location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
        response = RedirectResponse(location, status_code=303)
        response.set_cookie(COOKIE, given, httponly=True, samesite="strict", path="/")
        return response


def _carried(headers: Headers) -> list[str]:
    """Every place a request may carry the token: the bearer header, x-ui-token, the cookie."""
    found = []
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        found.append(credentials.strip())
    if headers.get("x-ui-token"):
        found.append(headers["x-ui-token"])
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header carries no token
        cookies = SimpleCookie()
    if COOKIE in cookies:
        found.append(cookies[COOKIE].value)
    return found


def loopback_name(host_header: str) -> bool:
    """Whether a `Host` header names this machine (`127.0.0.1`, `localhost`, `[::1]`, with
    any port). Without a token the page answers only to those names: a web page elsewhere
    that rebinds its own host name to 127.0.0.1 (DNS rebinding) would otherwise read it."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0] == "::1"
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name == "localhost" or name == "::1" or name.startswith("127.")


def _foreign_host() -> Response:
    return PlainTextResponse(
        f"421: without {TOKEN_ENV} this vtembed ui answers only to 127.0.0.1 or localhost\n",
        status_code=421,
    )


def _refused() -> Response:
    return PlainTextResponse(
        f"401: this vtembed ui needs its token: open /?token=... once (the value of {TOKEN_ENV}), "
        "or send Authorization: Bearer ... or x-ui-token: ...\n",
        status_code=401,
        headers={"www-authenticate": "Bearer"},
    )
