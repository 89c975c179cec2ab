"""What a partner's API key may read: its own statements, their 389 documents and its payable account, nothing else.

A tenant issues such a key to a partner (provider, reseller, operator) so the
partner's ERP can fetch its self-billing statements and see its payouts
without seeing the tenant's customers or other partners. The scope is
enforced here at the edge; the factories keep trusting the edge as before.
Another partner's statement or document answers 404, like a foreign id.
"""

from __future__ import annotations

import json
import re

import httpx
from fastapi import Request
from starlette.responses import Response

from libs.platform.problems import Problem
from libs.platform.web import INTERNAL_TOKEN_HEADER, TENANT_HEADER
from services.interface_layer.adapters.factory_clients import Forwarder
from services.interface_layer.app.tenancy import Tenant
from services.interface_layer.entrypoints.proxy import forward

READABLE = re.compile(r"^(partner-statements(/[^/]+)?|partner-accounts/[^/]+|invoices/[^/]+(/pdf|/xml)?)$")


def forbidden() -> Problem:
    return Problem(403, "forbidden", "Not allowed for a partner's key",
                   "a partner's API key reads only its statements, their documents and its payable account")


def _not_found(path: str) -> Problem:
    return Problem(404, "not-found", "Not found", f"no resource /v1/{path} for this partner")


async def internal_get(client: httpx.AsyncClient, path: str, tenant_id: str, token: str) -> httpx.Response:
    try:
        return await client.get(path, headers={INTERNAL_TOKEN_HEADER: token, TENANT_HEADER: tenant_id})
    except httpx.TransportError as exc:
        raise Problem(503, "service-unavailable", "Service unavailable", type(exc).__name__, headers={"Retry-After": "5"}) from None


async def partner_view(request: Request, path: str, who: Tenant, clients: dict[str, httpx.AsyncClient], forwarders: dict[str, Forwarder],
                       token: str) -> Response:
    if request.method != "GET" or not READABLE.match(path):
        raise forbidden()
    parts, own = path.split("/"), who.partner_id
    if parts[0] == "partner-accounts":
        if parts[1] != own:
            raise _not_found(path)
        return await forward(request, forwarders["payment"], path, who.id, token)
    if parts[0] == "partner-statements":
        if len(parts) == 1:
            params = [(k, v) for k, v in request.query_params.multi_items() if k != "partner_id"] + [("partner_id", own)]
            return await forward(request, forwarders["payment"], path, who.id, token, params)
        response = await forward(request, forwarders["payment"], path, who.id, token)
        if response.status_code == 200 and json.loads(response.body).get("partner_id") != own:
            raise _not_found(path)
        return response
    invoice = await internal_get(clients["invoice"], f"/v1/invoices/{parts[1]}", who.id, token)
    document = invoice.json() if invoice.status_code == 200 else {}
    if document.get("customer_id") != own or document.get("type_code") != "389":
        raise _not_found(path)  # only the partner's own self-billing statements
    return await forward(request, forwarders["invoice"], path, who.id, token)
