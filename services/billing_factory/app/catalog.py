"""Use cases for the catalog (metrics, plans) and subscriptions."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from libs.ids import new_id
from services.billing_factory.adapters.tables import metrics, plans, subscriptions
from services.billing_factory.app.customers import get_customer
from services.billing_factory.app.errors import Conflict, Invalid, NotFound
from services.billing_factory.app.plan_codec import plan_from_definition


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
    for i, charge in enumerate(definition["charges"]):
        if charge.get("metric") and charge["metric"] not in known:
            raise Invalid(f"charges[{i}].metric", f"unknown metric {charge['metric']!r}")
    plan_from_definition(definition, known)  # validates tiers, prices, currency; raises Invalid naming the field
    row = {"id": new_id("pln"), "tenant_id": tenant_id, "code": definition["code"], "name": definition["name"],
           "currency": definition["currency"], "interval": definition["interval"], "definition": definition,
           "created_at": datetime.now(timezone.utc)}
    _insert(engine, plans, row, "plan", definition["code"])
    return {**definition, "id": row["id"]}


def get_plan(engine: Engine, tenant_id: str, ident: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(plans).where(plans.c.tenant_id == tenant_id, (plans.c.id == ident) | (plans.c.code == ident))).first()
    if row is None:
        raise NotFound("plan", ident)
    return {**row.definition, "id": row.id}


def list_plans(engine: Engine, tenant_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [{**r.definition, "id": r.id} for r in conn.execute(select(plans).where(plans.c.tenant_id == tenant_id).order_by(plans.c.code))]


def create_subscription(engine: Engine, tenant_id: str, customer: str, plan: str, started_at: datetime, external_id: str | None) -> dict[str, Any]:
    cust = get_customer(engine, tenant_id, customer)
    pl = get_plan(engine, tenant_id, plan)
    if cust["currency"] != pl["currency"]:
        raise Invalid("plan", f"the plan bills in {pl['currency']}, the customer in {cust['currency']}")
    if started_at.tzinfo is None:
        raise Invalid("started_at", "needs a time zone")
    row = {"id": new_id("sub"), "tenant_id": tenant_id, "external_id": external_id, "customer_id": cust["id"], "plan_id": pl["id"],
           "status": "active", "started_at": started_at, "ends_at": None, "created_at": datetime.now(timezone.utc)}
    with engine.begin() as conn:
        conn.execute(subscriptions.insert().values(**row))
    return row


def get_subscription(engine: Engine, tenant_id: str, ident: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(subscriptions).where(subscriptions.c.tenant_id == tenant_id,
                                                       (subscriptions.c.id == ident) | (subscriptions.c.external_id == ident))).first()
    if row is None:
        raise NotFound("subscription", ident)
    return dict(row._mapping)


def cancel_subscription(engine: Engine, tenant_id: str, ident: str, at: datetime) -> dict[str, Any]:
    sub = get_subscription(engine, tenant_id, ident)
    if at < sub["started_at"].replace(tzinfo=sub["started_at"].tzinfo or timezone.utc):
        raise Invalid("ends_at", "a subscription cannot end before it started")
    with engine.begin() as conn:
        conn.execute(subscriptions.update().where(subscriptions.c.id == sub["id"]).values(ends_at=at, status="canceled"))
    return {**sub, "ends_at": at, "status": "canceled"}
