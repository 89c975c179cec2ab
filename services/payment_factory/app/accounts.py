"""Accounts as users see them: one ledger account per customer and purpose, and the account screen.

The balance shown is money received minus charges (the product screens'
"Kontostand"): negative while the customer owes, zero when settled,
positive when the customer has credit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, select

from libs.money import Money
from services.payment_factory.adapters.double_entry import account_entries, accounts, balance, open_account
from services.payment_factory.adapters.tables import account_settings, open_items


def customer_account(conn: Connection, tenant_id: str, customer_id: str, purpose: str, currency: str) -> str:
    return open_account(conn, tenant_id, f"customer:{customer_id}:{purpose}:{currency}", purpose, currency, no_overdraft=purpose == "wallet")


def platform_account(conn: Connection, tenant_id: str, purpose: str, currency: str) -> str:
    return open_account(conn, tenant_id, f"platform:{purpose}:{currency}", purpose, currency)


def save_account_settings(engine: Engine, tenant_id: str, customer_id: str, threshold: Money, schedule: str, method: str) -> dict:
    row = {"tenant_id": tenant_id, "customer_id": customer_id, "threshold_minor": threshold.minor, "schedule": schedule,
           "payment_method": method, "currency": threshold.currency}
    with engine.begin() as conn:
        conn.execute(account_settings.delete().where(account_settings.c.tenant_id == tenant_id, account_settings.c.customer_id == customer_id))
        conn.execute(account_settings.insert().values(**row))
    return row


def account_view(engine: Engine, tenant_id: str, customer_id: str, currency: str) -> dict[str, Any] | None:
    code = f"customer:{customer_id}:receivable:{currency}"
    with engine.connect() as conn:
        account_id = conn.execute(select(accounts.c.id).where(accounts.c.tenant_id == tenant_id, accounts.c.code == code)).scalar()
        items = conn.execute(select(open_items).where(open_items.c.tenant_id == tenant_id, open_items.c.customer_id == customer_id,
                                                      open_items.c.currency == currency).order_by(open_items.c.issue_date)).all()
        settings = conn.execute(select(account_settings).where(account_settings.c.tenant_id == tenant_id, account_settings.c.customer_id == customer_id)).first()
        if account_id is None and settings is None:
            return None
        debits, credits = balance(conn, account_id) if account_id else (0, 0)
        statement = []
        for e in account_entries(conn, account_id) if account_id else []:
            meta = e["meta"] or {}
            kind = "Gutschrift" if str(meta.get("number", "")).startswith(("GS", "CN")) or meta.get("credit") else "Rechnung"
            text = {"invoice": f"{kind} {meta.get('number', '')}", "payment": f"Geldeingang {meta.get('reference', '')}".strip()}.get(meta.get("kind"), meta.get("kind", ""))
            statement.append({"date": e["created_at"], "text": text, "amount_minor": e["credit"] - e["debit"]})
    return {
        "customer_id": customer_id, "currency": currency, "balance_minor": credits - debits, "charges_minor": debits,
        "received_minor": credits,
        "open_items": [{"invoice_id": i.invoice_id, "number": i.number, "issue_date": i.issue_date, "due_date": i.due_date,
                        "amount_minor": i.amount_minor, "paid_minor": i.paid_minor, "outstanding_minor": i.amount_minor - i.paid_minor}
                       for i in items if i.amount_minor != i.paid_minor],
        "threshold_minor": settings.threshold_minor if settings else 500,
        "schedule": settings.schedule if settings else "monthly",
        "payment_method": settings.payment_method if settings else "bank_transfer",
        "statement": statement,
    }
