"""Prepaid wallets: top-ups credit the customer's wallet, usage charges debit it and never overdraw it.

The wallet account forbids overdraft (AccountFlags.default_for), which the
ledger enforces under row locks, a guarded UPDATE and a CHECK constraint, so
a charge beyond the balance is refused with InsufficientFunds and writes nothing.
"""

from __future__ import annotations

from sqlalchemy import Engine

from libs.money import Money
from services.payment_factory.adapters.group_commit import GroupCommitWriter
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.app.accounts import (customer_account, customer_account_id, customer_code, known_account_id,
                                                   platform_account, platform_account_id, platform_code)
from services.payment_factory.app.payments import source_purpose
from services.payment_factory.domain.ledger import Leg, TransferRequest
from services.payment_factory.domain.ledger_accounts import AccountPurpose, Balance


def _wallet_out(books: SqlLedger, conn, tenant: str, wallet_id: str, transfer_id: str, customer_id: str, currency: str) -> dict:
    return _wallet_answer(books.balance(conn, tenant, wallet_id), transfer_id, customer_id, currency)


def _wallet_answer(b: Balance, transfer_id: str, customer_id: str, currency: str) -> dict:
    """What a wallet write answers: the wallet's spendable money (holds count as spent)."""
    return {"transfer_id": transfer_id, "customer_id": customer_id, "currency": currency,
            "wallet_minor": b.credits_posted - b.debits_posted - b.debits_pending}


def top_up(engine: Engine, books: SqlLedger, tenant: str, key: str, customer_id: str, amount: Money, method: str) -> dict:
    with engine.begin() as conn:
        wallet = customer_account(books, conn, tenant, customer_id, AccountPurpose.PREPAID_WALLET, amount.currency).id
        source = platform_account(books, conn, tenant, source_purpose(method), amount.currency).id
        trf = books.transfer(conn, tenant, TransferRequest(f"topup:{key}", (Leg(source, wallet, amount.minor, amount.currency),),
                                                           {"kind": "topup", "method": method}))
        return _wallet_out(books, conn, tenant, wallet, trf.id, customer_id, amount.currency)


def _charge_accounts(engine: Engine, books: SqlLedger, tenant: str, customer_id: str, currency: str) -> tuple[str, str]:
    """The wallet and revenue ids: remembered ones without a round trip, else opened in a transaction committed here."""
    wallet = known_account_id(books, tenant, customer_code(customer_id, AccountPurpose.PREPAID_WALLET, currency))
    revenue = known_account_id(books, tenant, platform_code(AccountPurpose.REVENUE, currency))
    if wallet is None or revenue is None:
        with engine.begin() as conn:
            wallet = customer_account_id(books, conn, tenant, customer_id, AccountPurpose.PREPAID_WALLET, currency)
            revenue = platform_account_id(books, conn, tenant, AccountPurpose.REVENUE, currency)
    return wallet, revenue


def charge(engine: Engine, books: SqlLedger, writer: GroupCommitWriter, tenant: str, key: str, customer_id: str, amount: Money,
           text: str) -> dict:
    """Spend from the wallet into revenue; beyond the balance it raises InsufficientFunds (nothing written).

    Wallet charges are the ledger's hot path (every metered purchase of a prepaid customer), so the transfer goes through
    the group-commit writer: concurrent charges share one transaction and one WAL flush, and this call returns only after
    that commit, so a 201 still means durable. The writer's transaction must see both accounts, so they are opened (or
    found) in a transaction of their own that has committed before the charge is handed over; their ids are then
    remembered by the process (accounts are never deleted). The balance answered is the wallet's right after this
    charge, from the row the writer locked; a replayed key answers the balance now.
    """
    wallet, revenue = _charge_accounts(engine, books, tenant, customer_id, amount.currency)
    trf = writer.transfer(tenant, TransferRequest(f"wallet-charge:{key}", (Leg(wallet, revenue, amount.minor, amount.currency),),
                                                  {"kind": "wallet_charge", "reference": text}))
    if trf.balances_after is not None:  # known from the rows the writer locked: no read, which 256 callers would queue for
        return _wallet_answer(trf.balances_after[wallet], trf.id, customer_id, amount.currency)
    with engine.connect() as conn:  # a replay: the balance now
        return _wallet_out(books, conn, tenant, wallet, trf.id, customer_id, amount.currency)
