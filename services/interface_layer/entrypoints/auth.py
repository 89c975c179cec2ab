"""Resolving the caller: API key -> tenant, optionally acting for a sub-tenant."""

from __future__ import annotations

import hmac

from fastapi import Header, Request
from starlette.concurrency import run_in_threadpool

from libs.platform.problems import Problem
from services.interface_layer.app.tenancy import NotAuthenticated, Tenancy, Tenant, UnknownTenant

ACT_AS_HEADER = "Cloudbill-Tenant"


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def _required_token(request: Request) -> str:
    token = _token(request)
    if not token:
        raise Problem(401, "unauthorized", "Missing API key", "send 'Authorization: Bearer <key>'", headers={"WWW-Authenticate": "Bearer"})
    return token


def _refused(exc: NotAuthenticated) -> Problem:
    return Problem(401, "unauthorized", "Invalid API key", str(exc), headers={"WWW-Authenticate": "Bearer"})


def authenticate(request: Request, tenancy: Tenancy) -> Tenant:
    """The calling tenant; may query the database (sync routes and dependencies, which run in the thread pool)."""
    token = _required_token(request)
    try:
        tenant = tenancy.authenticate(token)
    except NotAuthenticated as exc:
        raise _refused(exc) from None
    try:
        return tenancy.acting_tenant(tenant, request.headers.get(ACT_AS_HEADER))
    except UnknownTenant:
        raise Problem(404, "not-found", "Tenant not found", "no such sub-tenant of this API key's tenant") from None


async def authenticate_async(request: Request, tenancy: Tenancy) -> Tenant:
    """`authenticate` for async routes: answered from the key cache on the event loop when it can be (no I/O),
    otherwise (a key not cached, acting for a sub-tenant) in the thread pool, so the event loop never waits for the database."""
    token = _required_token(request)
    try:
        tenant = tenancy.authenticate_cached(token)
    except NotAuthenticated as exc:
        raise _refused(exc) from None
    acting = request.headers.get(ACT_AS_HEADER)
    if tenant is not None and (not acting or acting == tenant.id):
        return tenant
    return await run_in_threadpool(authenticate, request, tenancy)


def require_admin(expected: str, token: str | None) -> None:
    if not token or not hmac.compare_digest(token, expected):
        raise Problem(401, "unauthorized", "Admin token required", "creating top-level tenants needs the admin token")


def admin_header(x_cloudbill_admin_token: str | None = Header(default=None)) -> str | None:
    return x_cloudbill_admin_token
