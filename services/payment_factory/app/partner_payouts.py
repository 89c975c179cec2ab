"""Partner payouts: what issued statements say is due, paid by SEPA credit transfer (pain.001) or a Stripe transfer.

Each partner with issued, unpaid statements in the currency is paid what its
statements are due (gross minus fees netted), never more than its payable
holds; a payable that is negative after fees pays nothing and carries over.
Everything is checked before anything is sent or posted: one invalid IBAN
refuses the whole run. SEPA posts debit partner payable, credit bank; Stripe
posts debit partner payable, credit PSP clearing, after the transfer was
made with a key derived from ours, so a retried run transfers once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, select, update

from libs.ids import new_id
from services.payment_factory.adapters.partner_tables import partner_payouts, partner_statements
from services.payment_factory.adapters.sepa_files import CreditTransfer, check_iban, pain001
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.app.collection import SepaConfig
from services.payment_factory.app.partner_statements import unpaid_statements
from services.payment_factory.app.partners import PartnerRefused, load_partner, move_payable, not_found, payable_balance
from services.payment_factory.app.payments import request_hash
from services.payment_factory.domain.ledger_accounts import AccountPurpose
from services.payment_factory.domain.psp import PaymentProvider
from services.payment_factory.domain.sepa import SepaError
from services.payment_factory.domain.settlement import payout_amount


@dataclass(frozen=True)
class _Due:
    partner: object
    statement_ids: list[str]
    amount_minor: int


def run_payout(engine: Engine, books: SqlLedger, sepa: SepaConfig, stripe: PaymentProvider | None, tenant: str, key: str,
               currency: str, method: str, execution_date: date, partner_ids: list[str] | None) -> dict:
    digest = request_hash({"currency": currency, "method": method, "execution_date": execution_date,
                           "partner_ids": sorted(partner_ids or [])})
    with engine.begin() as conn:
        prior = conn.execute(select(partner_payouts).where(partner_payouts.c.tenant_id == tenant,
                                                           partner_payouts.c.idempotency_key == key)).first()
        if prior is not None:
            if prior.request_hash != digest:
                raise PartnerRefused("Idempotency-Key", "this key was used with a different request", 409, "idempotency-conflict")
            return payout_out(prior._mapping)
        for i, pid in enumerate(partner_ids or []):
            load_partner(conn, tenant, pid, f"partner_ids.{i}")
        due, carried = [], []
        for partner_id, statements in unpaid_statements(conn, tenant, currency, partner_ids).items():
            partner = load_partner(conn, tenant, partner_id)
            if not partner_ids and partner.payout_method != method:
                continue  # a run for everyone pays each partner the way it is paid
            owed = sum(int(s.net_minor) + int(s.tax_minor) - int(s.fees_minor) for s in statements)
            balance = payable_balance(books, conn, tenant, partner_id, currency)
            amount = payout_amount(balance, owed)
            if amount:
                due.append(_Due(partner, [s.id for s in statements], amount))
            else:
                carried.append({"partner_id": partner_id, "payable_minor": balance, "due_minor": owed})
        payout_id = new_id("ppo")
        xml = _sepa_file(sepa, payout_id, currency, execution_date, due) if method == "sepa" else None
        refs = _stripe_transfers(stripe, tenant, key, currency, due) if method == "stripe" else {}
        source = AccountPurpose.BANK if method == "sepa" else AccountPurpose.PSP_CLEARING
        items = []
        for d in due:
            pid = d.partner.partner_id
            transfer_id = move_payable(books, conn, tenant, pid, source, -d.amount_minor, currency, f"partner-payout:{key}:{pid}",
                                       {"kind": "partner_payout", "payout_id": payout_id, "reference": refs.get(pid, payout_id)})
            conn.execute(update(partner_statements).where(partner_statements.c.tenant_id == tenant, partner_statements.c.id.in_(d.statement_ids))
                         .values(payout_id=payout_id))
            items.append({"partner_id": pid, "amount_minor": d.amount_minor, "statement_ids": d.statement_ids, "transfer_id": transfer_id,
                          "provider_reference": refs.get(pid)})
        row = {"id": payout_id, "tenant_id": tenant, "idempotency_key": key, "request_hash": digest, "currency": currency,
               "method": method, "execution_date": execution_date, "total_minor": sum(i["amount_minor"] for i in items), "items": items,
               "carried": carried, "pain001": xml, "created_at": books.clock.now()}
        conn.execute(partner_payouts.insert().values(**row))
        return payout_out(row)


def _sepa_file(sepa: SepaConfig, payout_id: str, currency: str, execution_date: date, due: list[_Due]) -> str | None:
    if not due:
        return None
    if sepa.creditor is None:
        raise PartnerRefused("method", "the SEPA account payouts leave from is not configured")
    transfers = []
    for d in due:
        bank = d.partner.bank
        if not bank:
            raise PartnerRefused("bank", f"partner {d.partner.partner_id} has no bank account for a SEPA payout")
        try:
            check_iban(bank["iban"], "bank.iban")
        except SepaError as exc:
            raise PartnerRefused(exc.field, f"partner {d.partner.partner_id}: {exc.message}") from None
        transfers.append(CreditTransfer(f"{payout_id[-20:]}-{len(transfers) + 1}"[:35], bank["holder"], bank["iban"], bank.get("bic"),
                                        d.amount_minor, execution_date, f"Auszahlung Gutschrift {d.partner.code}"[:140]))
    try:
        return pain001(sepa.creditor.name, sepa.creditor.iban, sepa.creditor.bic, transfers, currency).decode()
    except SepaError as exc:
        raise PartnerRefused(exc.field if exc.field != "iban" else "bank.iban", exc.message) from None


def _stripe_transfers(stripe: PaymentProvider | None, tenant: str, key: str, currency: str, due: list[_Due]) -> dict[str, str]:
    if not due:
        return {}
    if stripe is None:
        raise PartnerRefused("method", "Stripe is not configured for this platform")
    missing = [d.partner.partner_id for d in due if not d.partner.stripe_account]
    if missing:
        raise PartnerRefused("stripe_account", f"partner {missing[0]} has no Stripe account to transfer to")
    return {d.partner.partner_id: stripe.transfer(f"partner-payout:{tenant}:{key}:{d.partner.partner_id}", d.amount_minor, currency,
                                                  d.partner.stripe_account) for d in due}


def payout_out(row) -> dict:
    return {k: row[k] for k in ("id", "currency", "method", "execution_date", "total_minor", "items", "carried", "pain001", "created_at")}


def get_payout(engine: Engine, tenant: str, payout_id: str) -> dict:
    with engine.connect() as conn:
        row = conn.execute(select(partner_payouts).where(partner_payouts.c.tenant_id == tenant, partner_payouts.c.id == payout_id)).first()
    if row is None:
        raise not_found("partner payout", payout_id, "payout_id")
    return payout_out(row._mapping)
