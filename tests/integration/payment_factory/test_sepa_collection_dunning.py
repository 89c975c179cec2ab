"""SEPA end to end through the API: mandates, a collection run's pain.008, camt.054 settling it, a return with
retry and backoff, dunning with fees and AccountOverdue; credit transfers (pain.001) against the official schema."""

from datetime import date, datetime, timedelta, timezone

import pytest
from lxml import etree
from sqlalchemy import select

from libs.clock import FixedClock
from libs.contracts import decode
from services.payment_factory.adapters.camt import read_statement
from services.payment_factory.adapters.sepa_files import PAIN_001, CreditTransfer, pain001, schema
from services.payment_factory.adapters.tables import outbox
from services.payment_factory.domain.sepa import SepaError
from tests.integration.payment_factory.test_payments_api import H, account, issue, problem, svc  # noqa: F401  (svc: the fixture)

CREDITOR = {"sepa_creditor_name": "Cloud GmbH", "sepa_creditor_iban": "DE02120300000000202051", "sepa_creditor_id": "DE98ZZZ09999999999"}
NS = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"


@pytest.fixture
def svc_settings():
    return CREDITOR


def camt054(*entries) -> bytes:
    ntry = "".join(
        f"<Ntry><Amt Ccy='EUR'>{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd>{'<RvslInd>true</RvslInd>' if reversal else ''}"
        f"<Sts>BOOK</Sts><BookgDt><Dt>2026-12-08</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef><NtryDtls><TxDtls>"
        f"<Refs><EndToEndId>{e2e}</EndToEndId></Refs><RltdPties><Dbtr><Nm>Max Muster</Nm></Dbtr></RltdPties>"
        f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf>{f'<RtrInf><Rsn><Cd>{code}</Cd></Rsn></RtrInf>' if code else ''}</TxDtls></NtryDtls></Ntry>"
        for ref, amount, side, reversal, e2e, text, code in entries)
    return (f"<?xml version='1.0' encoding='UTF-8'?><Document xmlns='{NS}'><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>m1</MsgId>"
            f"<CreDtTm>2026-12-08T10:00:00</CreDtTm></GrpHdr><Ntfctn><Id>n1</Id><CreDtTm>2026-12-08T10:00:00</CreDtTm>"
            f"<Acct><Id><IBAN>DE02120300000000202051</IBAN></Id></Acct>{ntry}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>").encode()


def mandate_body(**over):
    return {"customer_id": "c1", "reference": "MDT-0001", "creditor_id": "DE98ZZZ09999999999", "signed_on": "2026-10-01",
            "debtor_name": "Max Muster", "iban": "DE89 3704 0044 0532 0130 00", **over}


def statement(client, xml):
    r = client.post("/v1/payments/bank-statements", content=xml, headers={**H, "Content-Type": "application/xml"})
    assert r.status_code == 200, r.text
    return r.json()


def run(client, key, **body):
    r = client.post("/v1/payments/collection-runs", json=body, headers={**H, "Idempotency-Key": key})
    assert r.status_code == 201, r.text
    return r.json()


def test_mandates_refuse_bad_iban_creditor_id_and_duplicates(svc):
    _, client = svc
    problem(client.post("/v1/mandates", json=mandate_body(iban="DE89370400440532013001"), headers=H), 422, "mandate-refused", "iban")
    problem(client.post("/v1/mandates", json=mandate_body(creditor_id="DE97ZZZ09999999999"), headers=H), 422, "mandate-refused", "creditor_id")
    ok = client.post("/v1/mandates", json=mandate_body(), headers=H)
    assert ok.status_code == 201 and ok.json()["bic"] == "COBADEFFXXX" and ok.json()["iban"] == "DE89370400440532013000"
    problem(client.post("/v1/mandates", json=mandate_body(), headers=H), 409, "mandate-exists", "reference")
    problem(client.post("/v1/payments/collection-runs", json={"customer_ids": ["c1"], "mandate_id": "mdt-unknown"},
                        headers={**H, "Idempotency-Key": "x"}), 404, "not-found", "mandate_id")


