"""HTTP clients from the edge to the factories: httpx's interface, aiohttp's HTTP/1.1 underneath.

Every forwarded call (a device's authorization, a clerk's request, the usage path's subscription lookup) crosses
this client. httpx's own HTTP/1.1 stack is pure Python; on a two-core machine it cost the edge about 1.5 ms of CPU
per forwarded call, aiohttp's C parser about a third of that (bench.prepaid_bench, edge share of an authorization).
The callers keep httpx's API and exceptions (`httpx-aiohttp` maps aiohttp's errors to httpx.TransportError, which
the proxy answers with 503). In-process transports (embedded mode, tests) are used as given.
"""

from __future__ import annotations

import httpx
from httpx_aiohttp import AiohttpTransport


def factory_client(base_url: str, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 30.0) -> httpx.AsyncClient:
    """A client for one factory; the aiohttp session opens on the first call, inside the running event loop."""
    return httpx.AsyncClient(base_url=base_url, transport=transport or AiohttpTransport(), timeout=timeout)
