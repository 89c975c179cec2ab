"""The invoice as HTML for WeasyPrint: a view of the domain Invoice in the layout users know.

The layout follows the platform's sample statement (seed 004): sender and
address block, a header with number, date, customer number and period, the
lines (component/event, quantity, unit price, total; one line per tier step,
the cap as its own line, parameter info under its line), net and VAT per
rate, gross, payment details and the seller's legal data in the footer.
Everything § 14 Abs. 4 UStG requires is printed; the words are in texts.py.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.invoice_factory.adapters.rendering import formatting as fmt
from services.invoice_factory.adapters.rendering.branding import Branding
from services.invoice_factory.adapters.rendering.styles import base_css_text, brand_css_text
from services.invoice_factory.adapters.rendering.texts import TEXTS, UNITS
from services.invoice_factory.domain import DocumentType, Invoice, PaymentMeansCode, TaxCategory, Totals, compute_totals


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _meta(invoice: Invoice, t: dict[str, str], lang: str) -> list[tuple[str, str]]:
    rows = [(t["number_389"] if invoice.is_self_billed else t["number"], invoice.number or "ENTWURF / DRAFT"),
            (t["date"], fmt.day(invoice.issue_date, lang))]
    if invoice.buyer.customer_number:
        rows.append((t["customer_no"], invoice.buyer.customer_number))
    rows.append((t["period"], f"{fmt.day(invoice.period.start, lang)} – {fmt.day(invoice.period.end, lang)}"))
    rows.append((t["due"], fmt.day(invoice.due_date, lang)))
    if invoice.buyer.vat_id:
        rows.append((t["buyer_vat"], invoice.buyer.vat_id))
    if invoice.buyer.buyer_reference:
        rows.append((t["reference"], invoice.buyer.buyer_reference))
    if invoice.preceding:
        rows.append((t["preceding"], invoice.preceding.number))
    return rows


def _lines(invoice: Invoice, lang: str) -> list[dict[str, str | None]]:
    units = UNITS[lang]
    return [{
        "position": str(line.position), "description": line.description, "kind": line.kind.value, "detail": line.detail,
        "period": (f"{fmt.day(line.period.start, lang)} – {fmt.day(line.period.end, lang)}"
                   if line.period and line.period != invoice.period else None),
        "quantity": f"{fmt.number(line.quantity, lang)} {units.get(line.unit_code, line.unit_code)}",
        "unit_price": fmt.unit_price(line.unit_price, invoice.currency, lang),
        "rate": f"{fmt.rate(line.tax_rate, lang)} %", "total": fmt.money(line.net, lang),
    } for line in invoice.lines]


def _sums(totals: Totals, t: dict[str, str], lang: str) -> list[tuple[str, str, str]]:
    rows = [("net", t["net_total"], fmt.money(totals.net, lang))]
    for group in totals.breakdown:
        rate = fmt.rate(group.rate, lang)
        label = t["net_at"].format(rate=rate) + (f" ({group.exemption.text})" if group.exemption else "")
        rows.append(("basis", label, fmt.money(group.basis, lang)))
        rows.append(("vat", t["vat_at"].format(rate=rate, basis=fmt.money(group.basis, lang)), fmt.money(group.tax, lang)))
    rows.append(("gross", t["gross"], fmt.money(totals.gross, lang)))
    if totals.prepaid.minor:
        rows.append(("prepaid", t["prepaid"], fmt.money(-totals.prepaid, lang)))
        rows.append(("due", t["due_amount"], fmt.money(totals.due, lang)))
    return rows


def _notes(invoice: Invoice, t: dict[str, str], lang: str) -> list[tuple[str, bool]]:
    """Legal notes first (printed bold), then the invoice's own notes."""
    legal = []
    if invoice.is_self_billed:
        legal.append(t["self_billed"])
    if any(line.tax_category is TaxCategory.REVERSE_CHARGE for line in invoice.lines):
        legal.append(t["reverse_charge"].format(vat_id=invoice.buyer.vat_id or "–"))
    if invoice.preceding:
        when = f" {t['of']} {fmt.day(invoice.preceding.issue_date, lang)}" if invoice.preceding.issue_date else ""
        legal.append(t["correction"].format(number=invoice.preceding.number, date=when))
    return [(note, True) for note in legal] + [(note, False) for note in invoice.notes]


def _payment(invoice: Invoice, t: dict[str, str]) -> dict[str, object]:
    payment = invoice.payment
    if payment.code is PaymentMeansCode.SEPA_DIRECT_DEBIT:
        return {"kind": "debit", "text": t["debit"].format(iban=fmt.masked_iban(payment.debtor_iban or "")),
                "rows": [(t["mandate"], payment.mandate_reference), (t["creditor_id"], payment.creditor_id)]}
    account = payment.seller_account
    if account is None or invoice.type_code is DocumentType.CREDIT_NOTE:
        return {"kind": "none", "text": "", "rows": []}
    rows = [(t["holder"], account.account_holder), ("IBAN", fmt.iban(account.iban))]
    rows += [("BIC", account.bic)] if account.bic else []
    rows += [("Bank", account.bank_name)] if account.bank_name else []
    rows += [(t["purpose"], invoice.number)] if invoice.number else []
    return {"kind": "transfer", "text": t["payout" if invoice.is_self_billed else "transfer"], "rows": rows}


def invoice_html(invoice: Invoice, branding: Branding | None = None, *, inline_css: bool = True) -> str:
    """The HTML document; self-contained with `inline_css` (a preview), else styled by `styles` (the PDF)."""
    lang = invoice.language if invoice.language in TEXTS else "de"
    t, branding = TEXTS[lang], branding or Branding()
    totals = compute_totals(invoice)
    css = base_css_text(lang) + "\n" + brand_css_text(branding.primary_colour) if inline_css else ""
    return _environment().get_template("invoice.html").render(
        css=css, invoice=invoice, seller=invoice.seller, buyer=invoice.buyer, lang=lang, t=t, branding=branding,
        title=t[invoice.type_code.value], meta=_meta(invoice, t, lang), lines=_lines(invoice, lang),
        sums=_sums(totals, t, lang), notes=_notes(invoice, t, lang), payment=_payment(invoice, t),
        show_country=invoice.buyer.country != invoice.seller.country,
    )
