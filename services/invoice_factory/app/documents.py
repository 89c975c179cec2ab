"""An invoice's stored snapshot, and the legal document built from it.

The snapshot (JSON in the invoices table) holds everything the document
needs: the billing request, the seller profile at issue time, number and
dates. The PDF and XML are built from it alone, so they can be rebuilt
identically in content at any time.
"""

from __future__ import annotations

from datetime import date, timedelta

from libs.contracts.events import InvoiceRequested
from libs.money import Money
from services.invoice_factory.adapters.cii_invoice import build_cii
from services.invoice_factory.adapters.pdf_invoice import render_pdf
from services.invoice_factory.adapters.ubl_invoice import build_ubl
from services.invoice_factory.domain.invoice_document import BankAccount, Invoice, Line, Party


def document_snapshot(request: InvoiceRequested, profile: dict | None, invoice_id: str, today: date) -> dict:
    terms_days = (profile or {}).get("payment_terms_days", 14)
    due = today + timedelta(days=terms_days)
    lang = request.customer.language
    terms = (f"Zahlbar ohne Abzug bis zum {due:%d.%m.%Y}." if lang == "de" else f"Payable without deduction by {due.isoformat()}.")
    return {
        "invoice_id": invoice_id, "number": None, "type_code": "380", "preceding_number": None, "notes": [],
        "issue_date": today.isoformat(), "due_date": due.isoformat(), "payment_terms": terms,
        "flavour": request.customer.e_invoice_format, "seller_profile": profile, "request": request.model_dump(mode="json"),
    }


def to_domain(snapshot: dict) -> Invoice:
    req = InvoiceRequested.model_validate(snapshot["request"])
    profile = snapshot["seller_profile"]
    seller, bank = profile["seller"], profile["bank"]
    c = req.customer
    lines = tuple(
        Line(position=i + 1, description=l.description, quantity=l.quantity, unit_code=l.unit_code, unit_price=l.unit_price,
             net=Money(l.net_minor, req.currency), tax_category=l.tax_category, tax_rate=l.tax_rate, detail=l.detail, kind=l.kind,
             period_start=l.period_start, period_end=l.period_end)
        for i, l in enumerate(req.lines)
    )
    return Invoice(
        tenant_id="", number=snapshot.get("number"), type_code=snapshot["type_code"],
        issue_date=date.fromisoformat(snapshot["issue_date"]), due_date=date.fromisoformat(snapshot["due_date"]),
        period_start=req.period_start, period_end=req.period_end, currency=req.currency,
        seller=Party(seller["name"], seller["street"], seller["postcode"], seller["city"], seller["country"], seller.get("vat_id"),
                     seller.get("tax_number"), seller.get("email"), None, seller.get("contact_name"), seller.get("phone")),
        buyer=Party(c.name, c.street, c.postcode, c.city, c.country, c.vat_id, c.tax_number, c.email, c.buyer_reference),
        bank=BankAccount(bank["iban"], bank["account_holder"], bank.get("bic"), bank.get("bank_name")),
        lines=lines, customer_number=c.number or c.id, language=c.language, payment_terms=snapshot["payment_terms"],
        footer={"register": seller.get("commercial_register"), "managing_directors": seller.get("managing_directors")},
        preceding_number=snapshot.get("preceding_number"), notes=tuple(snapshot.get("notes") or ()),
    )


def render_snapshot(snapshot: dict) -> tuple[bytes, bytes, str]:
    """(PDF/A-3 with embedded CII, the customer's chosen XML, its flavour)."""
    invoice = to_domain(snapshot)
    flavour = snapshot["flavour"]
    cii = build_cii(invoice, "zugferd")
    xml = {"zugferd": lambda: cii, "xrechnung-cii": lambda: build_cii(invoice, "xrechnung-cii"), "xrechnung-ubl": lambda: build_ubl(invoice)}[flavour]()
    pdf = render_pdf(invoice, (snapshot["seller_profile"] or {}).get("branding") or {}, cii)
    return pdf, xml, flavour
