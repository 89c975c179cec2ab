"""Prepaid wallets: top-ups credit the customer's wallet, usage charges debit it and never overdraw it.

The wallet account forbids overdraft (AccountFlags.default_for), which the
ledger enforces under row locks, a guarded UPDATE and a CHECK constraint, so
a charge beyond the balance is refused with InsufficientFunds and writes nothing.
"""

from __future__ import annotations

from sqlalchemy import Engine

from libs.money import Money
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.app.accounts import customer_account, platform_account
from services.payment_factory.app.payments import source_purpose
from services.payment_factory.domain.ledger import Leg, TransferRequest
from services.payment_factory.domain.ledger_accounts import AccountPurpose


def _wallet_out(books: SqlLedger, conn, tenant: str, wallet_id: str, transfer_id: str, customer_id: str, currency: str) -> dict:
    b = books.balance(conn, tenant, wallet_id)
    return {"transfer_id": transfer_id, "customer_id": customer_id, "currency": currency,
            "wallet_minor": b.credits_posted - b.debits_posted - b.debits_pending}


def top_up(engine: Engine, books: SqlLedger, tenant: str, key: str, customer_id: str, amount: Money, method: str) -> dict:
    with engine.begin() as conn:
        wallet = customer_account(books, conn, tenant, customer_id, AccountPurpose.PREPAID_WALLET, amount.currency).id
        source = platform_account(books, conn, tenant, source_purpose(method), amount.currency).id
        trf = books.transfer(conn, tenant, TransferRequest(f"topup:{key}", (Leg(source, wallet, amount.minor, amount.currency),),
                                                           {"kind": "topup", "method": method}))
        return _wallet_out(books, conn, tenant, wallet, trf.id, customer_id, amount.currency)


def charge(engine: Engine, books: SqlLedger, tenant: str, key: str, customer_id: str, amount: Money, text: str) -> dict:
    """Spend from the wallet into revenue; beyond the balance it raises InsufficientFunds (nothing written)."""
    with engine.begin() as conn:
        wallet = customer_account(books, conn, tenant, customer_id, AccountPurpose.PREPAID_WALLET, amount.currency).id
        revenue = platform_account(books, conn, tenant, AccountPurpose.REVENUE, amount.currency).id
        trf = books.transfer(conn, tenant, TransferRequest(f"wallet-charge:{key}", (Leg(wallet, revenue, amount.minor, amount.currency),),
                                                           {"kind": "wallet_charge", "reference": text}))
        return _wallet_out(books, conn, tenant, wallet, trf.id, customer_id, amount.currency)
