"""REST API of the billing factory: customers, catalog, subscriptions, billing runs, previews."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from libs.platform.problems import Problem
from libs.platform.web import invalid_body, make_service_app, tenant_dependency
from services.billing_factory.app import budgets, catalog, customers, partners, prepaid, rerating, runs, sharing, subscriptions
from services.billing_factory.app.errors import Conflict, Invalid, NotFound
from services.billing_factory.app.usage_targets import conflicting_duplicates, resolve_targets
from services.billing_factory.entrypoints import schemas as s

ERRORS = {
    NotFound: lambda e: Problem(404, "not-found", f"{e.what.capitalize()} not found", f"no {e.what} {e.ident!r} in this tenant"),
    Conflict: lambda e: Problem(409, "conflict", "Already exists", str(e)),
    Invalid: lambda e: Problem(422, "validation-error", "Invalid request", e.reason, errors=[{"field": e.field, "message": e.reason}]),
}


def build_router(c) -> APIRouter:
    router = APIRouter()
    tenant = tenant_dependency(c.settings.internal_token)
    eng = c.engine

    @router.post("/v1/customers", status_code=201, response_model=s.CustomerOut, tags=["customers"])
    def create_customer(body: s.CustomerIn, tenant_id: str = tenant):
        return customers.create_customer(eng, tenant_id, body.model_dump())

    @router.get("/v1/customers", response_model=list[s.CustomerOut], tags=["customers"])
    def list_customers(tenant_id: str = tenant, limit: int = Query(100, ge=1, le=1000), after: str | None = None):
        return customers.list_customers(eng, tenant_id, limit, after)

    @router.get("/v1/customers/{customer_id}", response_model=s.CustomerOut, tags=["customers"])
    def get_customer(customer_id: str, tenant_id: str = tenant):
        return customers.get_customer(eng, tenant_id, customer_id)

    @router.get("/v1/customers/{customer_id}/usage-summary", tags=["customers"], summary="Recorded usage events per metric")
    def usage_summary(customer_id: str, tenant_id: str = tenant) -> dict:
        return runs.usage_summary(eng, tenant_id, customers.get_customer(eng, tenant_id, customer_id)["id"])

    @router.post("/v1/metrics", status_code=201, response_model=s.MetricOut, tags=["catalog"])
    def create_metric(body: s.MetricIn, tenant_id: str = tenant):
        return catalog.create_metric(eng, tenant_id, body.model_dump())

    @router.get("/v1/metrics", response_model=list[s.MetricOut], tags=["catalog"])
    def list_metrics(tenant_id: str = tenant):
        return catalog.list_metrics(eng, tenant_id)

    @router.post("/v1/plans", status_code=201, response_model=s.PlanOut, tags=["catalog"])
    def create_plan(body: s.PlanIn, tenant_id: str = tenant):
        return catalog.create_plan(eng, tenant_id, body.model_dump(mode="json"))

    @router.get("/v1/plans", response_model=list[s.PlanOut], tags=["catalog"])
    def list_plans(tenant_id: str = tenant):
        return catalog.list_plans(eng, tenant_id)

    @router.get("/v1/plans/{plan}", response_model=s.PlanOut, tags=["catalog"])
    def get_plan(plan: str, tenant_id: str = tenant):
        return catalog.get_plan(eng, tenant_id, plan)

    @router.post("/v1/subscriptions", status_code=201, response_model=s.SubscriptionOut, tags=["subscriptions"])
    def create_subscription(body: s.SubscriptionIn, tenant_id: str = tenant):
        return catalog.create_subscription(eng, tenant_id, body.customer, body.plan, body.started_at, body.external_id, body.currency)

    @router.get("/v1/subscriptions/{subscription}", response_model=s.SubscriptionOut, tags=["subscriptions"])
    def get_subscription(subscription: str, tenant_id: str = tenant):
        return catalog.get_subscription(eng, tenant_id, subscription)

    @router.post("/v1/subscriptions/{subscription}/cancel", response_model=s.SubscriptionOut, tags=["subscriptions"],
                 summary="End now, at a given instant, or at the end of the period; the last period is prorated by day")
    def cancel_subscription(subscription: str, body: s.CancelIn | None = None, tenant_id: str = tenant, at: datetime | None = None):
        body = body or s.CancelIn()
        return subscriptions.cancel(eng, tenant_id, subscription, body.at or at, body.at_period_end, c.clock.now())

    @router.post("/v1/subscriptions/{subscription}/change-plan", response_model=s.SubscriptionOut, tags=["subscriptions"],
                 summary="Switch plan from an instant on; the period it falls in is prorated by day between both plans")
    def change_plan(subscription: str, body: s.ChangePlanIn, tenant_id: str = tenant):
        return subscriptions.change_plan(eng, tenant_id, subscription, body.plan, body.at or c.clock.now())

    @router.post("/v1/subscriptions/{subscription}/pause", response_model=s.SubscriptionOut, tags=["subscriptions"],
                 summary="Stop recurring fees (prorated by day) until resumed; usage is still billed")
    def pause(subscription: str, body: s.AtIn | None = None, tenant_id: str = tenant):
        return subscriptions.pause(eng, tenant_id, subscription, (body.at if body else None) or c.clock.now())

    @router.post("/v1/subscriptions/{subscription}/resume", response_model=s.SubscriptionOut, tags=["subscriptions"])
    def resume(subscription: str, body: s.AtIn | None = None, tenant_id: str = tenant):
        return subscriptions.resume(eng, tenant_id, subscription, (body.at if body else None) or c.clock.now())

    @router.post("/v1/subscriptions/{subscription}/coupons", status_code=201, tags=["subscriptions"],
                 summary="Apply a coupon; its periods count from the one it is applied in")
    def apply_coupon(subscription: str, body: s.ApplyCouponIn, tenant_id: str = tenant) -> dict:
        return subscriptions.apply_coupon(eng, tenant_id, subscription, body.coupon, body.at or c.clock.now())

    @router.post("/v1/subscriptions/{subscription}/credits", status_code=201, response_model=s.CreditOut, tags=["subscriptions"],
                 summary="Grant credit, used on the next invoices up to what is due")
    def grant_credit(subscription: str, body: s.CreditIn, tenant_id: str = tenant):
        return subscriptions.grant_credit(eng, tenant_id, subscription, body.name, body.amount)

    @router.get("/v1/subscriptions/{subscription}/credits", response_model=list[s.CreditOut], tags=["subscriptions"])
    def list_credits(subscription: str, tenant_id: str = tenant):
        return subscriptions.list_credits(eng, tenant_id, subscription)

    @router.post("/v1/subscriptions/{subscription}/orders", status_code=201, response_model=s.OrderOut, tags=["subscriptions"],
                 summary="A one-time order, billed with the period it is ordered in")
    def create_order(subscription: str, body: s.OrderIn, tenant_id: str = tenant):
        return subscriptions.order(eng, tenant_id, subscription, body.model_dump())

    @router.post("/v1/products", status_code=201, response_model=s.ProductOut, tags=["catalog"])
    def create_product(body: s.ProductIn, tenant_id: str = tenant):
        return catalog.create_product(eng, tenant_id, body.model_dump())

    @router.get("/v1/products", response_model=list[s.ProductOut], tags=["catalog"])
    def list_products(tenant_id: str = tenant):
        return catalog.list_products(eng, tenant_id)

    @router.post("/v1/coupons", status_code=201, response_model=s.CouponOut, tags=["catalog"])
    def create_coupon(body: s.CouponIn, tenant_id: str = tenant):
        return catalog.create_coupon(eng, tenant_id, body.model_dump())

    @router.get("/v1/coupons", response_model=list[s.CouponOut], tags=["catalog"])
    def list_coupons(tenant_id: str = tenant):
        return catalog.list_coupons(eng, tenant_id)

    @router.get("/v1/subscriptions/{subscription}/usage", tags=["subscriptions"],
                summary="Current usage and estimated charges of the open period")
    def current_usage(subscription: str, tenant_id: str = tenant) -> dict:
        return runs.preview_subscription(eng, tenant_id, subscription, c.clock.now())

    @router.post("/v1/subscriptions/{subscription}/budgets", status_code=201, tags=["budgets"],
                 summary="Warn (event and webhook budget.threshold.crossed) when the period's charges or usage reach levels of a limit")
    def create_budget(subscription: str, body: s.BudgetIn, tenant_id: str = tenant) -> dict:
        return budgets.create_budget(eng, tenant_id, subscription, body.kind, body.limit, body.levels, body.charge_code, c.clock.now())

    @router.get("/v1/subscriptions/{subscription}/budgets", tags=["budgets"], summary="Budgets with the period's value and the levels reached")
    def list_budgets(subscription: str, tenant_id: str = tenant) -> list[dict]:
        return budgets.list_budgets(eng, tenant_id, subscription, c.clock.now())

    @router.delete("/v1/budgets/{budget_id}", status_code=204, tags=["budgets"])
    def delete_budget(budget_id: str, tenant_id: str = tenant) -> Response:
        budgets.delete_budget(eng, tenant_id, budget_id)
        return Response(status_code=204)

    @router.post("/v1/subscriptions/{subscription}/rerate", tags=["subscriptions"],
                 summary="Re-rate a billed period from the raw usage log and compare it with what was billed; changes nothing")
    def rerate(subscription: str, body: s.RerateIn, tenant_id: str = tenant) -> dict:
        return rerating.rerate_from_log(eng, c.docstore, tenant_id, subscription, body.period_start)

    @router.put("/v1/subscriptions/{subscription}/prepaid", tags=["subscriptions"],
                summary="Pay this subscription's usage from the customer's prepaid wallet as it arrives")
    def make_prepaid(subscription: str, tenant_id: str = tenant) -> dict:
        return prepaid.enable(eng, tenant_id, subscription, c.clock.now())

    @router.get("/v1/previews/subscriptions/{subscription}", tags=["previews"],
                summary="The upcoming invoice: the open period's usage so far, rated exactly as a billing run at its end would")
    def preview_subscription(subscription: str, tenant_id: str = tenant, at: datetime | None = None) -> dict:
        return runs.preview_subscription(eng, tenant_id, subscription, at or c.clock.now())

    @router.post("/v1/billing-runs", status_code=201, response_model=s.BillingRunOut, tags=["billing runs"],
                 responses={202: {"model": s.BillingRunOut, "description": "started; the run worker bills the rest (GET it for progress)"}},
                 summary="Bill every subscription period that ended by as_of; re-running bills nothing twice")
    def create_run(body: s.BillingRunIn, response: Response, tenant_id: str = tenant):
        result = runs.run_billing(eng, tenant_id, body.as_of or c.clock.now(), c.clock.now(), c.settings.billing_run_sync_chunks,
                                  c.settings.billing_run_chunk)
        if result["status"] != "completed":
            response.status_code = 202
            c.run_worker.wake()
        c.relay.wake()
        return result

    @router.get("/v1/billing-runs", response_model=list[s.BillingRunOut], tags=["billing runs"], summary="The latest billing runs")
    def list_runs(tenant_id: str = tenant):
        return runs.list_runs(eng, tenant_id)

    @router.get("/v1/billing-runs/{run_id}", response_model=s.BillingRunOut, tags=["billing runs"],
                summary="A run's progress: subscriptions billed of all, invoices requested, status")
    def get_run(run_id: str, tenant_id: str = tenant):
        return runs.get_run(eng, tenant_id, run_id)

    @router.post("/v1/previews/plan", tags=["previews"], summary="Price a plan for given quantities; nothing is stored")
    def preview_plan(body: s.PlanPreviewIn, tenant_id: str = tenant) -> dict:
        return runs.preview_plan(eng, tenant_id, body.plan, body.definition.model_dump(mode="json") if body.definition else None,
                                 body.quantities, body.period_start or c.clock.now(), body.currency)

    @router.post("/v1/partners", status_code=201, response_model=s.PartnerOut, tags=["partners"],
                 summary="Add a partner (provider, service partner, reseller, operator) with payout details and, optionally, its first contract")
    def create_partner(body: s.PartnerIn, tenant_id: str = tenant):
        out = partners.create_partner(eng, tenant_id, body.model_dump(), c.clock.now())
        c.relay.wake()
        return out

    @router.get("/v1/partners", response_model=list[s.PartnerOut], tags=["partners"])
    def list_partners(tenant_id: str = tenant):
        return partners.list_partners(eng, tenant_id)

    @router.get("/v1/partners/{partner}", response_model=s.PartnerOut, tags=["partners"])
    def get_partner(partner: str, tenant_id: str = tenant):
        return partners.get_partner(eng, tenant_id, partner)

    @router.patch("/v1/partners/{partner}", response_model=s.PartnerOut, tags=["partners"],
                  summary="Change master data or move the partner under another reseller (a cycle is refused)")
    def update_partner(partner: str, body: s.PartnerPatch, tenant_id: str = tenant):
        out = partners.update_partner(eng, tenant_id, partner, body.model_dump(exclude_unset=True), c.clock.now())
        c.relay.wake()
        return out

    @router.post("/v1/partners/{partner}/contracts", status_code=201, response_model=s.PartnerContractOut, tags=["partners"])
    def add_contract(partner: str, body: s.PartnerContractIn, tenant_id: str = tenant):
        return partners.add_contract(eng, tenant_id, partner, body.model_dump())

    @router.post("/v1/share-rules", status_code=201, response_model=s.ShareRuleOut, tags=["partners"],
                 summary="Add a revenue-sharing rule; refused if a source would give away more than 100 % or the partner has no contract then")
    def create_rule(body: s.ShareRuleIn, tenant_id: str = tenant):
        return partners.create_rule(eng, tenant_id, body.model_dump())

    @router.get("/v1/share-rules", response_model=list[s.ShareRuleOut], tags=["partners"])
    def list_rules(tenant_id: str = tenant):
        return partners.list_rules(eng, tenant_id)

    @router.delete("/v1/share-rules/{rule_id}", status_code=204, tags=["partners"])
    def delete_rule(rule_id: str, tenant_id: str = tenant) -> Response:
        partners.delete_rule(eng, tenant_id, rule_id)
        return Response(status_code=204)

    @router.get("/v1/revenue-shares", tags=["partners"],
                summary="Internal report: each partner's share of what billing runs billed (never shown on customer invoices)")
    def revenue_shares(tenant_id: str = tenant, billing_run_id: str | None = None, subscription: str | None = None) -> dict:
        return sharing.share_report(eng, tenant_id, billing_run_id, subscription)

    @router.post("/internal/usage/resolve", include_in_schema=False)
    async def resolve(request: Request, tenant_id: str = tenant) -> dict:
        # asked once per REST usage batch: the body (up to a thousand ids and fingerprints) is parsed and validated in
        # one pass by pydantic's core from the bytes, instead of the stdlib's json.loads and then the model
        try:
            body = s.ResolveIn.model_validate_json(await request.body())
        except ValidationError as exc:
            raise invalid_body(exc.errors()) from None
        if len(body.event_ids) != len(body.payload_hashes):
            raise Problem(422, "validation-error", "Invalid request", "one payload hash per event id")

        def answer() -> dict:
            return {"results": resolve_targets(eng, tenant_id, [i.model_dump() for i in body.items]),
                    "conflicts": sorted(conflicting_duplicates(eng, tenant_id, dict(zip(body.event_ids, body.payload_hashes))))}

        return await run_in_threadpool(answer)

    return router


def create_app(container) -> FastAPI:
    return make_service_app(container, "cloudbill billing factory",
                            "Catalog, subscriptions, usage rating and billing runs.",
                            build_router(container), mapping=ERRORS)
