"""Use cases for the catalog (metrics, plans) and subscriptions."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from libs.ids import new_id
from libs.money import UnknownCurrency, check_currency
from services.billing_factory.adapters.tables import coupons, metrics, plans, products, subscriptions
from services.billing_factory.app.customers import get_customer
from services.billing_factory.app.errors import Conflict, Invalid, NotFound
from services.billing_factory.app.plan_codec import currencies, plan_from_definition


def _insert(engine: Engine, table, row: dict, what: str, key: str) -> dict:
    try:
        with engine.begin() as conn:
            conn.execute(table.insert().values(**row))
    except IntegrityError:
        raise Conflict(f"a {what} with code {key!r} exists") from None
    return row


def create_metric(engine: Engine, tenant_id: str, data: dict[str, Any]) -> dict[str, Any]:
    if data["aggregation"] != "count" and not data.get("field"):
        raise Invalid("field", f"aggregation {data['aggregation']} needs the event property to aggregate")
    row = {**data, "id": new_id("met"), "tenant_id": tenant_id, "created_at": datetime.now(timezone.utc)}
    return _insert(engine, metrics, row, "metric", data["code"])


def list_metrics(engine: Engine, tenant_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(metrics).where(metrics.c.tenant_id == tenant_id).order_by(metrics.c.code))]


def metric_map(engine: Engine, tenant_id: str) -> dict[str, dict[str, Any]]:
    return {m["code"]: m for m in list_metrics(engine, tenant_id)}


def create_plan(engine: Engine, tenant_id: str, definition: dict[str, Any]) -> dict[str, Any]:
    known = metric_map(engine, tenant_id)
    _check_products(engine, tenant_id, definition)
    for i, charge in enumerate(definition["charges"]):
        for cur in charge.get("prices") or {}:
            try:
                check_currency(cur)
            except UnknownCurrency as exc:
                raise Invalid(f"charges[{i}].prices.{cur}", str(exc)) from None
    for cur in currencies(definition):  # validates tiers, prices, versions, currency in each; raises Invalid naming the field
        plan_from_definition(definition, known, cur)
    row = {"id": new_id("pln"), "tenant_id": tenant_id, "code": definition["code"], "name": definition["name"],
           "currency": definition["currency"], "interval": definition["interval"], "definition": definition,
           "created_at": datetime.now(timezone.utc)}
    _insert(engine, plans, row, "plan", definition["code"])
    return _plan_out(definition, row["id"])


def _plan_out(definition: dict[str, Any], ident: str) -> dict[str, Any]:
    return {**definition, "id": ident, "currencies": currencies(definition)}


def _check_products(engine: Engine, tenant_id: str, definition: dict[str, Any]) -> None:
    wanted = {(i, c["product"]) for i, c in enumerate(definition["charges"]) if c.get("product")}
    if not wanted:
        return
    with engine.connect() as conn:
        known = {r.code for r in conn.execute(select(products.c.code).where(products.c.tenant_id == tenant_id))}
    for i, code in sorted(wanted):
        if code not in known:
            raise Invalid(f"charges[{i}].product", f"unknown product {code!r}")


def create_product(engine: Engine, tenant_id: str, data: dict[str, Any]) -> dict[str, Any]:
    row = {**data, "id": new_id("prd"), "tenant_id": tenant_id, "created_at": datetime.now(timezone.utc)}
    return _insert(engine, products, row, "product", data["code"])


def list_products(engine: Engine, tenant_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(products).where(products.c.tenant_id == tenant_id).order_by(products.c.code))]


def create_coupon(engine: Engine, tenant_id: str, data: dict[str, Any]) -> dict[str, Any]:
    if (data.get("percentage") is None) == (data.get("amount") is None):
        raise Invalid("percentage", "a coupon is either a percentage or an amount")
    if data.get("amount") is not None and not data.get("currency"):
        raise Invalid("currency", "a fixed-amount coupon names its currency")
    if data.get("currency"):
        try:
            check_currency(data["currency"])
        except UnknownCurrency as exc:
            raise Invalid("currency", str(exc)) from None
    row = {**data, "charge_codes": list(data.get("charge_codes") or []), "id": new_id("cpn"), "tenant_id": tenant_id,
           "created_at": datetime.now(timezone.utc)}
    return _insert(engine, coupons, row, "coupon", data["code"])


def get_coupon(engine: Engine, tenant_id: str, ident: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(coupons).where(coupons.c.tenant_id == tenant_id, (coupons.c.id == ident) | (coupons.c.code == ident))).first()
    if row is None:
        raise NotFound("coupon", ident)
    return dict(row._mapping)


def list_coupons(engine: Engine, tenant_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(coupons).where(coupons.c.tenant_id == tenant_id).order_by(coupons.c.code))]


def get_plan(engine: Engine, tenant_id: str, ident: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(plans).where(plans.c.tenant_id == tenant_id, (plans.c.id == ident) | (plans.c.code == ident))).first()
    if row is None:
        raise NotFound("plan", ident)
    return _plan_out(row.definition, row.id)


def list_plans(engine: Engine, tenant_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [_plan_out(r.definition, r.id) for r in conn.execute(select(plans).where(plans.c.tenant_id == tenant_id).order_by(plans.c.code))]


def create_subscription(engine: Engine, tenant_id: str, customer: str, plan: str, started_at: datetime, external_id: str | None,
                        currency: str | None = None) -> dict[str, Any]:
    cust = get_customer(engine, tenant_id, customer)
    pl = get_plan(engine, tenant_id, plan)
    currency = currency or cust["currency"]
    if currency not in pl["currencies"]:
        raise Invalid("currency", f"the plan bills in {', '.join(pl['currencies'])}, not {currency}")
    if cust["currency"] != currency:
        raise Invalid("currency", f"the customer is billed in {cust['currency']}, not {currency}")
    if started_at.tzinfo is None:
        raise Invalid("started_at", "needs a time zone")
    row = {"id": new_id("sub"), "tenant_id": tenant_id, "external_id": external_id, "customer_id": cust["id"], "plan_id": pl["id"],
           "status": "active", "started_at": started_at, "ends_at": None, "currency": currency,
           "cancel_at_period_end": False, "created_at": datetime.now(timezone.utc)}
    with engine.begin() as conn:
        conn.execute(subscriptions.insert().values(**row))
    return row


def get_subscription(engine: Engine, tenant_id: str, ident: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(subscriptions, plans.c.currency.label("plan_currency")).join(plans, plans.c.id == subscriptions.c.plan_id)
                           .where(subscriptions.c.tenant_id == tenant_id,
                                  (subscriptions.c.id == ident) | (subscriptions.c.external_id == ident))).first()
    if row is None:
        raise NotFound("subscription", ident)
    out = dict(row._mapping)
    plan_currency = out.pop("plan_currency")
    out["currency"] = out["currency"] or plan_currency  # rows from before subscriptions named their currency
    return out
