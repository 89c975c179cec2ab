"""Partners as the payment factory knows them: master data from PartnerChanged, their payable account, fees, the account view.

A partner's payable (PARTNER_PAYABLE, one per currency) is what the platform
owes it: shares credit it, reversals and fees debit it, the VAT on its
statements credits it, payouts debit it. Its balance is what a payout can pay.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, Engine, select

from libs.contracts.events import PartnerChanged
from libs.platform.inbox import insert_ignoring_duplicates
from services.payment_factory.adapters.partner_tables import partners, revenue_sharing_settings
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.app.accounts import find_account_id, platform_account
from services.payment_factory.domain.ledger import Leg, TransferRequest
from services.payment_factory.domain.ledger_accounts import Account, AccountPurpose, AccountSpec
from services.payment_factory.domain.settlement import SettlementBasis


class PartnerRefused(Exception):
    """A revenue-sharing request refused before anything was written; `field` names what was wrong."""

    def __init__(self, field: str, reason: str, status: int = 422, slug: str = "partner-refused"):
        super().__init__(reason)
        self.field, self.reason, self.status, self.slug = field, reason, status, slug


def not_found(what: str, ident: str, field: str) -> PartnerRefused:
    return PartnerRefused(field, f"no {what} {ident!r} in this tenant", 404, "not-found")


# directory


def upsert_partner(engine: Engine, tenant: str, event: PartnerChanged, at: datetime) -> None:
    """The partner's master data as announced; a redelivered or repeated announcement leaves the same row."""
    row = {"tenant_id": tenant, "partner_id": event.partner_id, "code": event.code, "name": event.party.name,
           "party": event.party.model_dump(mode="json"), "role": event.role, "parent_id": event.parent_id,
           "bank": event.bank.model_dump(mode="json") if event.bank else None, "stripe_account": event.stripe_account,
           "payout_method": event.payout_method, "active": event.active, "updated_at": at}
    p = partners.c
    with engine.begin() as conn:
        if not insert_ignoring_duplicates(conn, partners, [row], ["tenant_id", "partner_id"]):
            # last announcement wins, unless an older one arrives late
            conn.execute(partners.update().where(p.tenant_id == tenant, p.partner_id == event.partner_id, p.updated_at <= at)
                         .values(**{k: v for k, v in row.items() if k not in ("tenant_id", "partner_id")}))


def load_partner(conn: Connection, tenant: str, partner_id: str, field: str = "partner_id"):
    row = conn.execute(select(partners).where(partners.c.tenant_id == tenant, partners.c.partner_id == partner_id)).first()
    if row is None:
        raise not_found("partner", partner_id, field)
    return row


def payable_code(partner_id: str, currency: str) -> str:
    return f"partner:{partner_id}:{AccountPurpose.PARTNER_PAYABLE.value}:{currency}"


def payable_account(books: SqlLedger, conn: Connection, tenant: str, partner_id: str, currency: str) -> Account:
    spec = AccountSpec(payable_code(partner_id, currency), AccountPurpose.PARTNER_PAYABLE, currency, "partner", partner_id)
    return books.open_account(conn, tenant, spec)


def payable_balance(books: SqlLedger, conn: Connection, tenant: str, partner_id: str, currency: str) -> int:
    """What the platform owes the partner (negative: what the partner owes the platform)."""
    account_id = find_account_id(conn, tenant, payable_code(partner_id, currency))
    if account_id is None:
        return 0
    bal = books.balance(conn, tenant, account_id)
    return bal.credits_posted - bal.debits_posted


def move_payable(books: SqlLedger, conn: Connection, tenant: str, partner_id: str, purpose: AccountPurpose, amount: int, currency: str,
                 key: str, metadata: dict) -> str:
    """Credit the partner's payable by `amount` against the platform account (a negative amount debits it); the transfer id."""
    payable = payable_account(books, conn, tenant, partner_id, currency).id
    other = platform_account(books, conn, tenant, purpose, currency).id
    leg = Leg(other, payable, amount, currency) if amount > 0 else Leg(payable, other, -amount, currency)
    return books.transfer(conn, tenant, TransferRequest(key, (leg,), {**metadata, "partner_id": partner_id})).id


# settings


def settlement_basis(conn: Connection, tenant: str) -> SettlementBasis:
    value = conn.execute(select(revenue_sharing_settings.c.settlement_basis)
                         .where(revenue_sharing_settings.c.tenant_id == tenant)).scalar()
    return SettlementBasis(value or SettlementBasis.CASH.value)


def get_settings(engine: Engine, tenant: str) -> dict:
    with engine.connect() as conn:
        return {"settlement_basis": settlement_basis(conn, tenant).value}


def save_settings(engine: Engine, books: SqlLedger, tenant: str, basis: SettlementBasis) -> dict:
    """The basis applies to invoices issued from now on; an invoice keeps the basis it was issued under."""
    s = revenue_sharing_settings
    with engine.begin() as conn:
        conn.execute(s.delete().where(s.c.tenant_id == tenant))
        conn.execute(s.insert().values(tenant_id=tenant, settlement_basis=basis.value, updated_at=books.clock.now()))
    return {"settlement_basis": basis.value}


# the partner's account


_TEXTS = {"revenue_share": "Anteil", "partner_fee": "Gebühr", "statement_vat": "Umsatzsteuer Gutschrift", "partner_payout": "Auszahlung"}


def _text(meta: dict) -> str:
    label = _TEXTS.get(meta.get("kind", ""), meta.get("kind", ""))
    return f"{label} {meta.get('number') or meta.get('reference') or ''}".strip()


def partner_account(engine: Engine, books: SqlLedger, tenant: str, partner_id: str, currency: str) -> dict[str, Any]:
    """The partner's payable: its balance and every posting on it, oldest first."""
    with engine.connect() as conn:
        load_partner(conn, tenant, partner_id)
        account_id = find_account_id(conn, tenant, payable_code(partner_id, currency))
        statement = None
        if account_id is not None:
            statement = books.statement(conn, tenant, account_id, datetime(2000, 1, 1, tzinfo=timezone.utc),
                                        books.clock.now() + timedelta(seconds=1))
    lines = [{"date": l.at, "text": _text(dict(l.metadata)), "kind": l.metadata.get("kind", ""), "amount_minor": l.credit - l.debit,
              "transfer_id": l.transfer_id} for l in (statement.lines if statement else ())]
    return {"partner_id": partner_id, "currency": currency, "balance_minor": sum(l["amount_minor"] for l in lines), "entries": lines}
