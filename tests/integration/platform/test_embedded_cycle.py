"""The README's first command, as a test: the whole billing cycle in the embedded one-process platform."""

from datetime import date

import pytest
from starlette.testclient import TestClient

from cloudbill.embedded import DEMO_TENANT, build_platform, ensure_demo_tenant
from tests.support.cycle import account_when, bill_new_customer, ok, pdf_text, run_cycle, wait_for
from tests.support.pg import require


@pytest.fixture(scope="module")
def platform_client(tmp_path_factory):
    data = tmp_path_factory.mktemp("embedded")
    platform = build_platform(data)
    key = ensure_demo_tenant(platform, data)
    with TestClient(platform.app, base_url="http://testserver") as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield platform, client


def test_billing_cycle_end_to_end_in_one_process(platform_client):
    platform, client = platform_client
    result = run_cycle(client, settings_done=True)
    inv = result.invoice
    # 49.00 monthly fee (subscription started on the 1st) + 30 calls at 0.05 = 50.50 net, 19 % VAT = 9.60, gross 60.10
    assert (inv["net_minor"], inv["tax_minor"], inv["gross_minor"]) == (5050, 960, 6010)
    assert inv["number"].startswith("RE-")
    text = pdf_text(result.pdf)
    issue = date.fromisoformat(inv["issue_date"])
    start, end = date.fromisoformat(inv["period_start"]), date.fromisoformat(inv["period_end"])
    assert end.day >= 28 and start.day == 1  # the service period names its last day, not the next month's first
    for expected in (f"{issue:%d.%m.%Y}", f"{start:%d.%m.%Y}", f"{end:%d.%m.%Y}", "Summe inkl. USt", "Max Mustermann", "Demo Cloud GmbH", "Muster GmbH", inv["number"], "Grundgebühr", "API-Aufrufe", "50,50", "9,60", "60,10", "DE123456789"):
        assert expected in text, expected
    assert b"CrossIndustryInvoice" in result.xml and b"<ram:GrandTotalAmount>60.10</ram:GrandTotalAmount>" in result.xml
    assert result.account_before["balance_minor"] == -6010
    assert result.account_after["balance_minor"] == 0
    assert result.account_after["open_items"] == []
    paid = client.get(f"/v1/invoices/{inv['id']}").json()
    assert paid["status"] == "paid" and paid["paid_minor"] == 6010


def test_rerunning_the_billing_run_bills_nothing_twice(platform_client):
    _, client = platform_client
    first = client.post("/v1/billing-runs", json={"as_of": "2030-01-01T00:00:00Z"}).json()
    again = client.post("/v1/billing-runs", json={"as_of": "2030-01-01T00:00:00Z"}).json()
    assert again["invoices_requested"] == 0, (first, again)


def test_cancelling_an_invoice_issues_a_referencing_credit_note_and_settles_the_account(platform_client):
    _, client = platform_client
    customer, invoice = bill_new_customer(client, settings_done=True)
    credit = client.post(f"/v1/invoices/{invoice['id']}/cancel", json={"reason": "falscher Tarif"})
    assert credit.status_code == 201, credit.text
    credit = credit.json()
    assert credit["type_code"] == "381" and credit["number"].startswith("GS-") and credit["gross_minor"] == invoice["gross_minor"]
    assert client.get(f"/v1/invoices/{invoice['id']}").json()["status"] == "voided"
    again = client.post(f"/v1/invoices/{invoice['id']}/cancel", json={"reason": "nochmal"})
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    xml = wait_for(lambda: (r := client.get(f"/v1/invoices/{credit['id']}/xml")).status_code == 200 and r.content, "the credit note archive")
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml and f"<ram:IssuerAssignedID>{invoice['number']}</ram:IssuerAssignedID>".encode() in xml
    pdf = client.get(f"/v1/invoices/{credit['id']}/pdf").content
    assert "Rechnungskorrektur" in pdf_text(pdf) and "Stornierung der Rechnung" in pdf_text(pdf) and invoice["number"] in pdf_text(pdf)
    account = account_when(client, customer["id"], lambda a: a["charges_minor"] and a["open_items"] == [], "the credit to settle the invoice")
    assert account["balance_minor"] == 0


def test_partial_credit_notes_never_credit_more_than_is_left_and_a_cancellation_takes_the_rest(platform_client):
    _, client = platform_client
    customer, invoice = bill_new_customer(client, settings_done=True)  # line 1: fee 49.00, line 2: 30 calls 1.50
    body = {"reason": "Ausfall am 3.", "lines": [{"position": 1, "amount": "10.00"}]}
    first = client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201, first.text
    credit = first.json()
    assert (credit["type_code"], credit["net_minor"], credit["tax_minor"], credit["gross_minor"]) == ("381", 1000, 190, 1190)
    assert client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json=body, headers={"Idempotency-Key": "k1"}).json()["id"] == credit["id"]
    other = {**body, "lines": [{"position": 1, "amount": "11.00"}]}
    reused = client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json=other, headers={"Idempotency-Key": "k1"})
    assert reused.status_code == 409
    too_much = client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json={**body, "lines": [{"position": 1, "amount": "39.01"}]},
                           headers={"Idempotency-Key": "k2"})
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "lines[1]"
    no_line = client.post(f"/v1/invoices/{invoice['id']}/credit-notes", json={**body, "lines": [{"position": 9, "amount": "1.00"}]},
                          headers={"Idempotency-Key": "k3"})
    assert no_line.status_code == 422
    assert client.get(f"/v1/invoices/{invoice['id']}").json()["status"] == "finalized"
    rest = ok(client.post(f"/v1/invoices/{invoice['id']}/cancel", json={"reason": "Vertrag beendet"}), 201)
    assert rest["net_minor"] == invoice["net_minor"] - 1000 and rest["gross_minor"] + credit["gross_minor"] == invoice["gross_minor"]
    assert client.get(f"/v1/invoices/{invoice['id']}").json()["status"] == "voided"
    pdf = wait_for(lambda: (r := client.get(f"/v1/invoices/{credit['id']}/pdf")).status_code == 200 and r.content, "the archive")
    assert "Teilgutschrift der Rechnung" in pdf_text(pdf) and "10,00" in pdf_text(pdf)
    require("CLOUDBILL_RULES_DIR")
    from services.invoice_factory.adapters.validation import errors, validate

    assert errors(validate(client.get(f"/v1/invoices/{credit['id']}/xml").content, "zugferd")) == []
    account = account_when(client, customer["id"], lambda a: a["charges_minor"] and a["open_items"] == [], "settled")
    assert account["balance_minor"] == 0
