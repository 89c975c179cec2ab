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
from services.invoice_factory.adapters.rendering import Branding, render_pdf, render_xml
from services.invoice_factory.domain import (
    BankAccount, Contact, DocumentType, Invoice, InvoiceLine, LineKind, Party, PaymentMeans, PaymentMeansCode, Period, PrecedingInvoice,
    Profile, TaxCategory,
)

_PROFILES = {"zugferd": Profile.CII_EN16931, "factur-x": Profile.CII_EN16931}


def profile_of(flavour: str) -> Profile:
    """The e-invoice profile for a customer's format setting (zugferd is the Factur-X EN 16931 CII)."""
    return _PROFILES.get(flavour) or Profile(flavour)


def _terms(type_code: str, due: date, lang: str) -> str:
    if type_code == "389":
        return (f"Der Betrag wird bis zum {due:%d.%m.%Y} auf Ihr Konto überwiesen." if lang == "de"
                else f"The amount will be transferred to your account by {due.isoformat()}.")
    return f"Zahlbar ohne Abzug bis zum {due:%d.%m.%Y}." if lang == "de" else f"Payable without deduction by {due.isoformat()}."


def document_snapshot(request: InvoiceRequested, profile: dict | None, invoice_id: str, today: date, type_code: str = "380") -> dict:
    terms_days = (profile or {}).get("payment_terms_days", 14)
    due = today + timedelta(days=terms_days)
    terms = _terms(type_code, due, request.customer.language)
    return {
        "invoice_id": invoice_id, "number": None, "type_code": type_code, "preceding_number": None, "notes": [],
        "issue_date": today.isoformat(), "due_date": due.isoformat(), "payment_terms": terms,
        "flavour": request.customer.e_invoice_format, "seller_profile": profile, "request": request.model_dump(mode="json"),
    }


def _names(value: str | list[str] | None) -> tuple[str, ...]:
    """Managing directors as the settings API takes them: one comma-separated string."""
    if isinstance(value, str):
        return tuple(name.strip() for name in value.split(",") if name.strip())
    return tuple(value or ())


def _seller(profile: dict) -> Party:
    seller = profile["seller"]
    contact = Contact(seller["contact_name"], seller.get("phone"), seller.get("email")) if seller.get("contact_name") else None
    return Party(seller["name"], seller["street"], seller["postcode"], seller["city"], seller["country"],
                 vat_id=seller.get("vat_id"), tax_number=seller.get("tax_number"), email=seller.get("email"), contact=contact,
                 register=seller.get("commercial_register"), managing_directors=_names(seller.get("managing_directors")))


def _lines(request: InvoiceRequested) -> tuple[InvoiceLine, ...]:
    return tuple(
        InvoiceLine(position=i + 1, description=line.description, quantity=line.quantity, unit_code=line.unit_code,
                    unit_price=line.unit_price, net=Money(line.net_minor, request.currency),
                    tax_category=TaxCategory(line.tax_category), tax_rate=line.tax_rate,
                    period=Period(line.period_start, line.period_end) if line.period_start and line.period_end else None,
                    detail=line.detail, kind=LineKind(line.kind) if line.kind in LineKind._value2member_map_ else LineKind.USAGE)
        for i, line in enumerate(request.lines)
    )


def _buyer(customer) -> Party:
    return Party(customer.name, customer.street, customer.postcode, customer.city, customer.country, vat_id=customer.vat_id,
                 tax_number=customer.tax_number, email=customer.email, buyer_reference=customer.buyer_reference,
                 customer_number=customer.number or customer.id)


def _account(bank: dict | None) -> BankAccount | None:
    return BankAccount(bank["iban"], bank["account_holder"], bank.get("bic"), bank.get("bank_name")) if bank else None


def to_domain(snapshot: dict) -> Invoice:
    """The legal document of a snapshot. In a self-billing statement (389) the partner is the seller and
    the tenant, who issues the document, is the buyer; the money goes to the partner's account."""
    request = InvoiceRequested.model_validate(snapshot["request"])
    profile = snapshot["seller_profile"] or {}
    tenant = _seller(profile) if profile else Party("", "", "", "", "")
    type_code = DocumentType(snapshot["type_code"])
    if type_code is DocumentType.SELF_BILLED:
        seller, buyer, account = _buyer(request.customer), tenant, _account(snapshot.get("partner_bank"))
    else:
        seller, buyer, account = tenant, _buyer(request.customer), _account(profile.get("bank"))
    preceding = None
    if snapshot.get("preceding_number"):
        issued = snapshot.get("preceding_issue_date")
        preceding = PrecedingInvoice(snapshot["preceding_number"], date.fromisoformat(issued) if issued else None)
    return Invoice(
        tenant_id="", number=snapshot.get("number"), type_code=type_code, issue_date=date.fromisoformat(snapshot["issue_date"]),
        due_date=date.fromisoformat(snapshot["due_date"]), period=Period(request.period_start, request.period_end),
        currency=request.currency, seller=seller, buyer=buyer, lines=_lines(request),
        payment=PaymentMeans(PaymentMeansCode.SEPA_CREDIT_TRANSFER, seller_account=account),
        payment_terms=snapshot["payment_terms"], language=request.customer.language, preceding=preceding,
        notes=tuple(snapshot.get("notes") or ()),
        prepaid=Money(request.prepaid_minor, request.currency) if request.prepaid_minor and type_code is DocumentType.INVOICE else None,
    )


def branding_of(profile: dict | None) -> Branding:
    raw = (profile or {}).get("branding") or {}
    footer = tuple(line for line in (raw.get("footer_text") or "").splitlines() if line.strip())
    return Branding(primary_colour=raw.get("primary_color") or "#1f4e79", logo_data_uri=raw.get("logo_data_uri"), footer_lines=footer)


def render_snapshot(snapshot: dict) -> tuple[bytes, bytes, str]:
    """(PDF/A-3 with embedded CII, the customer's chosen XML, its flavour)."""
    invoice = to_domain(snapshot)
    flavour = snapshot["flavour"]
    pdf = render_pdf(invoice, branding_of(snapshot["seller_profile"]))
    return pdf, render_xml(invoice, profile_of(flavour)), flavour
