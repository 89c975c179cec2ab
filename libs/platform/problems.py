"""RFC 9457 problem details: every error the API returns has this one shape.

Domain errors are typed; each service maps its types to a status once, here.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

log = logging.getLogger(__name__)
PROBLEM_BASE = "https://cloudbill.dev/problems/"


class Problem(Exception):
    """An error with an HTTP status, a stable type slug and an explanation."""

    def __init__(self, status: int, slug: str, title: str, detail: str = "", errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail or title)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.errors = errors or []
        self.headers = headers or {}


def problem_response(status: int, slug: str, title: str, detail: str = "", instance: str = "", errors: list | None = None, headers: dict | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        out.append({"field": ".".join(loc) or "body", "message": err.get("msg", ""), "code": err.get("type", "")})
    return out


def install_problem_handlers(app: FastAPI, mapping: dict[type[Exception], Callable[[Exception], Problem]] | None = None) -> None:
    mapping = mapping or {}

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(exc.status, exc.slug, exc.title, exc.detail, request.url.path, exc.errors, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = _validation_errors(exc)
        if any(e["code"] == "json_invalid" for e in errors):
            return problem_response(400, "malformed-json", "Malformed JSON", "the body is not valid JSON", request.url.path, errors)
        return problem_response(422, "validation-error", "Invalid request", "the request does not match the schema", request.url.path, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        slug = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized"}.get(exc.status_code, "http-error")
        return problem_response(exc.status_code, slug, str(exc.detail), "", request.url.path, headers=getattr(exc, "headers", None))

    for exc_type, to_problem in mapping.items():
        def _make(convert):
            async def _handler(request: Request, exc: Exception):
                p = convert(exc)
                return problem_response(p.status, p.slug, p.title, p.detail, request.url.path, p.errors, p.headers)
            return _handler
        app.add_exception_handler(exc_type, _make(to_problem))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        return problem_response(500, "internal-error", "Internal error", "the error was logged", request.url.path)


def not_found(what: str, ident: str) -> Problem:
    return Problem(404, "not-found", f"{what} not found", f"no {what} {ident!r} in this tenant")


class BodyLimitMiddleware:
    """Refuse bodies over the limit before they are read into memory (413), and invalid UTF-8 JSON (400)."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "DELETE", "OPTIONS"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._too_large(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await self._too_large(scope, receive, send)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope, receive, send):
        response = problem_response(413, "body-too-large", "Request body too large", f"the limit is {self.max_bytes} bytes")
        await response(scope, receive, send)


def json_dumps(data: Any) -> str:
    return json.dumps(data, default=str)
