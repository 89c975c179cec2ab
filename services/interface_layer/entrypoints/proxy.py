"""The edge forwards authenticated calls to the factory that owns the resource.

The factories trust only the edge: it adds the tenant and the internal token.
Which factory owns which path is this one table.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from libs.platform.problems import Problem
from libs.platform.web import INTERNAL_TOKEN_HEADER, TENANT_HEADER
from services.interface_layer.adapters.factory_clients import FactoryUnreachable, Forwarder

OWNERS = {
    "customers": "billing", "metrics": "billing", "plans": "billing", "subscriptions": "billing",
    "billing-runs": "billing", "previews": "billing", "coupons": "billing", "orders": "billing", "products": "billing", "budgets": "billing", "usage-summary": "billing",
    "partners": "billing", "share-rules": "billing", "revenue-shares": "billing",
    "invoices": "invoice", "documents": "invoice", "invoice-settings": "invoice", "archive": "invoice", "credit-notes": "invoice",
    "invoice-runs": "invoice", "self-billing-statements": "invoice",
    "payments": "payment", "accounts": "payment", "ledger": "payment", "mandates": "payment", "refunds": "payment", "wallets": "payment",
    "authorizations": "payment",
    "revenue-sharing": "payment", "partner-fees": "payment", "partner-statements": "payment", "partner-payouts": "payment",
    "partner-accounts": "payment", "partner-settlements": "payment",
}
PUBLIC_PATHS = ("archive/blobs",)  # signed URLs carry their own authorization
FORWARDED_HEADERS = ("content-type", "accept", "idempotency-key", "accept-language")
PASSED_BACK = ("content-type", "content-disposition", "location", "retry-after", "etag")


def owner_of(path: str) -> str | None:
    return OWNERS.get(path.split("/", 1)[0])


async def forward(request: Request, forwarder: Forwarder, path: str, tenant_id: str | None, internal_token: str,
                  params: list[tuple[str, str]] | None = None) -> Response:
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_HEADERS}
    headers[INTERNAL_TOKEN_HEADER] = internal_token
    if tenant_id:
        headers[TENANT_HEADER] = tenant_id
    try:
        answer = await forwarder.send(request.method, f"/v1/{path}", request.query_params.multi_items() if params is None else params,
                                      await request.body(), headers)
    except FactoryUnreachable as exc:
        raise Problem(503, "service-unavailable", "Service unavailable", str(exc), headers={"Retry-After": "5"}) from None
    passthrough = {k: v for k, v in answer.headers if k.lower() in PASSED_BACK}
    return Response(answer.body, status_code=answer.status, headers=passthrough)
