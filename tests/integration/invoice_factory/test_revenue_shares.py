"""Revenue sharing in the invoice factory, on SQLite and PostgreSQL: partners' shares announced with each invoice,
taken back by its credit notes, never printed for the customer; partner statements (389) issued on request once,
refused ones dead-lettered."""

import os
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from libs.contracts import decode, encode, topics
from libs.contracts.envelope import Envelope
from libs.contracts.events import (
    DraftLine, InvoiceRequested, LineShare, PartnerBank, PartnerStatementRequested, PartySnapshot,
)
from libs.platform.bus.port import Message
from services.invoice_factory.adapters.rendering import render_xml
from services.invoice_factory.adapters.tables import invoices, outbox
from services.invoice_factory.app.cancellation import cancel_invoice, credit_invoice
from services.invoice_factory.app.documents import document_snapshot, render_snapshot, to_domain
from services.invoice_factory.app.issuing import finalize_draft, issue_invoice
from services.invoice_factory.app.settings_store import save_profile
from services.invoice_factory.bootstrap import InvoiceContainer
from services.invoice_factory.entrypoints.consumers import make_handler
from services.invoice_factory.settings import InvoiceSettings
from tests.support.cycle import SELLER, pdf_text
from tests.support.pg import require

TENANT = "ten_rs"
TODAY = date(2026, 12, 1)
CUSTOMER = PartySnapshot(id="cus-1", name="Muster GmbH", street="Musterstraße 42", postcode="12345", city="Musterstadt",
                         vat_id="DE987654321")


@pytest.fixture(params=["sqlite", "postgres"])
def container(request, tmp_path):
    url, schema = None, "invoice"
    if request.param == "postgres":
        require("CLOUDBILL_PG_URL")
        url, schema = os.environ["CLOUDBILL_PG_URL"], f"rs_{uuid.uuid4().hex[:8]}"
    c = InvoiceContainer(InvoiceSettings(data_dir=tmp_path, database_url=url, database_schema=schema))
    save_profile(c.engine, TENANT, SELLER)
    yield c
    c.close()


def share(partner: str, amount: int, rule: str = "rule-1") -> LineShare:
    return LineShare(partner_id=partner, rule_id=rule, amount_minor=amount, role="service", basis=f"{partner} {rule}")


def fee(description: str, net_minor: int, *shares: LineShare, kind: str = "fee") -> DraftLine:
    return DraftLine(charge_code=kind, description=description, kind=kind, quantity=1, unit_price=f"{abs(net_minor) / 100:.2f}",
                     net_minor=net_minor, shares=list(shares))


LINES = [
    fee("Fahrten November", 10000, share("p-fahrzeug", 2000), share("p-wartung", 1500, "rule-2")),
    fee("Parken November", 5000, share("p-fahrzeug", 1000, "rule-3")),
    fee("Rabatt Treuekunde", -1000, share("p-fahrzeug", -200), kind="discount"),
    fee("Support", 3000, share("p-support", 100), share("p-support", -100, "rule-4")),  # sums to 0: not announced
    fee("Plattformgebühr", 900),
]


def invoice_request(request_id: str = "req-1", lines=LINES) -> InvoiceRequested:
    return InvoiceRequested(request_id=request_id, billing_run_id="run-1", subscription_id="sub-1", customer=CUSTOMER,
                            currency="EUR", period_start=date(2026, 11, 1), period_end=date(2026, 11, 30), lines=lines)


def envelope(body, message_id: str | None = None) -> Envelope:
    return Envelope(id=message_id or f"m-{uuid.uuid4().hex[:8]}", type=body.TYPE, tenant_id=TENANT, body={})


def published(engine, topic: str) -> list:
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.table.c.payload).where(outbox.table.c.topic == topic).order_by(outbox.table.c.seq))
        return [decode(payload)[1] for (payload,) in rows]


def shares_of(event) -> dict[str, int]:
    return {s.partner_id: s.net_minor for s in event.shares}


def issued(engine, invoice_id: str):
    return next(e for e in published(engine, topics.INVOICES) if e.invoice_id == invoice_id)


