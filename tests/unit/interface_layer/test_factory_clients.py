"""The edge's forwarders (aiohttp directly; httpx's API over aiohttp) against a real HTTP server on localhost, through `proxy.forward`."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from starlette.requests import Request

from libs.platform.problems import Problem
from services.interface_layer.adapters.factory_clients import AiohttpForwarder, HttpxForwarder, factory_client
from services.interface_layer.entrypoints.proxy import forward


class Echo(BaseHTTPRequestHandler):
    """Answers 201 with what it received; counts the connections it was opened on."""

    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn serves the factories
    connections: set[int] = set()

    def do_POST(self) -> None:
        Echo.connections.add(id(self.connection))
        body = self.rfile.read(int(self.headers["content-length"]))
        answer = json.dumps({"path": self.path, "body": body.decode(), "tenant": self.headers.get("x-cloudbill-tenant"),
                             "token": self.headers.get("x-cloudbill-internal-token"), "key": self.headers.get("idempotency-key"),
                             "cookie": self.headers.get("cookie")}).encode()
        self.send_response(201)
        self.send_header("content-type", "application/json")
        self.send_header("location", "/v1/wallets/c1/authorizations/a1")
        self.send_header("x-internal", "not for the caller")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def factory():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Echo.connections = set()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


FORWARDERS = {"aiohttp": AiohttpForwarder, "httpx": lambda url: HttpxForwarder(factory_client(url))}


async def closed(forwarder) -> None:
    await forwarder.aclose()
    client = getattr(forwarder, "_client", None)
    if client is not None:
        await client.aclose()


def edge_request(path: str, body: bytes, headers: dict[str, str]) -> Request:
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"ttl=5", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()], "scheme": "http", "server": ("127.0.0.1", 1)}
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


@pytest.mark.parametrize("kind", FORWARDERS)
def test_forward_passes_body_tenant_and_allowed_headers_both_ways_over_one_kept_alive_connection(factory, kind):
    async def run():
        forwarder = FORWARDERS[kind](factory)
        try:
            answers = []
            for i in range(3):
                request = edge_request("/v1/wallets/c1/authorizations", b'{"amount": "0.01"}',
                                       {"content-type": "application/json", "idempotency-key": f"k{i}", "cookie": "session=secret"})
                answers.append(await forward(request, forwarder, "wallets/c1/authorizations", "tenant-1", "internal-token"))
            return answers
        finally:
            await closed(forwarder)

    answers = asyncio.run(run())
    assert [a.status_code for a in answers] == [201, 201, 201]
    seen = json.loads(answers[2].body)
    assert seen == {"path": "/v1/wallets/c1/authorizations?ttl=5", "body": '{"amount": "0.01"}', "tenant": "tenant-1",
                    "token": "internal-token", "key": "k2", "cookie": None}  # the caller's cookie is not forwarded
    assert answers[0].headers["location"] == "/v1/wallets/c1/authorizations/a1"
    assert "x-internal" not in answers[0].headers
    assert len(Echo.connections) == 1  # later calls reuse the first connection


@pytest.mark.parametrize("kind", FORWARDERS)
def test_a_factory_that_does_not_answer_is_a_503_with_retry_after(kind):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def run():
        forwarder = FORWARDERS[kind](f"http://127.0.0.1:{port}")
        try:
            await forward(edge_request("/v1/customers", b"{}", {"content-type": "application/json"}), forwarder, "customers", "t", "x")
        finally:
            await closed(forwarder)

    with pytest.raises(Problem) as problem:
        asyncio.run(run())
    assert (problem.value.status, problem.value.slug, problem.value.headers) == (503, "service-unavailable", {"Retry-After": "5"})
