"""Prepaid subscriptions: the usage of the open period is charged to the wallet as it is recorded.

After each usage batch, every prepaid subscription it touched is priced
for its open period exactly as the billing run will price it (the same
preview), as a gross amount (VAT per rate on the sum of line nets). The
increase over what was charged before goes out as UsageCharged, in the
same transaction that records the new cumulative amount, so a crash
charges nothing twice and loses nothing. The billing run then tells the
invoice how much of the period the wallet already paid.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Iterable, Mapping

from sqlalchemy import Connection, Engine, select, update

from libs.contracts import topics
from libs.contracts.events import UsageCharged
from libs.money import Money
from libs.platform.inbox import insert_ignoring_duplicates
from libs.platform.outbox import write_outbox
from services.billing_factory.adapters.tables import outbox, prepaid_charges, prepaid_subscriptions
from services.billing_factory.app.catalog import get_subscription
from services.billing_factory.app.record_usage import by_tenant, fresh_of
from services.billing_factory.app.runs import preview_subscription


def gross_minor(lines: list[dict], currency: str) -> int:
    """Net plus VAT, the tax computed per rate on the sum of the nets at that rate (as the invoice does)."""
    nets: dict[Decimal, int] = defaultdict(int)
    for line in lines:
        rate = Decimal(str(line["tax_rate"])) if line.get("tax_category", "S") == "S" else Decimal(0)
        nets[rate] += line["net_minor"]
    return sum(net + Money(net, currency).multiply(rate / 100).minor for rate, net in nets.items())


def enable(engine: Engine, tenant_id: str, ident: str, now: datetime) -> dict:
    sub = get_subscription(engine, tenant_id, ident)
    with engine.begin() as conn:
        insert_ignoring_duplicates(conn, prepaid_subscriptions, [{"tenant_id": tenant_id, "subscription_id": sub["id"], "enabled_at": now}],
                                   ["tenant_id", "subscription_id"])
    return {"subscription_id": sub["id"], "prepaid": True}


def prepaid_of(conn: Connection, tenant_id: str, subscription_ids: Iterable[str]) -> set[str]:
    ids = list(subscription_ids)
    if not ids:
        return set()
    return set(conn.execute(select(prepaid_subscriptions.c.subscription_id).where(
        prepaid_subscriptions.c.tenant_id == tenant_id, prepaid_subscriptions.c.subscription_id.in_(ids))).scalars())


def charge_usage(engine: Engine, touched: Iterable[tuple[str, str]], now: datetime,
                 fresh: Mapping[tuple[str, str], list[dict]] | None = None) -> int:
    """Charge the wallet for the new usage of every prepaid subscription in `touched` (tenant, subscription); returns how many.

    `fresh`: the events the usage batch inserted, per (tenant, subscription) (`UsageBatchResult.fresh`); see
    `preview_subscription`."""
    charged = 0
    for tenant_id, sub_ids in by_tenant(touched).items():
        with engine.connect() as conn:
            prepaid = prepaid_of(conn, tenant_id, sub_ids)
        for sub_id in sorted(prepaid):
            charged += _charge_one(engine, tenant_id, sub_id, now, fresh_of(fresh, tenant_id, sub_id))
    return charged


def _charge_one(engine: Engine, tenant_id: str, sub_id: str, now: datetime, fresh: list[dict] | None) -> int:
    preview = preview_subscription(engine, tenant_id, sub_id, now, fresh)
    cumulative = gross_minor(preview["lines"], preview["currency"])
    sub = get_subscription(engine, tenant_id, sub_id)
    with engine.begin() as conn:
        insert_ignoring_duplicates(conn, prepaid_charges, [{"tenant_id": tenant_id, "subscription_id": sub_id,
                                                            "period_start": preview["period_start"], "charged_minor": 0}],
                                   ["tenant_id", "subscription_id", "period_start"])
        where = (prepaid_charges.c.tenant_id == tenant_id, prepaid_charges.c.subscription_id == sub_id,
                 prepaid_charges.c.period_start == preview["period_start"])
        stmt = select(prepaid_charges.c.charged_minor).where(*where)
        before = conn.execute(stmt.with_for_update() if conn.dialect.name == "postgresql" else stmt).scalar_one()
        if cumulative <= before:
            return 0
        conn.execute(update(prepaid_charges).where(*where).values(charged_minor=cumulative))
        write_outbox(conn, outbox, tenant_id, topics.BILLING, sub["customer_id"], UsageCharged(
            subscription_id=sub_id, customer_id=sub["customer_id"], currency=preview["currency"],
            period_start=preview["period_start"], amount_minor=cumulative - before, cumulative_minor=cumulative),
            message_id=f"usage-charged:{tenant_id}:{sub_id}:{preview['period_start'].isoformat()}:{cumulative}")
        return 1
