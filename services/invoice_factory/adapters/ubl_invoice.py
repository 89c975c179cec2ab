"""XRechnung 3.0 in UBL 2.1 syntax (Invoice, or CreditNote for type 381), built with lxml in schema order.

Public-sector buyers in Germany often ask for UBL; it carries the same
EN 16931 content as the CII we embed in the PDF, built from the same Invoice.
"""

from __future__ import annotations

from lxml import etree

from libs.money import Money
from services.invoice_factory.adapters.xml_values import amount_text, decimal_text
from services.invoice_factory.domain.invoice_document import Invoice, Party, compute_totals

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ROOTS = {"Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
         "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"}
XRECHNUNG = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PEPPOL = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def _cac(parent, tag: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{CAC}}}{tag}")


def _cbc(parent, tag: str, text: str, **attrs) -> etree._Element:
    el = etree.SubElement(parent, f"{{{CBC}}}{tag}", **attrs)
    el.text = text
    return el


def _money(parent, tag: str, m: Money) -> None:
    _cbc(parent, tag, amount_text(m), currencyID=m.currency)


def _party(parent, tag: str, party: Party, seller: bool) -> None:
    p = _cac(_cac(parent, tag), "Party")
    if party.email:
        _cbc(p, "EndpointID", party.email, schemeID="EM")
    address = _cac(p, "PostalAddress")
    _cbc(address, "StreetName", party.street)
    _cbc(address, "CityName", party.city)
    _cbc(address, "PostalZone", party.postcode)
    _cbc(_cac(address, "Country"), "IdentificationCode", party.country)
    for company_id, scheme in ((party.vat_id, "VAT"), (party.tax_number if seller else None, "FC")):
        if company_id:
            scheme_el = _cac(p, "PartyTaxScheme")
            _cbc(scheme_el, "CompanyID", company_id)
            _cbc(_cac(scheme_el, "TaxScheme"), "ID", scheme)
    _cbc(_cac(p, "PartyLegalEntity"), "RegistrationName", party.name)
    if seller and (party.contact_name or party.phone or party.email):
        contact = _cac(p, "Contact")
        for tag_name, value in (("Name", party.contact_name), ("Telephone", party.phone), ("ElectronicMail", party.email)):
            if value:
                _cbc(contact, tag_name, value)


def _tax_category(parent, tag: str, category: str, rate, reason_code=None, reason=None) -> None:
    cat = _cac(parent, tag)
    _cbc(cat, "ID", category)
    _cbc(cat, "Percent", decimal_text(rate))
    if reason_code:
        _cbc(cat, "TaxExemptionReasonCode", reason_code)
    if reason:
        _cbc(cat, "TaxExemptionReason", reason)
    _cbc(_cac(cat, "TaxScheme"), "ID", "VAT")


def build_ubl(invoice: Invoice) -> bytes:
    credit = invoice.type_code == "381"
    root_name = "CreditNote" if credit else "Invoice"
    totals = compute_totals(invoice)
    root = etree.Element(f"{{{ROOTS[root_name]}}}{root_name}", nsmap={None: ROOTS[root_name], "cac": CAC, "cbc": CBC})
    _cbc(root, "CustomizationID", XRECHNUNG)
    _cbc(root, "ProfileID", PEPPOL)
    _cbc(root, "ID", invoice.number or "DRAFT")
    _cbc(root, "IssueDate", invoice.issue_date.isoformat())
    if not credit:
        _cbc(root, "DueDate", invoice.due_date.isoformat())
    _cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", invoice.type_code)
    for note in invoice.notes:
        _cbc(root, "Note", note)
    _cbc(root, "DocumentCurrencyCode", invoice.currency)
    _cbc(root, "BuyerReference", invoice.buyer.buyer_reference or "")
    period = _cac(root, "InvoicePeriod")
    _cbc(period, "StartDate", invoice.period_start.isoformat())
    _cbc(period, "EndDate", invoice.period_end.isoformat())
    if invoice.preceding_number:
        _cbc(_cac(_cac(root, "BillingReference"), "InvoiceDocumentReference"), "ID", invoice.preceding_number)
    _party(root, "AccountingSupplierParty", invoice.seller, seller=True)
    _party(root, "AccountingCustomerParty", invoice.buyer, seller=False)
    _cbc(_cac(root, "Delivery"), "ActualDeliveryDate", invoice.period_end.isoformat())
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", "58")
    if credit:
        _cbc(means, "PaymentDueDate", invoice.due_date.isoformat())
    _cbc(means, "PaymentID", invoice.number or "")
    account = _cac(means, "PayeeFinancialAccount")
    _cbc(account, "ID", invoice.bank.iban)
    _cbc(account, "Name", invoice.bank.account_holder)
    if invoice.bank.bic:
        _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", invoice.bank.bic)
    _cbc(_cac(root, "PaymentTerms"), "Note", invoice.payment_terms or f"Zahlbar bis {invoice.due_date:%d.%m.%Y}")
    tax_total = _cac(root, "TaxTotal")
    _money(tax_total, "TaxAmount", totals.tax)
    for sub in totals.subtotals:
        subtotal = _cac(tax_total, "TaxSubtotal")
        _money(subtotal, "TaxableAmount", sub.net)
        _money(subtotal, "TaxAmount", sub.tax)
        _tax_category(subtotal, "TaxCategory", sub.category, sub.rate, sub.exemption_code, sub.exemption_reason)
    monetary = _cac(root, "LegalMonetaryTotal")
    _money(monetary, "LineExtensionAmount", totals.net)
    _money(monetary, "TaxExclusiveAmount", totals.net)
    _money(monetary, "TaxInclusiveAmount", totals.gross)
    _money(monetary, "PayableAmount", totals.gross)
    for line in invoice.lines:
        el = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        _cbc(el, "ID", str(line.position))
        quantity = -abs(line.quantity) if line.net.minor < 0 else abs(line.quantity)
        _cbc(el, "CreditedQuantity" if credit else "InvoicedQuantity", decimal_text(quantity), unitCode=line.unit_code)
        _money(el, "LineExtensionAmount", line.net)
        if line.period_start and line.period_end:
            line_period = _cac(el, "InvoicePeriod")
            _cbc(line_period, "StartDate", line.period_start.isoformat())
            _cbc(line_period, "EndDate", line.period_end.isoformat())
        item = _cac(el, "Item")
        if line.detail:
            _cbc(item, "Description", line.detail)
        _cbc(item, "Name", line.description)
        _tax_category(item, "ClassifiedTaxCategory", line.tax_category, line.tax_rate if line.tax_category == "S" else 0)
        _cbc(_cac(el, "Price"), "PriceAmount", decimal_text(abs(line.unit_price)), currencyID=invoice.currency)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