def test_collect_by_direct_debit_settle_from_camt_return_and_retry(svc):
    container, client = svc
    issue(container, "c1", "RE-100", 11900)
    client.put("/v1/accounts/c1/settings", json={"threshold": "5.00", "schedule": "monthly", "payment_method": "sepa_direct_debit"}, headers=H)
    assert run(client, "r0", run_on="2026-11-23", customer_ids=["c1"])["collections"] == []  # no mandate yet: nothing to debit
    client.post("/v1/mandates", json=mandate_body(), headers=H)
    first = run(client, "r1", run_on="2026-11-23", customer_ids=["c1"])
    assert run(client, "r1", run_on="2026-11-23", customer_ids=["c1"])["id"] == first["id"]  # idempotent run
    [col] = first["collections"]
    assert (col["sequence_type"], col["amount_minor"], col["status"], col["due_on"]) == ("FRST", 11900, "submitted", "2026-12-07")
    doc = etree.fromstring(first["pain008"].encode())
    assert schema("pain.008.001.02").validate(doc)
    text = etree.tostring(doc).decode()
    assert col["end_to_end_id"] in text and "MDT-0001" in text and "<SeqTp>FRST</SeqTp>" in text and "119.00" in text
    assert run(client, "r1b", run_on="2026-11-24", customer_ids=["c1"])["collections"] == []  # in flight: not collected twice

    paid = statement(client, camt054(("B1", "119.00", "CRDT", False, col["end_to_end_id"], "RE-100", None)))
    assert paid["results"][0]["outcome"] == "collection_paid" and account(client, "c1")["balance_minor"] == 0
    assert statement(client, camt054(("B1", "119.00", "CRDT", False, col["end_to_end_id"], "RE-100", None)))["matched"] == 1
    assert account(client, "c1")["received_minor"] == 11900  # the same bank entry again changes nothing

    returned = statement(client, camt054(("B2", "119.00", "DBIT", True, col["end_to_end_id"], "RE-100", "AM04")))
    assert returned["results"][0]["outcome"] == "returned_retry_scheduled" and returned["results"][0]["return_code"] == "AM04"
    view = account(client, "c1")
    assert view["balance_minor"] == -11900 and view["open_items"][0]["outstanding_minor"] == 11900
    assert view["statement"][-1]["text"].startswith("Rückbuchung AM04")
    retry_on = date.fromisoformat(returned["results"][0]["retry_on"])
    before = retry_on - timedelta(days=1)
    assert run(client, "r2", run_on=before.isoformat(), customer_ids=["c1"])["collections"] == []  # backing off
    second = run(client, "r3", run_on=retry_on.isoformat(), customer_ids=["c1"])["collections"]
    assert [(c["attempt"], c["sequence_type"]) for c in second] == [(2, "RCUR")]
    with container.engine.connect() as conn:
        assert container.ledger.check_invariants(conn, "tenant-p") == []


def test_a_closed_account_return_revokes_the_mandate(svc):
    container, client = svc
    issue(container, "c1", "RE-200", 5000)
    client.put("/v1/accounts/c1/settings", json={"payment_method": "sepa_direct_debit"}, headers=H)
    client.post("/v1/mandates", json=mandate_body(reference="MDT-0002"), headers=H)
    [col] = run(client, "r1", run_on="2026-11-23")["collections"]
    statement(client, camt054(("B1", "50.00", "CRDT", False, col["end_to_end_id"], "", None)))
    out = statement(client, camt054(("B2", "50.00", "DBIT", False, col["end_to_end_id"], "", "AC04")))
    assert out["results"][0]["outcome"] == "returned_failed"
    assert run(client, "r2", run_on="2026-12-01")["collections"] == []  # mandate revoked, schedule due, still nothing


def test_bank_transfers_are_matched_by_invoice_number_and_unknown_ones_reported(svc):
    container, client = svc
    inv = issue(container, "c1", "RE-300", 2380)
    out = statement(client, camt054(("B9", "23.80", "CRDT", False, "NOTPROVIDED", "Rechnung RE-300 danke", None),
                                    ("B10", "5.00", "CRDT", False, "NOTPROVIDED", "Spende", None)))
    assert [r["outcome"] for r in out["results"]] == ["invoice_paid", "unmatched"] and out["unmatched"] == 1
    assert account(client, "c1")["open_items"] == []
    problem(client.post("/v1/payments/bank-statements", content=b"<Document xmlns='urn:x'/>", headers={**H, "Content-Type": "application/xml"}),
            422, "sepa-invalid", "file")
    assert inv


def test_dunning_levels_fees_and_the_overdue_event(svc):
    container, client = svc
    inv = issue(container, "c1", "RE-400", 10000, due_days=0)  # due 2026-11-01
    r = client.post("/v1/payments/dunning-runs", json={"run_on": "2026-11-10"}, headers=H).json()
    assert [(n["invoice_id"], n["level"], n["fee_minor"]) for n in r["notices"]] == [(inv, 1, 0)]
    assert client.post("/v1/payments/dunning-runs", json={"run_on": "2026-11-10"}, headers=H).json()["notices"] == []
    r = client.post("/v1/payments/dunning-runs", json={"run_on": "2026-11-25"}, headers=H).json()
    assert [(n["level"], n["fee_minor"]) for n in r["notices"]] == [(2, 500)]
    view = account(client, "c1")
    assert view["balance_minor"] == -10500 and {i["number"] for i in view["open_items"]} == {"RE-400", "RE-400/M2"}
    with container.engine.connect() as conn:
        events = [decode(row.payload) for row in conn.execute(select(outbox.table).order_by(outbox.table.c.seq))]
        assert container.ledger.check_invariants(conn, "tenant-p") == []
    overdue = [body for _, body in events if type(body).__name__ == "AccountOverdue"]
    assert [(e.level, e.outstanding_minor, e.invoice_ids) for e in overdue] == [(1, 10000, [inv]), (2, 10500, [inv])]


