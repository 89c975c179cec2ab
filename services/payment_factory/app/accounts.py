"""Accounts as users see them: ledger accounts per customer and purpose, and the account screen.

The balance shown is money received minus charges (the product screens'
"Kontostand"): negative while the customer owes, zero when settled,
positive when the customer has credit. It is read from the customer's
receivable in the ledger, so the screen can never disagree with the books.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, event, select

from libs.money import Money
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import account_settings, ledger, open_items
from services.payment_factory.domain.ledger_accounts import Account, AccountPurpose, AccountSpec

DEFAULT_THRESHOLD_MINOR = 500
DEFAULT_SCHEDULE = "monthly"
DEFAULT_METHOD = "bank_transfer"


def customer_code(customer_id: str, purpose: AccountPurpose, currency: str) -> str:
    return f"customer:{customer_id}:{purpose.value}:{currency}"


def customer_account(books: SqlLedger, conn: Connection, tenant_id: str, customer_id: str, purpose: AccountPurpose,
                     currency: str) -> Account:
    """The customer's account for this purpose and currency, opened on first use (a wallet forbids overdraft)."""
    return books.open_account(conn, tenant_id, _customer_spec(customer_id, purpose, currency))


def platform_account(books: SqlLedger, conn: Connection, tenant_id: str, purpose: AccountPurpose, currency: str) -> Account:
    return books.open_account(conn, tenant_id, _platform_spec(purpose, currency))


def _customer_spec(customer_id: str, purpose: AccountPurpose, currency: str) -> AccountSpec:
    return AccountSpec(customer_code(customer_id, purpose, currency), purpose, currency, "customer", customer_id)


def platform_code(purpose: AccountPurpose, currency: str) -> str:
    return f"platform:{purpose.value}:{currency}"


def _platform_spec(purpose: AccountPurpose, currency: str) -> AccountSpec:
    return AccountSpec(platform_code(purpose, currency), purpose, currency, "platform")


# Account ids never change once committed, so hot paths remember them per ledger (one per service container).
_REMEMBERED: WeakKeyDictionary[SqlLedger, dict[tuple[str, str], str]] = WeakKeyDictionary()


def known_account_id(books: SqlLedger, tenant_id: str, code: str) -> str | None:
    """The id of an account this process has seen committed, without a database round trip."""
    return _REMEMBERED.get(books, {}).get((tenant_id, code))


def remembered_account_id(books: SqlLedger, conn: Connection, tenant_id: str, spec: AccountSpec) -> str:
    """The account's id, opened on first use; remembered once `conn`'s transaction has committed (never before:
    a rolled-back opening must not leave an id behind that no transaction can see)."""
    known = _REMEMBERED.setdefault(books, {})
    found = known.get((tenant_id, spec.code))
    if found is not None:
        return found
    account_id = books.open_account(conn, tenant_id, spec).id
    event.listen(conn, "commit", lambda _: known.setdefault((tenant_id, spec.code), account_id), once=True)
    return account_id


def customer_account_id(books: SqlLedger, conn: Connection, tenant_id: str, customer_id: str, purpose: AccountPurpose,
                        currency: str) -> str:
    return remembered_account_id(books, conn, tenant_id, _customer_spec(customer_id, purpose, currency))


def platform_account_id(books: SqlLedger, conn: Connection, tenant_id: str, purpose: AccountPurpose, currency: str) -> str:
    return remembered_account_id(books, conn, tenant_id, _platform_spec(purpose, currency))


def find_account_id(conn: Connection, tenant_id: str, code: str) -> str | None:
    """An existing account's id, without opening one (reads must not write)."""
    a = ledger.accounts.c
    return conn.execute(select(a.id).where(a.tenant_id == tenant_id, a.code == code)).scalar()


