"""Pieces every service's FastAPI app shares: health, readiness, the internal tenant header."""

from __future__ import annotations

import hmac
from typing import Callable

from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi.exceptions import RequestValidationError
from starlette.responses import JSONResponse

from libs.platform.problems import BodyLimitMiddleware, Problem, install_problem_handlers

TENANT_HEADER = "X-Cloudbill-Tenant"
INTERNAL_TOKEN_HEADER = "X-Cloudbill-Internal-Token"


def invalid_body(errors: list[dict]) -> RequestValidationError:
    """The 422 problem for a body a route validated itself from the bytes (pydantic's core, one pass, no json.loads
    first): pydantic's errors located under `body`, as FastAPI locates the errors of a body it validated."""
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors])


def health_router(checks: dict[str, Callable[[], None]]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Liveness: the process answers")
    def health() -> dict:
        return {"status": "ok"}

    @router.get("/ready", summary="Readiness: every dependency answers")
    def ready():
        results = {}
        for name, check in checks.items():
            try:
                check()
                results[name] = "ok"
            except Exception as exc:  # readiness reports any failure as "not ready"
                results[name] = f"down: {type(exc).__name__}"
        ok = all(v == "ok" for v in results.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": results}, status_code=200 if ok else 503, headers=None if ok else {"Retry-After": "5"})

    return router


def tenant_dependency(internal_token: str):
    """Factories trust the edge: it authenticated the API key and names the tenant in a header.

    An async dependency, because it only compares headers: FastAPI runs a plain `def` dependency in its thread pool,
    which cost every factory request one more thread hop (about a millisecond on a busy two-core machine).
    """

    async def current_tenant(
        x_cloudbill_tenant: str | None = Header(default=None, include_in_schema=False),
        x_cloudbill_internal_token: str | None = Header(default=None, include_in_schema=False),
    ) -> str:
        if not x_cloudbill_internal_token or not hmac.compare_digest(x_cloudbill_internal_token, internal_token):
            raise Problem(401, "unauthorized", "Unauthorized", "call the factories through the interface layer")
        if not x_cloudbill_tenant:
            raise Problem(401, "unauthorized", "Unauthorized", "no tenant")
        return x_cloudbill_tenant

    return Depends(current_tenant)


def make_service_app(container, title: str, description: str, router: APIRouter, mapping=None, body_slack: int = 0) -> FastAPI:
    """A service's app: problem handlers, body limit, health and readiness, its routes, its container's lifespan."""
    app = FastAPI(title=title, version="0.1.0", description=description, lifespan=container.lifespan)
    install_problem_handlers(app, mapping)
    app.add_middleware(BodyLimitMiddleware, max_bytes=container.settings.max_body_bytes + body_slack)
    app.include_router(health_router(container.readiness_checks()))
    app.include_router(router)
    return app
