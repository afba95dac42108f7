"""What `vtembed serve` fetches when a request links media (`audio_url`, `image_url`): nothing,
unless `[serve] fetch_urls` allows it, and then only http(s) on public addresses unless
`fetch_private_urls` allows loopback, private and link-local ones too.

A server that fetches what any client names can be made to read the machine's own services or
the local network (server-side request forgery). The address check runs on every request the
client makes, redirects included, after the host name is resolved; a name that resolves to any
refused address is refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from vtembed.server_errors import ApiError, mb_to_bytes, too_large
from vtembed.settings import ServeSettings

_CHUNK = 1 << 16
_TIMEOUT_SEC = 30.0


def refuse_unless_fetching(label: str, serve: ServeSettings) -> None:
    """A linked-media field on a server that fetches nothing: the client's 400, saying how."""
    if not serve.fetch_urls:
        raise ApiError(
            400,
            "parameter_not_supported",
            f"{label} is off on this server, which fetches nothing by default: upload the file "
            "instead, or start it with fetch_urls = true under [serve] in the config "
            "(VTEMBED_SERVE__FETCH_URLS=true)",
        )


async def download(url: str, dest: Path, limit_mb: float, label: str, serve: ServeSettings) -> None:
    """Fetch a URL field under the same limit as an upload; any failure is the client's 400,
    naming the field and the URL (the client may have sent several)."""
    refuse_unless_fetching(label, serve)
    _check_scheme(url, label)

    async def check_address(request: httpx.Request) -> None:
        _check_scheme(str(request.url), label)
        if not serve.fetch_private_urls:
            await _refuse_private(request.url.host, label, url)

    limit = mb_to_bytes(limit_mb)
    try:
        async with (
            httpx.AsyncClient(
                follow_redirects=True,
                timeout=_TIMEOUT_SEC,
                event_hooks={"request": [check_address]},
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise ApiError(
                    400, "parameter_invalid", f"{label} {url} answered HTTP {response.status_code}"
                )
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                raise too_large(f"{label} {url}", limit_mb)
            written = 0
            with dest.open("wb") as out:
                async for chunk in response.aiter_bytes(_CHUNK):
                    written += len(chunk)
                    if written > limit:
                        raise too_large(f"{label} {url}", limit_mb)
                    out.write(chunk)
    except httpx.HTTPError as exc:
        problem = f"{label} {url} cannot be fetched: {exc}"
        raise ApiError(400, "parameter_invalid", problem) from None


def _check_scheme(url: str, label: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApiError(
            400, "parameter_invalid", f"{label} must be an http:// or https:// URL, not {url!r}"
        )


async def _refuse_private(host: str, label: str, url: str) -> None:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        problem = f"{label} {url}: {host} does not resolve"
        raise ApiError(400, "parameter_invalid", problem) from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise ApiError(
                400,
                "parameter_invalid",
                f"{label} {url}: {host} is a loopback, private or reserved address ({address}), "
                "which this server does not fetch (fetch_private_urls = true under [serve] "
                "allows it)",
            )