def save_account_settings(engine: Engine, tenant_id: str, customer_id: str, threshold: Money, schedule: str, method: str,
                          method_ref: str | None = None) -> dict:
    row = {"tenant_id": tenant_id, "customer_id": customer_id, "threshold_minor": threshold.minor, "schedule": schedule,
           "payment_method": method, "currency": threshold.currency, "payment_method_ref": method_ref}
    with engine.begin() as conn:
        conn.execute(account_settings.delete().where(account_settings.c.tenant_id == tenant_id, account_settings.c.customer_id == customer_id))
        conn.execute(account_settings.insert().values(**row))
    return row


def load_settings(conn: Connection, tenant_id: str, customer_id: str):
    return conn.execute(select(account_settings).where(account_settings.c.tenant_id == tenant_id,
                                                       account_settings.c.customer_id == customer_id)).first()


_TEXTS = {"invoice": "Rechnung", "credit_note": "Gutschrift", "payment": "Geldeingang", "refund": "Erstattung",
          "chargeback": "Rückbuchung", "dunning_fee": "Mahngebühr", "return": "Rücklastschrift"}


def _line_text(meta: dict) -> str:
    kind = meta.get("kind", "")
    label = _TEXTS.get(kind, kind)
    if kind == "invoice" and meta.get("credit"):
        label = _TEXTS["credit_note"]
    ref = meta.get("number") or meta.get("reference") or ""
    return f"{label} {ref}".strip()


def account_view(engine: Engine, books: SqlLedger, tenant_id: str, customer_id: str, currency: str,
                 start: datetime | None = None, end: datetime | None = None) -> dict[str, Any] | None:
    """The account screen; the statement covers [start, end) (default: everything up to now)."""
    start = start or datetime(2000, 1, 1, tzinfo=timezone.utc)
    end = end or books.clock.now() + timedelta(seconds=1)
    with engine.connect() as conn:
        account_id = find_account_id(conn, tenant_id, customer_code(customer_id, AccountPurpose.CUSTOMER_RECEIVABLE, currency))
        wallet_id = find_account_id(conn, tenant_id, customer_code(customer_id, AccountPurpose.PREPAID_WALLET, currency))
        items = conn.execute(select(open_items).where(open_items.c.tenant_id == tenant_id, open_items.c.customer_id == customer_id,
                                                      open_items.c.currency == currency).order_by(open_items.c.issue_date)).all()
        settings = load_settings(conn, tenant_id, customer_id)
        if account_id is None and settings is None and wallet_id is None:
            return None
        bal = books.balance(conn, tenant_id, account_id) if account_id else None
        statement = books.statement(conn, tenant_id, account_id, start, end) if account_id else None
        wallet = books.balance(conn, tenant_id, wallet_id) if wallet_id else None
    debits, credits = (bal.debits_posted, bal.credits_posted) if bal else (0, 0)
    lines = [{"date": l.at, "text": _line_text(dict(l.metadata)), "amount_minor": l.credit - l.debit, "transfer_id": l.transfer_id}
             for l in (statement.lines if statement else ())]
    opening = (statement.opening.credits_posted - statement.opening.debits_posted) if statement else 0
    return {
        "customer_id": customer_id, "currency": currency, "balance_minor": credits - debits, "charges_minor": debits,
        "received_minor": credits,
        "wallet_minor": (wallet.credits_posted - wallet.debits_posted - wallet.debits_pending) if wallet else 0,
        "open_items": [{"invoice_id": i.invoice_id, "number": i.number, "issue_date": i.issue_date, "due_date": i.due_date,
                        "amount_minor": i.amount_minor, "paid_minor": i.paid_minor, "outstanding_minor": i.amount_minor - i.paid_minor}
                       for i in items if i.amount_minor != i.paid_minor],
        "threshold_minor": settings.threshold_minor if settings else DEFAULT_THRESHOLD_MINOR,
        "schedule": settings.schedule if settings else DEFAULT_SCHEDULE,
        "payment_method": settings.payment_method if settings else DEFAULT_METHOD,
        "statement_from": start, "statement_to": end,
        "opening_balance_minor": opening,
        "closing_balance_minor": opening + sum(l["amount_minor"] for l in lines),
        "statement": lines,
    }
