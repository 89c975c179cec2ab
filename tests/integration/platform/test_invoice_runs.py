"""Invoice runs as a clerk sees them: progress per stage, drafts reviewed then finalized in one go, and
self-billing statements (type 389) for partners; in the embedded platform, whose twin runs distributed."""

from __future__ import annotations

from lxml import etree

from tests.support.cycle import SELLER, bill_customers, ok, pdf_text, progress, wait_for
from tests.support.pg import require


def test_a_run_shows_progress_until_every_invoice_is_archived_with_consecutive_numbers(embedded):
    _, client = embedded
    ok(client.put("/v1/invoice-settings", json=SELLER))
    run_id = bill_customers(client, 6)
    done = wait_for(lambda: (p := progress(client, run_id)).get("stage") == "completed" and p, "the run to complete", timeout=90)
    assert (done["invoices_requested"], done["issued"], done["archived"], done["rejected"], done["drafts"]) == (6, 6, 6, 0, 0)
    assert done["percent_done"] == 100.0 and done["gross_minor"] == 6 * 1190
    numbers = sorted(i["number"] for i in ok(client.get("/v1/invoices")) if i["status"] == "finalized")
    assert numbers == [f"RE-{n:06d}" for n in range(1, 7)] and (done["first_number"], done["last_number"]) == (numbers[0], numbers[-1])
    assert [r["billing_run_id"] for r in ok(client.get("/v1/invoice-runs"))] == [run_id]
    assert client.get("/v1/invoice-runs/run_unknown").status_code == 404


def test_drafts_wait_for_review_then_a_run_is_finalized_in_order(embedded):
    _, client = embedded
    ok(client.put("/v1/invoice-settings", json={**SELLER, "review_drafts": True}))
    run_id = bill_customers(client, 3)
    waiting = wait_for(lambda: (p := progress(client, run_id)).get("stage") == "awaiting_review" and p, "drafts")
    assert (waiting["drafts"], waiting["issued"], waiting["first_number"]) == (3, 0, None)
    drafts = ok(client.get("/v1/invoices", params={"status": "draft"}))
    assert len(drafts) == 3 and {d["number"] for d in drafts} == {None} and {d["gross_minor"] for d in drafts} == {1190}
    preview = client.get(f"/v1/invoices/{drafts[0]['id']}/pdf")
    assert preview.status_code == 200 and "ENTWURF" in pdf_text(preview.content)

    one = ok(client.post(f"/v1/invoices/{drafts[-1]['id']}/finalize"))
    assert one["status"] == "finalized" and one["number"] == "RE-000001"
    refused = client.post(f"/v1/invoices/{one['id']}/finalize")
    assert refused.status_code == 409 and refused.headers["content-type"].startswith("application/problem+json")

    ok(client.post(f"/v1/invoice-runs/{run_id}/finalize"))
    done = wait_for(lambda: (p := progress(client, run_id)).get("stage") == "completed" and p, "archiving", timeout=60)
    assert (done["issued"], done["drafts"], done["last_number"]) == (3, 0, "RE-000003")


def statement(statement_id: str, **partner) -> dict:
    return {"statement_id": statement_id, "currency": "EUR", "period_start": "2026-10-01", "period_end": "2026-10-31",
            "partner": {"id": "partner-1", "name": "Fahrzeug Partner GmbH", "street": "Werkstraße 5", "postcode": "80331",
                        "city": "München", "country": "DE", "vat_id": "DE811907980", "email": "abrechnung@partner.example",
                        "bank": {"iban": "DE02120300000000202051", "account_holder": "Fahrzeug Partner GmbH"}, **partner},
            "lines": [{"description": "Anteil Fahrten Oktober (70 %)", "quantity": "1", "unit_price": "700.00", "net_minor": 70000},
                      {"description": "Wartung Fahrzeuge", "quantity": "4", "unit_price": "25.00", "net_minor": 10000}]}


def test_a_self_billing_statement_is_a_valid_gutschrift_issued_once(embedded):
    _, client = embedded
    require("CLOUDBILL_RULES_DIR")
    from services.invoice_factory.adapters.validation import errors, validate

    ok(client.put("/v1/invoice-settings", json=SELLER))
    issued = ok(client.post("/v1/self-billing-statements", json=statement("partner-1:2026-10")), 201)
    assert (issued["type_code"], issued["number"], issued["net_minor"], issued["gross_minor"]) == ("389", "SB-000001", 80000, 95200)
    again = ok(client.post("/v1/self-billing-statements", json=statement("partner-1:2026-10")), 201)
    assert again["id"] == issued["id"]
    wait_for(lambda: ok(client.get(f"/v1/invoices/{issued['id']}"))["archived"], "the statement to be archived")
    text = pdf_text(client.get(f"/v1/invoices/{issued['id']}/pdf").content)
    assert "Gutschrift" in text and "Fahrzeug Partner GmbH" in text and "DE811907980" in text
    xml = client.get(f"/v1/invoices/{issued['id']}/xml").content
    root = etree.fromstring(xml)
    ns = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
          "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
    assert root.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=ns) == "389"
    assert root.findtext(".//ram:SellerTradeParty/ram:Name", namespaces=ns) == "Fahrzeug Partner GmbH"
    assert root.findtext(".//ram:BuyerTradeParty/ram:Name", namespaces=ns) == SELLER["seller"]["name"]
    assert errors(validate(xml, "zugferd")) == []


def test_a_statement_the_law_would_reject_is_refused_and_stores_nothing(embedded):
    _, client = embedded
    ok(client.put("/v1/invoice-settings", json=SELLER))
    no_tax_id = client.post("/v1/self-billing-statements", json=statement("s-1", vat_id=None))
    assert no_tax_id.status_code == 422 and "seller.vat_id" in {e["field"] for e in no_tax_id.json()["errors"]}
    bad_iban = statement("s-2")
    bad_iban["partner"]["bank"]["iban"] = "DE00120300000000202051"
    assert client.post("/v1/self-billing-statements", json=bad_iban).status_code == 422
    backwards = {**statement("s-3"), "period_end": "2026-09-30"}
    assert client.post("/v1/self-billing-statements", json=backwards).status_code == 422
    assert ok(client.get("/v1/invoices")) == []
