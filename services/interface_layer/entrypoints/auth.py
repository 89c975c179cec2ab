"""Resolving the caller: API key -> tenant, optionally acting for a sub-tenant."""

from __future__ import annotations

import hmac

from fastapi import Header, Request

from libs.platform.problems import Problem
from services.interface_layer.app.tenancy import NotAuthenticated, Tenancy, Tenant, UnknownTenant

ACT_AS_HEADER = "Cloudbill-Tenant"


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def authenticate(request: Request, tenancy: Tenancy) -> Tenant:
    token = _token(request)
    if not token:
        raise Problem(401, "unauthorized", "Missing API key", "send 'Authorization: Bearer <key>'", headers={"WWW-Authenticate": "Bearer"})
    try:
        tenant = tenancy.authenticate(token)
    except NotAuthenticated as exc:
        raise Problem(401, "unauthorized", "Invalid API key", str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
    try:
        return tenancy.acting_tenant(tenant, request.headers.get(ACT_AS_HEADER))
    except UnknownTenant:
        raise Problem(404, "not-found", "Tenant not found", "no such sub-tenant of this API key's tenant") from None


def require_admin(expected: str, token: str | None) -> None:
    if not token or not hmac.compare_digest(token, expected):
        raise Problem(401, "unauthorized", "Admin token required", "creating top-level tenants needs the admin token")


def admin_header(x_cloudbill_admin_token: str | None = Header(default=None)) -> str | None:
    return x_cloudbill_admin_token
