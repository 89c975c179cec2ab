"""Bank refunds paid out as a SEPA credit-transfer file (pain.001).

Refunds of payments that came by bank (transfer or direct debit) are owed
back to an account, not a card: each run gathers the tenant's refunds not yet
in a file and writes them to one, to the IBAN of the customer's newest
mandate. A refund without a known IBAN is left out and reported, to be paid
by hand. A file is idempotent per key, and a refund is in at most one file.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select, update

from libs.ids import new_id
from services.payment_factory.adapters.sepa_files import CreditTransfer, pain001
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import credit_transfer_files, payment_reversals, payments, sepa_mandates
from services.payment_factory.app.collection import CollectionRefused, SepaConfig
from services.payment_factory.app.payments import BANK_METHODS
from services.payment_factory.domain.sepa import SepaError


def credit_transfer_file(engine: Engine, books: SqlLedger, sepa: SepaConfig, tenant: str, key: str, execution_date: date) -> dict:
    if sepa.creditor is None:
        raise CollectionRefused("creditor", "the SEPA account refunds leave from is not configured")
    with engine.begin() as conn:
        prior = conn.execute(select(credit_transfer_files).where(credit_transfer_files.c.tenant_id == tenant,
                                                                 credit_transfer_files.c.idempotency_key == key)).first()
        if prior is not None:
            return {**_out(prior._mapping), "skipped": []}
        r, p = payment_reversals.c, payments.c
        due = conn.execute(select(payment_reversals, p.customer_id, p.currency).join(payments, p.id == r.payment_id)
                           .where(r.tenant_id == tenant, r.kind == "refund", r.credit_transfer_file_id.is_(None), p.method.in_(BANK_METHODS))
                           .order_by(r.created_at)).all()
        transfers, skipped, ids = [], [], []
        for row in due:
            mandate = conn.execute(select(sepa_mandates).where(sepa_mandates.c.tenant_id == tenant, sepa_mandates.c.customer_id == row.customer_id)
                                   .order_by(sepa_mandates.c.signed_on.desc()).limit(1)).first()
            if mandate is None:
                skipped.append({"refund_id": row.id, "reason": "no IBAN known for the customer"})
                continue
            transfers.append(CreditTransfer(row.id[:35], mandate.debtor_name, mandate.iban, mandate.bic, int(row.amount_minor), execution_date,
                                            f"Erstattung {row.reason}".strip()[:140]))
            ids.append(row.id)
        try:
            xml = pain001(sepa.creditor.name, sepa.creditor.iban, sepa.creditor.bic, transfers).decode() if transfers else None
        except SepaError as exc:
            raise CollectionRefused(exc.field, exc.message) from None
        file = {"id": new_id("ctf"), "tenant_id": tenant, "idempotency_key": key, "execution_date": execution_date,
                "transfers": len(transfers), "total_minor": sum(t.amount_minor for t in transfers), "pain001": xml,
                "created_at": books.clock.now()}
        conn.execute(credit_transfer_files.insert().values(**file))
        if ids:
            conn.execute(update(payment_reversals).where(payment_reversals.c.id.in_(ids)).values(credit_transfer_file_id=file["id"]))
        return {**_out(file), "skipped": skipped}


def _out(row) -> dict:
    return {k: row[k] for k in ("id", "execution_date", "transfers", "total_minor", "pain001")}
