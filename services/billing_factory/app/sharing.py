"""The revenue-sharing split of rated lines: who gets which part of each line's net.

The split is computed where the lines are rated, so a billing run, the
upcoming-invoice preview and a late-usage adjustment all carry the same
shares. They travel on `DraftLine.shares` to the invoice factory (which keeps
them off the customer's document) and on to the payment factory, which
settles them.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any, Sequence

from sqlalchemy import Connection, Engine, select

from libs.contracts.events import DraftLine, LineShare
from services.billing_factory.adapters.tables import billed_periods, customers, one_time_orders, partners
from services.billing_factory.app.errors import Invalid
from services.billing_factory.app.partners import load_rules, network
from services.billing_factory.domain import Period, Plan
from services.billing_factory.domain.sharing import Partner, ShareRule, SharingError, SplitContext, SplitLine, split_lines


class ShareBook:
    """A tenant's partners, share rules and the resellers of its customers, loaded once per transaction."""

    def __init__(self, rules: list[ShareRule], partners: dict[str, Partner], resellers: dict[str, str]) -> None:
        self.rules, self.partners, self.resellers = rules, partners, resellers

    @classmethod
    def load(cls, conn: Connection, tenant_id: str) -> ShareBook:
        rules = load_rules(conn, tenant_id)
        if not rules:
            return cls([], {}, {})
        resellers = {r.id: r.reseller_id for r in conn.execute(
            select(customers.c.id, customers.c.reseller_id).where(customers.c.tenant_id == tenant_id, customers.c.reseller_id.is_not(None)))}
        return cls(rules, network(conn, tenant_id), resellers)


def _clearing(conn: Connection, tenant_id: str, subscription_id: str, period: Period) -> dict[str, dict[str, Decimal]]:
    """Clearing keys of the period's orders, by order code."""
    rows = conn.execute(select(one_time_orders.c.code, one_time_orders.c.clearing).where(
        one_time_orders.c.tenant_id == tenant_id, one_time_orders.c.subscription_id == subscription_id,
        one_time_orders.c.ordered_at >= period.start, one_time_orders.c.ordered_at < period.end, one_time_orders.c.clearing.is_not(None)))
    return {r.code: {k: Decimal(str(v)) for k, v in r.clearing.items()} for r in rows}


def with_shares(conn: Connection, tenant_id: str, book: ShareBook, currency: str, plans: Sequence[Plan], subscription_id: str, customer_id: str,
                period: Period, lines: list[DraftLine], events: list[dict[str, Any]]) -> list[DraftLine]:
    """The lines with their shares; unchanged when the tenant has no share rules."""
    if not book.rules or not lines:
        return lines
    charges = {c.code: (plan.code, c.metric.split("#", 1)[0] if c.metric else None) for plan in plans for c in plan.charges}
    transactions = Counter(e["metric"] for e in events if period.start <= e["timestamp"] < period.end)
    clearing = _clearing(conn, tenant_id, subscription_id, period)
    split = []
    for line in lines:
        plan_code, metric = charges.get(line.charge_code, (plans[-1].code if plans else "", None))
        split.append(SplitLine(charge_code=line.charge_code, kind=line.kind, net_minor=line.net_minor, quantity=line.quantity,
                               metric_code=metric, plan_code=plan_code, transactions=transactions.get(metric, 0) if metric else 0,
                               clearing=clearing.get(line.charge_code)))
    ctx = SplitContext(currency=currency, period_start=_day(period.start), period_end=_day(period.end),
                       reseller_id=book.resellers.get(customer_id))
    try:
        shares = split_lines(split, book.rules, book.partners, ctx)
    except SharingError as exc:
        raise Invalid(exc.field, exc.message) from None
    return [line.model_copy(update={"shares": [LineShare(partner_id=s.partner_id, rule_id=s.rule_id, amount_minor=s.amount_minor,
                                                         role=s.role, basis=s.basis) for s in found]}) if found else line
            for line, found in zip(lines, shares)]


def _day(t: datetime):
    return t.date()


def share_report(engine: Engine, tenant_id: str, billing_run_id: str | None = None, subscription: str | None = None) -> dict[str, Any]:
    """Per currency: what was billed, each partner's share of it and what the platform keeps, from the billed periods' lines."""
    query = select(billed_periods).where(billed_periods.c.tenant_id == tenant_id)
    if billing_run_id:
        query = query.where(billed_periods.c.billing_run_id == billing_run_id)
    if subscription:
        query = query.where(billed_periods.c.subscription_id == subscription)
    totals: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        codes = {r.id: r.code for r in conn.execute(select(partners.c.id, partners.c.code).where(partners.c.tenant_id == tenant_id))}
        for row in conn.execute(query.order_by(billed_periods.c.period_start)):
            cur = totals.setdefault(row.currency, {"currency": row.currency, "periods": 0, "net_minor": 0, "platform_minor": 0, "partners": {}})
            cur["periods"] += 1
            for line in row.lines:
                cur["net_minor"] += line["net_minor"]
                shared = 0
                for share in line.get("shares") or []:
                    entry = cur["partners"].setdefault(share["partner_id"], {
                        "partner_id": share["partner_id"], "code": codes.get(share["partner_id"]), "net_minor": 0, "lines": 0})
                    entry["net_minor"] += share["amount_minor"]
                    entry["lines"] += 1
                    shared += share["amount_minor"]
                cur["platform_minor"] += line["net_minor"] - shared
    return {"billing_run_id": billing_run_id, "subscription": subscription,
            "currencies": [{**t, "partners": sorted(t["partners"].values(), key=lambda p: p["code"] or "")} for t in totals.values()]}