def test_an_invoice_announces_each_partners_summed_shares(container):
    invoice_id = issue_invoice(container.engine, envelope(invoice_request()), invoice_request(), TODAY)
    event = issued(container.engine, invoice_id)
    assert (event.type_code, event.net_minor, event.statement_id) == ("380", 17900, None)
    assert [(s.partner_id, s.net_minor) for s in event.shares] == [("p-fahrzeug", 2800), ("p-wartung", 1500)]


def test_a_draft_finalized_later_announces_its_shares(container):
    save_profile(container.engine, TENANT, {**SELLER, "review_drafts": True})
    invoice_id = issue_invoice(container.engine, envelope(invoice_request()), invoice_request(), TODAY)
    assert published(container.engine, topics.INVOICES) == []
    finalize_draft(container.engine, TENANT, invoice_id, date(2026, 12, 3))
    assert shares_of(issued(container.engine, invoice_id)) == {"p-fahrzeug": 2800, "p-wartung": 1500}


def test_partial_credit_notes_take_back_shares_in_proportion_and_a_cancellation_takes_back_the_rest(container):
    engine = container.engine
    invoice_id = issue_invoice(engine, envelope(invoice_request()), invoice_request(), TODAY)
    # a third of line 1 (10000: 2000 vehicle, 1500 maintenance, 6500 platform): 666.6 / 499.95 / 2166.45, largest remainder
    first = credit_invoice(engine, TENANT, invoice_id, "Ausfall", TODAY, {1: 3333}, key="k1")
    assert shares_of(issued(engine, first)) == {"p-fahrzeug": 667, "p-wartung": 500}
    second = credit_invoice(engine, TENANT, invoice_id, "Kulanz", TODAY, {1: 1, 2: 2500}, key="k2")
    assert shares_of(issued(engine, second)) == {"p-fahrzeug": 500}  # 0.2 + 0.15 of a cent round to nothing; half of 1000
    assert credit_invoice(engine, TENANT, invoice_id, "Kulanz", TODAY, {1: 1, 2: 2500}, key="k2") == second  # no new note
    cancellation = cancel_invoice(engine, TENANT, invoice_id, "Vertrag beendet", TODAY)
    last = issued(engine, cancellation)
    assert shares_of(last) == {"p-fahrzeug": 2800 - 667 - 500, "p-wartung": 1000}
    notes = [e for e in published(engine, topics.INVOICES) if e.type_code == "381"]
    assert [e.invoice_id for e in notes] == [first, second, cancellation]
    assert all(e.net_minor > 0 and all(s.net_minor > 0 for s in e.shares) for e in notes)  # positive like their amounts
    taken = {}
    for note in notes:
        for partner, amount in shares_of(note).items():
            taken[partner] = taken.get(partner, 0) + amount
    assert taken == shares_of(issued(engine, invoice_id))
    assert sum(e.net_minor for e in notes) == 17900


def test_cancelling_an_invoice_at_once_takes_back_every_share(container):
    invoice_id = issue_invoice(container.engine, envelope(invoice_request()), invoice_request(), TODAY)
    cancellation = cancel_invoice(container.engine, TENANT, invoice_id, "Storno", TODAY)
    assert shares_of(issued(container.engine, cancellation)) == {"p-fahrzeug": 2800, "p-wartung": 1500}


def test_shares_never_appear_on_the_customers_documents():
    lines = [fee("Fahrten November", 10000, LineShare(partner_id="p-fahrzeug-secret", rule_id="rule-quota-x", amount_minor=2347,
                                                       role="operator-x", basis="23.47% of 100.00"),
                  share("p-wartung-secret", 1589, "rule-maint-y"))]
    snapshot = {**document_snapshot(invoice_request(lines=lines), SELLER, "inv-1", TODAY), "number": "RE-000001"}
    pdf, cii, _ = render_snapshot(snapshot)
    ubl = render_xml(to_domain(snapshot), "xrechnung-ubl")
    documents = {"pdf": pdf_text(pdf), "cii": cii.decode(), "ubl": ubl.decode()}
    assert "Fahrten November" in documents["pdf"] and "100,00" in documents["pdf"]  # the text is really there to search
    forbidden = ["p-fahrzeug-secret", "p-wartung-secret", "rule-quota-x", "rule-maint-y", "operator-x", "23.47%",
                 "23,47", "23.47", "15,89", "15.89", "39,36", "39.36", "60,64", "60.64"]  # shares, their sum, the platform's rest
    for kind, text in documents.items():
        assert [word for word in forbidden if word in text] == [], kind


