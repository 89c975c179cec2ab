"""Dunning runs: overdue open items get reminders by level, with the level's fee, and the account raises AccountOverdue.

A fee is charged like an invoice (receivable debited, revenue credited) and
becomes an open item of its own, so it is collected and matched like any
other. Each level is sent once per invoice (unique key), so running dunning
twice on a day changes nothing. Other services act on AccountOverdue (the
e-mail dispatcher sends the letter, billing may restrict the customer).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from libs.contracts import topics
from libs.contracts.events import AccountOverdue
from libs.ids import new_id
from libs.platform.outbox import write_outbox
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import dunning_notices, open_items, outbox
from services.payment_factory.app.accounts import customer_account, platform_account
from services.payment_factory.domain.dunning import DunningPolicy
from services.payment_factory.domain.ledger import Leg, TransferRequest
from services.payment_factory.domain.ledger_accounts import AccountPurpose


def run_dunning(engine: Engine, books: SqlLedger, tenant: str, today: date, policy: DunningPolicy) -> dict:
    notices: list[dict] = []
    with engine.begin() as conn:
        o = open_items.c
        overdue = conn.execute(select(open_items).where(o.tenant_id == tenant, o.amount_minor > o.paid_minor, o.due_date < today,
                                                        o.type_code == "380").order_by(o.customer_id, o.due_date)).all()
        sent: dict[str, set[int]] = {}
        for n in conn.execute(select(dunning_notices.c.invoice_id, dunning_notices.c.level).where(dunning_notices.c.tenant_id == tenant)):
            sent.setdefault(n.invoice_id, set()).add(n.level)
        per_customer: dict[tuple[str, str], list] = {}
        for item in overdue:
            for level in policy.new_levels(item.due_date, today, sent.get(item.invoice_id, set())):
                outstanding = item.amount_minor - item.paid_minor
                row = {"id": new_id("dun"), "tenant_id": tenant, "customer_id": item.customer_id, "invoice_id": item.invoice_id,
                       "level": level.level, "fee_minor": level.fee_minor, "outstanding_minor": outstanding, "currency": item.currency,
                       "created_at": books.clock.now()}
                conn.execute(dunning_notices.insert().values(**row))
                if level.fee_minor:
                    _charge_fee(conn, books, tenant, item, level.level, level.fee_minor, today)
                notices.append({**row, "number": item.number, "name": level.name})
                per_customer.setdefault((item.customer_id, item.currency), []).append((item, level, outstanding + level.fee_minor))
        for (customer_id, currency), hits in per_customer.items():
            write_outbox(conn, outbox, tenant, topics.PAYMENTS, customer_id, AccountOverdue(
                customer_id=customer_id, currency=currency, level=max(l.level for _, l, _ in hits),
                outstanding_minor=sum(amount for _, _, amount in hits), oldest_due_date=min(i.due_date for i, _, _ in hits),
                invoice_ids=[i.invoice_id for i, _, _ in hits]))
    return {"run_on": today, "notices": [{k: n[k] for k in ("customer_id", "invoice_id", "number", "level", "name", "fee_minor",
                                                             "outstanding_minor", "currency")} for n in notices]}


def _charge_fee(conn, books: SqlLedger, tenant: str, item, level: int, fee: int, today: date) -> None:
    receivable = customer_account(books, conn, tenant, item.customer_id, AccountPurpose.CUSTOMER_RECEIVABLE, item.currency).id
    revenue = platform_account(books, conn, tenant, AccountPurpose.REVENUE, item.currency).id
    books.transfer(conn, tenant, TransferRequest(f"dunning:{item.invoice_id}:{level}", (Leg(receivable, revenue, fee, item.currency),),
                                                 {"kind": "dunning_fee", "number": f"{item.number}/M{level}", "invoice_id": item.invoice_id}))
    conn.execute(open_items.insert().values(invoice_id=f"{item.invoice_id}:fee{level}", tenant_id=tenant, customer_id=item.customer_id,
                                            number=f"{item.number}/M{level}", currency=item.currency, amount_minor=fee, paid_minor=0,
                                            issue_date=today, due_date=today, type_code="FEE"))