def test_credit_transfers_validate_against_pain_001_and_bad_ibans_are_named():
    xml = pain001("Cloud GmbH", "DE02120300000000202051", None,
                  [CreditTransfer("RF-1", "Max Muster", "DE89370400440532013000", None, 1234, date(2026, 12, 1), "Erstattung RE-1")])
    doc = etree.fromstring(xml)
    assert schema(PAIN_001).validate(doc) and b"12.34" in xml
    with pytest.raises(SepaError) as err:
        pain001("Cloud GmbH", "DE02120300000000202051", None,
                [CreditTransfer("RF-2", "Max", "DE00370400440532013000", None, 1, date(2026, 12, 1), "x")])
    assert err.value.field == "iban"


def test_camt_053_reads_returns_with_reason_codes():
    xml = camt054(("R1", "10.50", "DBIT", True, "E2E-9", "RE-9", "MD06")).replace(b"camt.054", b"camt.053")
    [entry] = read_statement(xml)
    assert (entry.amount_minor, entry.credit, entry.is_return, entry.return_code, entry.end_to_end_id) == (1050, False, True, "MD06", "E2E-9")


def test_the_daily_job_collects_on_schedule_only_and_once_a_day(svc):
    container, client = svc
    issue(container, "c1", "RE-800", 3000)
    client.put("/v1/accounts/c1/settings", json={"payment_method": "sepa_direct_debit", "schedule": "monthly", "threshold": "50.00"}, headers=H)
    client.post("/v1/mandates", json=mandate_body(reference="MDT-0008"), headers=H)
    issue(container, "c2", "RE-801", 3000)
    client.put("/v1/accounts/c2/settings", json={"payment_method": "sepa_direct_debit", "schedule": "monthly", "threshold": "5.00"}, headers=H)
    client.post("/v1/mandates", json=mandate_body(customer_id="c2", reference="MDT-0009"), headers=H)
    from services.payment_factory.app.daily import run_daily
    args = (container.engine, container.ledger, container.providers, container.sepa, container.dunning)
    early = run_daily(*args, date(2026, 11, 23))
    assert early["collections"] == {"tenant-p": 0}  # not the 1st: the monthly schedule is not due
    assert early["notices"] == {"tenant-p": 2}  # both invoices (due 2026-11-15) are 8 days overdue: first reminders
    first = run_daily(*args, date(2026, 12, 1))
    assert first["collections"] == {"tenant-p": 1}  # c2 only: c1's 30.00 is below its 50.00 threshold
    assert run_daily(*args, date(2026, 12, 1))["collections"] == {"tenant-p": 1}  # same day: the same run, nothing new
    assert first["notices"] == {"tenant-p": 0}  # reminders already sent; the second level comes at 21 days


def test_bank_refunds_are_paid_out_in_one_pain_001_file_once(svc):
    container, client = svc
    issue(container, "c1", "RE-950", 1000)
    client.post("/v1/mandates", json=mandate_body(reference="MDT-0950"), headers=H)
    pay = client.post("/v1/payments", json={"customer_id": "c1", "amount": "15.00", "currency": "EUR"},
                      headers={**H, "Idempotency-Key": "p950"}).json()
    pay2 = client.post("/v1/payments", json={"customer_id": "c9", "amount": "3.00", "currency": "EUR"},
                       headers={**H, "Idempotency-Key": "p951"}).json()  # a customer without mandate: no IBAN known
    for p, amount, key in ((pay, "5.00", "rf1"), (pay2, "3.00", "rf2")):
        assert client.post(f"/v1/payments/{p['id']}/refunds", json={"amount": amount, "currency": "EUR", "reason": "Guthaben"},
                           headers={**H, "Idempotency-Key": key}).status_code == 201
    r = client.post("/v1/payments/credit-transfer-files", json={"execution_date": "2026-12-01"}, headers={**H, "Idempotency-Key": "f1"})
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["transfers"], out["total_minor"], len(out["skipped"])) == (1, 500, 1)
    doc = etree.fromstring(out["pain001"].encode())
    assert schema(PAIN_001).validate(doc) and b"DE89370400440532013000" in out["pain001"].encode()
    again = client.post("/v1/payments/credit-transfer-files", json={"execution_date": "2026-12-02"}, headers={**H, "Idempotency-Key": "f2"})
    assert again.json()["transfers"] == 0 and again.json()["pain001"] is None  # a refund goes into one file only
