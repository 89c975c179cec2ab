"""HTTP clients from the edge to the factories: httpx's interface over aiohttp's HTTP/1.1, and a leaner forwarder.

Every forwarded call (a device's authorization, a clerk's request, the usage path's subscription lookup) crosses
these clients. httpx's own HTTP/1.1 stack is pure Python; on a two-core machine it cost the edge about 1.5 ms of CPU
per forwarded call, aiohttp's C parser about a third of that (bench.prepaid_bench, edge share of an authorization).
The callers that read answers keep httpx's API and exceptions (`httpx-aiohttp` maps aiohttp's errors to
httpx.TransportError). The proxy, which only passes requests and answers through, sends over aiohttp directly
(`AiohttpForwarder`): httpx's request and response objects, URL merging and cookie extraction were still about a
sixth of the edge's CPU per forwarded authorization (py-spy). In-process transports (embedded mode, tests) are used
as given, through `HttpxForwarder`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol, Sequence

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


def factory_client(base_url: str, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 30.0) -> httpx.AsyncClient:
    """A client for one factory; the aiohttp session opens on the first call, inside the running event loop."""
    return httpx.AsyncClient(base_url=base_url, transport=transport or AiohttpTransport(), timeout=timeout)


class FactoryUnreachable(Exception):
    """No answer from the factory (refused, reset, timed out): the proxy answers 503."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Sequence[tuple[str, str]]
    body: bytes


class Forwarder(Protocol):
    async def send(self, method: str, path: str, params: Sequence[tuple[str, str]], body: bytes, headers: dict[str, str]) -> Answer: ...

    async def aclose(self) -> None: ...


class AiohttpForwarder:
    """One factory over kept-alive aiohttp connections; the session opens on the first call, inside the running loop.
    No cookie jar (the edge is no browser: a factory's Set-Cookie must not reach the next tenant's call) and no
    compression asked for (the answer's bytes are passed through as they are)."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        self._base_url, self._timeout = base_url.rstrip("/"), aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def send(self, method, path, params, body, headers) -> Answer:
        if self._session is None:
            self._session = aiohttp.ClientSession(self._base_url, timeout=self._timeout, cookie_jar=aiohttp.DummyCookieJar(),
                                                  skip_auto_headers=("Accept-Encoding", "User-Agent"), auto_decompress=False)
        try:
            async with self._session.request(method, path, params=list(params), data=body or None, headers=headers) as response:
                return Answer(response.status, list(response.headers.items()), await response.read())
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise FactoryUnreachable(type(exc).__name__) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class HttpxForwarder:
    """The same over an httpx client (the embedded platform's in-process transports)."""

    def __init__(self, client: httpx.AsyncClient):
        self._client = client

    async def send(self, method, path, params, body, headers) -> Answer:
        try:
            response = await self._client.request(method, path, params=list(params), content=body, headers=headers)
        except httpx.TransportError as exc:
            raise FactoryUnreachable(type(exc).__name__) from None
        return Answer(response.status_code, list(response.headers.items()), response.content)

    async def aclose(self) -> None:
        pass  # the client is closed by its owner
