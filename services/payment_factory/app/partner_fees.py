"""Partner fees: what a partner owes the platform, debited from its payable and netted on its next statement."""

from __future__ import annotations

from sqlalchemy import Engine, select

from libs.ids import new_id
from services.payment_factory.adapters.partner_tables import partner_fees
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.app.partners import PartnerRefused, load_partner, move_payable
from services.payment_factory.app.payments import request_hash
from services.payment_factory.domain.ledger_accounts import AccountPurpose


def charge_fee(engine: Engine, books: SqlLedger, tenant: str, key: str, partner_id: str, currency: str, amount_minor: int,
               description: str) -> dict:
    """What the partner owes the platform: debits its payable (credit platform fees) and is netted on its next statement."""
    digest = request_hash({"partner_id": partner_id, "currency": currency, "amount_minor": amount_minor, "description": description})
    f = partner_fees.c
    with engine.begin() as conn:
        prior = conn.execute(select(partner_fees).where(f.tenant_id == tenant, f.idempotency_key == key)).first()
        if prior is not None:
            if prior.request_hash != digest:
                raise PartnerRefused("Idempotency-Key", "this key was used with a different request", 409, "idempotency-conflict")
            return fee_out(prior._mapping)
        load_partner(conn, tenant, partner_id)
        fee_id = new_id("pfee")
        transfer_id = move_payable(books, conn, tenant, partner_id, AccountPurpose.PLATFORM_FEES, -amount_minor, currency,
                                   f"partner-fee:{key}", {"kind": "partner_fee", "fee_id": fee_id, "reference": description})
        row = {"id": fee_id, "tenant_id": tenant, "partner_id": partner_id, "currency": currency, "amount_minor": amount_minor,
               "description": description, "idempotency_key": key, "request_hash": digest, "transfer_id": transfer_id,
               "statement_id": None, "created_at": books.clock.now()}
        conn.execute(partner_fees.insert().values(**row))
        return fee_out(row)


def fee_out(row) -> dict:
    return {k: row[k] for k in ("id", "partner_id", "currency", "amount_minor", "description", "transfer_id", "statement_id", "created_at")}
