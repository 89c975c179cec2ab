"""Budgets: warn a postpaid customer (event, then webhook) when a period's usage or charges reach a level.

Checked after each usage batch for the subscriptions it touched that have
budgets, on the same preview a billing run would bill: charges are the
period's net so far, usage the quantity one charge billed. Each level is
announced once per period: the alert row and the event commit together.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from sqlalchemy import Engine, delete, select

from libs.contracts import topics
from libs.contracts.events import BudgetThresholdCrossed
from libs.ids import new_id
from libs.money import Money
from libs.platform.inbox import insert_ignoring_duplicates
from libs.platform.outbox import write_outbox
from services.billing_factory.adapters.tables import budget_alerts, budgets, outbox
from services.billing_factory.app.catalog import get_subscription
from services.billing_factory.app.record_usage import by_tenant, fresh_of
from services.billing_factory.app.errors import Invalid, NotFound
from services.billing_factory.app.rating import PlanCache, load
from services.billing_factory.app.runs import preview_subscription
from services.billing_factory.domain.budgets import Budget, reached, usage_of


def _levels(levels: list[int]) -> list[int]:
    if not levels or any(not 1 <= level <= 1000 for level in levels) or sorted(set(levels)) != list(levels):
        raise Invalid("levels", "ascending, distinct percentages between 1 and 1000, e.g. [50, 80, 100]")
    return list(levels)


def create_budget(engine: Engine, tenant_id: str, ident: str, kind: str, limit: str, levels: list[int], charge_code: str | None,
                  now: datetime) -> dict[str, Any]:
    sub = get_subscription(engine, tenant_id, ident)
    preview = preview_subscription(engine, tenant_id, sub["id"], now)
    try:
        amount = Decimal(limit)
    except InvalidOperation:
        raise Invalid("limit", "a decimal number") from None
    if not amount.is_finite() or amount <= 0:
        raise Invalid("limit", "greater than zero")
    if kind == "charges":
        if charge_code:
            raise Invalid("charge_code", "a charges budget covers the whole period; leave charge_code out")
        stored = Decimal(Money.from_decimal(amount, preview["currency"]).minor)
    else:
        codes = {line["charge_code"] for line in preview["lines"]} | _plan_charges(engine, tenant_id, sub)
        if not charge_code or charge_code not in codes:
            raise Invalid("charge_code", f"one of the plan's charges: {sorted(codes)}")
        stored = amount
    row = {"id": new_id("bud"), "tenant_id": tenant_id, "subscription_id": sub["id"], "kind": kind, "charge_code": charge_code,
           "limit_value": str(stored), "levels": _levels(levels), "created_at": now}
    with engine.begin() as conn:
        conn.execute(budgets.insert().values(**row))
    return _out(row, preview["currency"])


def _plan_charges(engine: Engine, tenant_id: str, sub: dict) -> set[str]:
    with engine.connect() as conn:
        s = load(conn, PlanCache(conn, tenant_id), sub)
    return {c.code for phase in s.phases for c in phase.plan.charges}


def _out(row: dict, currency: str) -> dict[str, Any]:
    limit = Decimal(row["limit_value"])
    shown = Money(int(limit), currency).amount if row["kind"] == "charges" else limit
    return {"id": row["id"], "subscription_id": row["subscription_id"], "kind": row["kind"], "charge_code": row["charge_code"],
            "limit": str(shown), "currency": currency if row["kind"] == "charges" else None, "levels": row["levels"]}


def list_budgets(engine: Engine, tenant_id: str, ident: str, now: datetime) -> list[dict[str, Any]]:
    sub = get_subscription(engine, tenant_id, ident)
    preview = preview_subscription(engine, tenant_id, sub["id"], now)
    with engine.connect() as conn:
        rows = conn.execute(select(budgets).where(budgets.c.tenant_id == tenant_id, budgets.c.subscription_id == sub["id"])
                            .order_by(budgets.c.created_at)).all()
        announced = _announced(conn, [r.id for r in rows], preview["period_start"])
    out = []
    for r in rows:
        view = _out(dict(r._mapping), preview["currency"])
        value = _value(_budget(r), preview)
        view["value"] = str(Money(int(value), preview["currency"]).amount) if r.kind == "charges" else str(value)
        view["levels_reached"] = sorted(announced.get(r.id, set()))
        out.append(view)
    return out


def delete_budget(engine: Engine, tenant_id: str, budget_id: str) -> None:
    with engine.begin() as conn:
        if conn.execute(delete(budgets).where(budgets.c.tenant_id == tenant_id, budgets.c.id == budget_id)).rowcount != 1:
            raise NotFound("budget", budget_id)


def _budget(row) -> Budget:
    return Budget(row.id, row.kind, Decimal(row.limit_value), tuple(row.levels), row.charge_code)


def _value(budget: Budget, preview: dict) -> Decimal:
    return Decimal(preview["net_minor"]) if budget.kind == "charges" else usage_of(budget.charge_code, preview["lines"])


def _announced(conn, budget_ids: list[str], period_start: datetime) -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    if budget_ids:
        for budget_id, level in conn.execute(select(budget_alerts.c.budget_id, budget_alerts.c.level).where(
                budget_alerts.c.budget_id.in_(budget_ids), budget_alerts.c.period_start == period_start)):
            found[budget_id].add(level)
    return found


def check_budgets(engine: Engine, touched: Iterable[tuple[str, str]], now: datetime,
                  fresh: Mapping[tuple[str, str], list[dict]] | None = None) -> int:
    """Announce every level reached by the subscriptions in `touched` (tenant, subscription); returns how many.

    `fresh`: the events the usage batch inserted, per (tenant, subscription); see `preview_subscription`."""
    announced = 0
    for tenant_id, sub_ids in by_tenant(touched).items():
        with engine.connect() as conn:
            rows = conn.execute(select(budgets).where(budgets.c.tenant_id == tenant_id, budgets.c.subscription_id.in_(sorted(sub_ids)))).all()
        per_sub: dict[str, list] = defaultdict(list)
        for r in rows:
            per_sub[r.subscription_id].append(r)
        for sub_id, sub_budgets in per_sub.items():
            announced += _check(engine, tenant_id, sub_id, sub_budgets, now, fresh_of(fresh, tenant_id, sub_id))
    return announced


def _check(engine: Engine, tenant_id: str, sub_id: str, rows: list, now: datetime, fresh: list[dict] | None) -> int:
    preview = preview_subscription(engine, tenant_id, sub_id, now, fresh)
    customer_id = get_subscription(engine, tenant_id, sub_id)["customer_id"]
    count = 0
    with engine.begin() as conn:
        announced = _announced(conn, [r.id for r in rows], preview["period_start"])
        for r in rows:
            budget = _budget(r)
            value = _value(budget, preview)
            for level in reached(budget, value, announced.get(r.id, set())):
                new = insert_ignoring_duplicates(conn, budget_alerts, [{"budget_id": r.id, "period_start": preview["period_start"],
                                                                        "level": level, "value": str(value), "created_at": now}],
                                                 ["budget_id", "period_start", "level"])
                if not new:
                    continue  # a concurrent check announced it
                write_outbox(conn, outbox, tenant_id, topics.BILLING, sub_id, BudgetThresholdCrossed(
                    budget_id=r.id, subscription_id=sub_id, customer_id=customer_id, kind=r.kind, charge_code=r.charge_code,
                    level=level, value=value, limit=budget.limit, period_start=preview["period_start"]))
                count += 1
    return count
