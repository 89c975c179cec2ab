"""XRechnung 3.0 in UBL 2.1: an Invoice document, or a CreditNote for type 381.

German public-sector buyers often ask for UBL. It carries the same EN 16931
content as the CII, built from the same Invoice and totals, so the two can
never disagree. Self-billing (389) and corrections (384) are UBL Invoices;
only 381 uses the CreditNote document (and has no DueDate element, so the
due date goes to PaymentMeans).
"""

from __future__ import annotations

from lxml import etree

from services.invoice_factory.adapters.rendering.ubl_names import CAC, CBC, ROOT_NS, cac, cbc, money
from services.invoice_factory.adapters.rendering.ubl_parties import add_address, add_party
from services.invoice_factory.adapters.rendering.xml_text import decimal_text, needs_ship_to, vat_id
from services.invoice_factory.domain import (
    DocumentType, Invoice, InvoiceLine, PaymentMeansCode, TaxCategory, Totals, compute_totals,
)

XRECHNUNG_UBL = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PEPPOL_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def _tax_category(parent: etree._Element, tag: str, category: TaxCategory, rate, exemption=None) -> None:
    element = cac(parent, tag)
    cbc(element, "ID", category.value)
    if not (tag == "ClassifiedTaxCategory" and category is TaxCategory.NOT_SUBJECT):
        cbc(element, "Percent", decimal_text(rate))
    if exemption:
        cbc(element, "TaxExemptionReasonCode", exemption.code)
        cbc(element, "TaxExemptionReason", exemption.text)
    cbc(cac(element, "TaxScheme"), "ID", "VAT")


def _payment(root: etree._Element, invoice: Invoice, credit: bool) -> None:
    payment = invoice.payment
    means = cac(root, "PaymentMeans")
    cbc(means, "PaymentMeansCode", payment.code.value)
    if credit:
        cbc(means, "PaymentDueDate", invoice.due_date.isoformat())
    if invoice.number:
        cbc(means, "PaymentID", invoice.number)
    if payment.code is PaymentMeansCode.SEPA_DIRECT_DEBIT:
        mandate = cac(means, "PaymentMandate")
        cbc(mandate, "ID", payment.mandate_reference or "")
        cbc(cac(mandate, "PayerFinancialAccount"), "ID", payment.debtor_iban or "")
    elif payment.seller_account is not None:
        account = cac(means, "PayeeFinancialAccount")
        cbc(account, "ID", payment.seller_account.iban.replace(" ", ""))
        cbc(account, "Name", payment.seller_account.account_holder)
        if payment.seller_account.bic:
            cbc(cac(account, "FinancialInstitutionBranch"), "ID", payment.seller_account.bic)
    if invoice.payment_terms:
        cbc(cac(root, "PaymentTerms"), "Note", invoice.payment_terms)


def _totals(root: etree._Element, totals: Totals) -> None:
    tax_total = cac(root, "TaxTotal")
    money(tax_total, "TaxAmount", totals.tax)
    for group in totals.breakdown:
        subtotal = cac(tax_total, "TaxSubtotal")
        money(subtotal, "TaxableAmount", group.basis)
        money(subtotal, "TaxAmount", group.tax)
        _tax_category(subtotal, "TaxCategory", group.category, group.rate, group.exemption)
    monetary = cac(root, "LegalMonetaryTotal")
    money(monetary, "LineExtensionAmount", totals.net)
    money(monetary, "TaxExclusiveAmount", totals.net)
    money(monetary, "TaxInclusiveAmount", totals.gross)
    if totals.prepaid.minor:
        money(monetary, "PrepaidAmount", totals.prepaid)
    money(monetary, "PayableAmount", totals.due)


def _line(root: etree._Element, invoice: Invoice, line: InvoiceLine, credit: bool) -> None:
    element = cac(root, "CreditNoteLine" if credit else "InvoiceLine")
    cbc(element, "ID", str(line.position))
    quantity = -abs(line.quantity) if line.net.minor < 0 else abs(line.quantity)
    cbc(element, "CreditedQuantity" if credit else "InvoicedQuantity", decimal_text(quantity), unitCode=line.unit_code)
    money(element, "LineExtensionAmount", line.net)
    if line.period:
        period = cac(element, "InvoicePeriod")
        cbc(period, "StartDate", line.period.start.isoformat())
        cbc(period, "EndDate", line.period.end.isoformat())
    item = cac(element, "Item")
    if line.detail:
        cbc(item, "Description", line.detail)
    cbc(item, "Name", line.description)
    _tax_category(item, "ClassifiedTaxCategory", line.tax_category, line.tax_rate)
    cbc(cac(element, "Price"), "PriceAmount", decimal_text(abs(line.unit_price)), currencyID=invoice.currency)


def build_ubl(invoice: Invoice) -> bytes:
    """The XRechnung UBL document for `invoice`; a draft without a number gets the id DRAFT."""
    credit = invoice.type_code is DocumentType.CREDIT_NOTE
    name = "CreditNote" if credit else "Invoice"
    totals = compute_totals(invoice)
    root = etree.Element(f"{{{ROOT_NS[name]}}}{name}", nsmap={None: ROOT_NS[name], "cac": CAC, "cbc": CBC})
    cbc(root, "CustomizationID", XRECHNUNG_UBL)
    cbc(root, "ProfileID", PEPPOL_BILLING)
    cbc(root, "ID", invoice.number or "DRAFT")
    cbc(root, "IssueDate", invoice.issue_date.isoformat())
    if not credit:
        cbc(root, "DueDate", invoice.due_date.isoformat())
    cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", invoice.type_code.value)
    for note in invoice.notes:
        cbc(root, "Note", note)
    cbc(root, "DocumentCurrencyCode", invoice.currency)
    if invoice.buyer.buyer_reference:
        cbc(root, "BuyerReference", invoice.buyer.buyer_reference)
    period = cac(root, "InvoicePeriod")
    cbc(period, "StartDate", invoice.period.start.isoformat())
    cbc(period, "EndDate", invoice.period.end.isoformat())
    if invoice.preceding:
        reference = cac(cac(root, "BillingReference"), "InvoiceDocumentReference")
        cbc(reference, "ID", invoice.preceding.number)
        if invoice.preceding.issue_date:
            cbc(reference, "IssueDate", invoice.preceding.issue_date.isoformat())
    direct_debit = invoice.payment.code is PaymentMeansCode.SEPA_DIRECT_DEBIT
    add_party(root, "AccountingSupplierParty", invoice.seller, vat_id(invoice, invoice.seller),
              creditor_id=invoice.payment.creditor_id if direct_debit else None)
    add_party(root, "AccountingCustomerParty", invoice.buyer, vat_id(invoice, invoice.buyer))
    if needs_ship_to(invoice):
        delivery = cac(root, "Delivery")
        add_address(cac(delivery, "DeliveryLocation"), "Address", invoice.buyer)
        cbc(cac(cac(delivery, "DeliveryParty"), "PartyName"), "Name", invoice.buyer.name)
    _payment(root, invoice, credit)
    _totals(root, totals)
    for line in invoice.lines:
        _line(root, invoice, line, credit)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
