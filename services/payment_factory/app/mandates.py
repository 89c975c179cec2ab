"""SEPA mandates: recorded once checked (IBAN, BIC, creditor id, reference), revoked when a bank says so."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Engine, select, update

from libs.ids import new_id
from libs.clock import Clock
from services.payment_factory.adapters.sepa_files import bic_for, check_iban
from services.payment_factory.adapters.tables import sepa_mandates
from services.payment_factory.domain.sepa import Mandate, MandateKind, Scheme, SepaError, check_creditor_id, check_mandate_reference


class MandateRefused(Exception):
    def __init__(self, field: str, reason: str, status: int = 422, slug: str = "mandate-refused"):
        super().__init__(reason)
        self.field, self.reason, self.status, self.slug = field, reason, status, slug


def create_mandate(engine: Engine, clock: Clock, tenant: str, customer_id: str, reference: str, creditor_id: str, scheme: str,
                   kind: str, signed_on: date, debtor_name: str, iban: str, bic: str | None) -> dict:
    try:
        ref = check_mandate_reference(reference)
        cid = check_creditor_id(creditor_id)
        account = check_iban(iban)
        bank = bic_for(account, bic)
    except SepaError as exc:
        raise MandateRefused(exc.field, exc.message) from None
    if signed_on > clock.now().date():
        raise MandateRefused("signed_on", "a mandate cannot be signed in the future")
    row = {"id": new_id("mdt"), "tenant_id": tenant, "customer_id": customer_id, "reference": ref, "creditor_id": cid,
           "scheme": Scheme(scheme).value, "kind": MandateKind(kind).value, "signed_on": signed_on, "debtor_name": debtor_name,
           "iban": account.compact, "bic": bank, "last_used_on": None, "revoked": False, "created_at": clock.now()}
    with engine.begin() as conn:
        prior = conn.execute(select(sepa_mandates).where(sepa_mandates.c.tenant_id == tenant, sepa_mandates.c.reference == ref)).first()
        if prior is not None:
            raise MandateRefused("reference", f"mandate reference {ref!r} is already used", 409, "mandate-exists")
        conn.execute(sepa_mandates.insert().values(**row))
    return mandate_out(row)


def mandate_out(row) -> dict:
    return {k: row[k] for k in ("id", "customer_id", "reference", "creditor_id", "scheme", "kind", "signed_on", "debtor_name", "iban",
                                "bic", "last_used_on", "revoked")}


def load_mandate(conn: Connection, tenant: str, mandate_id: str) -> Mandate:
    row = conn.execute(select(sepa_mandates).where(sepa_mandates.c.tenant_id == tenant, sepa_mandates.c.id == mandate_id)).first()
    if row is None:
        raise MandateRefused("mandate_id", f"unknown mandate {mandate_id!r}", 404, "not-found")
    return to_mandate(row)


def to_mandate(row) -> Mandate:
    return Mandate(row.reference, row.creditor_id, Scheme(row.scheme), MandateKind(row.kind), row.signed_on, row.debtor_name, row.iban,
                   row.bic, row.last_used_on, row.revoked)


def active_mandate(conn: Connection, tenant: str, customer_id: str, day: date):
    """The customer's newest usable mandate row, or None."""
    rows = conn.execute(select(sepa_mandates).where(sepa_mandates.c.tenant_id == tenant, sepa_mandates.c.customer_id == customer_id)
                        .order_by(sepa_mandates.c.signed_on.desc())).all()
    return next((r for r in rows if to_mandate(r).usable_on(day)), None)


def mark_used(conn: Connection, tenant: str, mandate_id: str, day: date) -> None:
    conn.execute(update(sepa_mandates).where(sepa_mandates.c.tenant_id == tenant, sepa_mandates.c.id == mandate_id).values(last_used_on=day))


def revoke(conn: Connection, tenant: str, mandate_id: str) -> None:
    conn.execute(update(sepa_mandates).where(sepa_mandates.c.tenant_id == tenant, sepa_mandates.c.id == mandate_id).values(revoked=True))
