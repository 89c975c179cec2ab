"""The public REST API: tenants, API keys, usage; everything else forwarded to its factory."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from libs.platform.problems import Problem
from libs.platform.web import invalid_body, make_service_app
from services.interface_layer.app import webhooks
from services.interface_layer.app.ingest_usage import UsageIn, UsageRejected
from services.interface_layer.app.tenancy import Tenant
from services.interface_layer.entrypoints import schemas
from services.interface_layer.entrypoints.auth import admin_header, authenticate, authenticate_async, require_admin
from services.interface_layer.entrypoints.partner_access import forbidden, internal_get, partner_view
from services.interface_layer.entrypoints.proxy import PUBLIC_PATHS, forward, owner_of


def build_router(container) -> APIRouter:
    router = APIRouter()
    tenancy = container.tenancy

    def caller(request: Request) -> Tenant:
        """The tenant calling; a partner's key is refused here, it only reads through `partner_view`."""
        who = authenticate(request, tenancy)
        if who.partner_id:
            raise forbidden()
        return who

    @router.post("/v1/tenants", status_code=201, response_model=schemas.TenantCreatedOut, tags=["tenants"],
                 summary="Create a tenant (admin token) or a sub-tenant of the caller (API key)")
    def create_tenant(body: schemas.TenantIn, request: Request, admin_token: str | None = Depends(admin_header)):
        if admin_token is not None:
            require_admin(container.settings.admin_token, admin_token)
            created = tenancy.create_tenant(body.name)
        else:
            parent = caller(request)
            created = tenancy.create_tenant(body.name, parent_id=parent.id)
        container.audit(created.tenant.id, "tenant.created", {"name": body.name, "parent_id": created.tenant.parent_id})
        return schemas.TenantCreatedOut(id=created.tenant.id, name=created.tenant.name, parent_id=created.tenant.parent_id, api_key=created.api_key)

    @router.get("/v1/tenants/me", response_model=schemas.TenantOut, tags=["tenants"])
    def me(tenant: Tenant = Depends(caller)):
        return schemas.TenantOut(id=tenant.id, name=tenant.name, parent_id=tenant.parent_id)

    @router.get("/v1/tenants", response_model=list[schemas.TenantOut], tags=["tenants"], summary="The caller's sub-tenants")
    def children(tenant: Tenant = Depends(caller)):
        return [schemas.TenantOut(id=t.id, name=t.name, parent_id=t.parent_id) for t in tenancy.children(tenant.id)]

    @router.post("/v1/api-keys", status_code=201, response_model=schemas.ApiKeyCreatedOut, tags=["api keys"])
    async def create_key(body: schemas.ApiKeyIn, tenant: Tenant = Depends(caller)):
        if body.partner_id is not None:
            found = await internal_get(container.clients["billing"], f"/v1/partners/{body.partner_id}", tenant.id, container.settings.internal_token)
            if found.status_code != 200:
                raise Problem(422, "validation-error", "Invalid request", f"no partner {body.partner_id!r} in this tenant",
                              errors=[{"field": "partner_id", "message": "unknown partner"}])
            body = body.model_copy(update={"partner_id": found.json()["id"]})
        key_id, token = await run_in_threadpool(tenancy.create_key, tenant.id, body.name, body.partner_id)
        container.audit(tenant.id, "api_key.created", {"key_id": key_id, "name": body.name, "partner_id": body.partner_id})
        return schemas.ApiKeyCreatedOut(id=key_id, api_key=token)

    @router.get("/v1/api-keys", response_model=list[schemas.ApiKeyOut], tags=["api keys"])
    def list_keys(tenant: Tenant = Depends(caller)):
        return tenancy.list_keys(tenant.id)

    @router.delete("/v1/api-keys/{key_id}", status_code=204, tags=["api keys"])
    def revoke_key(key_id: str, tenant: Tenant = Depends(caller)):
        if not tenancy.revoke_key(tenant.id, key_id):
            raise Problem(404, "not-found", "API key not found", f"no active key {key_id!r} in this tenant")
        container.audit(tenant.id, "api_key.revoked", {"key_id": key_id})
        return Response(status_code=204)

    @router.post("/v1/webhook-endpoints", status_code=201, response_model=schemas.WebhookEndpointCreatedOut, tags=["webhooks"],
                 summary="Register an endpoint for signed event webhooks; the signing secret is shown once")
    def create_webhook(body: schemas.WebhookEndpointIn, tenant: Tenant = Depends(caller)):
        endpoint = webhooks.register(container.engine, tenant.id, body.url, body.event_types)
        container.audit(tenant.id, "webhook_endpoint.created", {"id": endpoint["id"], "url": body.url, "event_types": body.event_types})
        return endpoint

    @router.get("/v1/webhook-endpoints", response_model=list[schemas.WebhookEndpointOut], tags=["webhooks"])
    def list_webhooks(tenant: Tenant = Depends(caller)):
        return webhooks.endpoints(container.engine, tenant.id)

    @router.delete("/v1/webhook-endpoints/{endpoint_id}", status_code=204, tags=["webhooks"],
                   summary="Stop sending to an endpoint (pending deliveries are not sent)")
    def delete_webhook(endpoint_id: str, tenant: Tenant = Depends(caller)):
        if not webhooks.deactivate(container.engine, tenant.id, endpoint_id):
            raise Problem(404, "not-found", "Webhook endpoint not found", f"no active endpoint {endpoint_id!r} in this tenant")
        container.audit(tenant.id, "webhook_endpoint.deleted", {"id": endpoint_id})
        return Response(status_code=204)

    @router.get("/v1/webhook-endpoints/{endpoint_id}/deliveries", response_model=list[schemas.WebhookDeliveryOut], tags=["webhooks"],
                summary="Deliveries to an endpoint, newest first, with attempts and the last error")
    def webhook_deliveries(endpoint_id: str, tenant: Tenant = Depends(caller)):
        if not any(e["id"] == endpoint_id for e in webhooks.endpoints(container.engine, tenant.id)):
            raise Problem(404, "not-found", "Webhook endpoint not found", f"no active endpoint {endpoint_id!r} in this tenant")
        return webhooks.deliveries(container.engine, tenant.id, endpoint_id)

    async def usage_caller(request: Request) -> Tenant:
        """`caller` for the usage routes, which must not wait for the database on the event loop."""
        who = await authenticate_async(request, tenancy)
        if who.partner_id:
            raise forbidden()
        return who

    async def _ingest(tenant: Tenant, usages: list[UsageIn]) -> JSONResponse:
        ids = [u.event_id for u in usages]
        if len(set(ids)) != len(ids):
            raise Problem(422, "validation-error", "Duplicate event ids in one batch", "each event_id may appear once per batch")
        try:
            accepted = await container.ingest.ingest_batch(tenant.id, usages)
        except UsageRejected as exc:
            errors = [{"index": p.index, "field": p.field, "message": p.message} for p in exc.problems]
            if all(p.field == "event_id" for p in exc.problems):
                raise Problem(409, "conflicting-duplicate", "Event id reused with another payload",
                              "no event of this request was accepted", errors) from None
            raise Problem(422, "invalid-usage", "Usage rejected", "no event of this request was accepted", errors) from None
        return JSONResponse({"accepted": accepted}, status_code=202)

    @router.post("/v1/usage", status_code=202, response_model=schemas.UsageAcceptedOut, tags=["usage"],
                 summary="Send one usage event; 202 means durably accepted")
    async def usage_one(body: schemas.UsageEventIn, request: Request):
        return await _ingest(await usage_caller(request), [UsageIn(body.event_id, body.customer, body.metric, body.timestamp,
                                                                   body.properties, body.subscription)])

    @router.post("/v1/usage/batch", status_code=202, response_model=schemas.UsageAcceptedOut, tags=["usage"],
                 summary="Send up to 1,000 usage events (1 MiB); all or nothing", openapi_extra=schemas.USAGE_BATCH_BODY)
    async def usage_batch(request: Request):
        # parsed and validated in one pass by pydantic's core from the raw bytes (FastAPI would json.loads first,
        # then validate the Python objects: twice the work on the busiest route), into dicts rather than models
        who = await usage_caller(request)
        try:
            body = schemas.USAGE_BATCH_ROWS.validate_json(await request.body())
        except ValidationError as exc:
            raise invalid_body(schemas.batch_errors(exc)) from None
        return await _ingest(who, [UsageIn.of_row(e) for e in body["events"]])

    @router.api_route("/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def forwarded(path: str, request: Request):
        owner = owner_of(path)
        if owner is None:
            raise Problem(404, "not-found", "Not found", f"no resource /v1/{path}")
        tenant_id = None
        if not path.startswith(PUBLIC_PATHS):
            who = await authenticate_async(request, tenancy)
            if who.partner_id:
                return await partner_view(request, path, who, container.clients, container.forwarders, container.settings.internal_token)
            tenant_id = who.id
        forwarding = forward(request, container.forwarders[owner], path, tenant_id, container.settings.internal_token)
        if request.method != "GET" and tenant_id:
            try:
                return await container.audited(tenant_id, "request", {"method": request.method, "path": f"/v1/{path}"}, forwarding)
            finally:
                if owner == "billing":  # subscriptions, customers, plans may have changed: resolve raw usage afresh
                    container.ingest.forget_targets(tenant_id)
        return await forwarding

    return router


def create_app(container) -> FastAPI:
    return make_service_app(container, "cloudbill API",
                            "The public edge of cloudbill: tenants, API keys and usage ingestion. Catalog, billing, invoices and payments "
                            "are served under the same /v1 paths by the factories behind it (see their specs in openapi/).",
                            build_router(container), body_slack=64 * 1024)