PARTNER = PartySnapshot(id="p-fahrzeug", name="Fahrzeug Partner GmbH", street="Werkstraße 5", postcode="80331", city="München",
                        vat_id="DE811907980", email="abrechnung@partner.example")
BANK = PartnerBank(holder="Fahrzeug Partner GmbH", iban="DE02120300000000202051")


def statement_request(statement_id: str = "st-2026-11-p-fahrzeug", **changes) -> PartnerStatementRequested:
    fields = dict(statement_id=statement_id, partner=PARTNER, bank=BANK, currency="EUR",
                  period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
                  lines=[DraftLine(charge_code="partner-share", description="Anteil Fahrten November", kind="fee", quantity=1,
                                   unit_price="28.00", net_minor=2800)])
    return PartnerStatementRequested(**{**fields, **changes})


def deliver(container, body, message_id: str) -> None:
    make_handler(container)([Message(topics.PAYMENTS, TENANT, encode(TENANT, body, message_id))])


def stored(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(invoices).where(invoices.c.tenant_id == TENANT)).all()


def test_a_requested_statement_is_issued_once_announced_with_its_statement_id_and_archived_valid(container, rules_available):
    from services.invoice_factory.adapters.validation import errors, validate

    deliver(container, statement_request(), "m-1")
    deliver(container, statement_request(), "m-1")  # redelivered
    deliver(container, statement_request(), "m-2")  # asked again under another message id
    [row] = stored(container.engine)
    assert (row.type_code, row.status, row.number, row.customer_id, row.net_minor, row.gross_minor) == (
        "389", "finalized", "SB-000001", "p-fahrzeug", 2800, 3332)
    [event] = published(container.engine, topics.INVOICES)
    assert (event.invoice_id, event.type_code, event.statement_id, event.customer_id, event.number, event.shares) == (
        row.id, "389", "st-2026-11-p-fahrzeug", "p-fahrzeug", "SB-000001", [])
    assert published(container.engine, topics.DEAD_LETTER) == []
    assert container.archiver.archive_next() is True
    xml = container.blobs.get(stored(container.engine)[0].xml_key)
    text = pdf_text(container.blobs.get(stored(container.engine)[0].pdf_key))
    assert "Gutschrift" in text and "Fahrzeug Partner GmbH" in text and "DE02 1203 0000 0000 2020 51" in text
    assert b"<ram:TypeCode>389</ram:TypeCode>" in xml
    assert errors(validate(xml, "zugferd")) == []


@pytest.mark.parametrize("changes, field", [
    ({"partner": PARTNER.model_copy(update={"vat_id": None})}, "partner.vat_id"),
    ({"partner": PARTNER.model_copy(update={"street": ""})}, "partner.street"),
    ({"bank": None}, "bank"),
    ({"bank": BANK.model_copy(update={"iban": "DE00120300000000202051"})}, "bank.iban"),
    ({"period_end": date(2026, 10, 31)}, "period_end"),
    ({"currency": "XQQ"}, "statement"),
])
def test_a_statement_the_law_would_refuse_is_dead_lettered_once_and_stores_nothing(container, changes, field):
    refused = statement_request("st-refused", **changes)
    deliver(container, refused, "m-bad")
    deliver(container, refused, "m-bad")  # redelivered: nothing more
    assert stored(container.engine) == [] and published(container.engine, topics.INVOICES) == []
    [dead] = published(container.engine, topics.DEAD_LETTER)
    assert dead.source_topic == topics.PAYMENTS and field in {d["field"] for d in dead.detail} and f"{field}:" in dead.reason
    assert Envelope.model_validate_json(dead.original).id == "m-bad"
    deliver(container, statement_request("st-good"), "m-good")  # the refusal took no number
    assert [row.number for row in stored(container.engine)] == ["SB-000001"]
