"""UN/CEFACT Cross Industry Invoice (D16B) for Factur-X/ZUGFeRD EN 16931 and XRechnung 3.0 CII.

Built with lxml element builders in schema order (the XSD is a sequence).
Both flavours share one builder; XRechnung adds its guideline id, the
business process (BT-23) and relies on the draft check for BT-10, BT-34,
BT-49 and the seller contact. A deduction line (cap, credit) carries a
negative quantity and a non-negative price, since prices may not be
negative (BR-27).
"""

from __future__ import annotations

from functools import lru_cache

from lxml import etree

from services.invoice_factory.adapters.rendering.cii_names import NSMAP, QDT, RAM, RSM, add_date, sub
from services.invoice_factory.adapters.rendering.cii_parties import add_party
from services.invoice_factory.adapters.rendering.xml_text import amount_text, decimal_text, needs_ship_to, vat_id
from services.invoice_factory.domain import Invoice, InvoiceLine, PaymentMeansCode, Profile, TaxCategory, Totals, compute_totals

GUIDELINE = {
    Profile.CII_EN16931: "urn:cen.eu:en16931:2017",
    Profile.XRECHNUNG_CII: "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
}
PEPPOL_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def _line(parent: etree._Element, invoice: Invoice, line: InvoiceLine) -> None:
    item = sub(parent, RAM, "IncludedSupplyChainTradeLineItem")
    sub(sub(item, RAM, "AssociatedDocumentLineDocument"), RAM, "LineID", str(line.position))
    product = sub(item, RAM, "SpecifiedTradeProduct")
    sub(product, RAM, "Name", line.description)
    if line.detail:
        sub(product, RAM, "Description", line.detail)
    price = sub(sub(item, RAM, "SpecifiedLineTradeAgreement"), RAM, "NetPriceProductTradePrice")
    sub(price, RAM, "ChargeAmount", decimal_text(abs(line.unit_price)))
    quantity = -abs(line.quantity) if line.net.minor < 0 else abs(line.quantity)
    sub(sub(item, RAM, "SpecifiedLineTradeDelivery"), RAM, "BilledQuantity", decimal_text(quantity), unitCode=line.unit_code)
    settlement = sub(item, RAM, "SpecifiedLineTradeSettlement")
    tax = sub(settlement, RAM, "ApplicableTradeTax")
    sub(tax, RAM, "TypeCode", "VAT")
    sub(tax, RAM, "CategoryCode", line.tax_category.value)
    if line.tax_category is not TaxCategory.NOT_SUBJECT:  # BR-O-05: no rate on "not subject" lines
        sub(tax, RAM, "RateApplicablePercent", decimal_text(line.tax_rate))
    if line.period:
        period = sub(settlement, RAM, "BillingSpecifiedPeriod")
        add_date(period, "StartDateTime", line.period.start)
        add_date(period, "EndDateTime", line.period.end)
    summation = sub(settlement, RAM, "SpecifiedTradeSettlementLineMonetarySummation")
    sub(summation, RAM, "LineTotalAmount", amount_text(line.net))


def _agreement_and_delivery(tx: etree._Element, invoice: Invoice, profile: Profile) -> None:
    agreement = sub(tx, RAM, "ApplicableHeaderTradeAgreement")
    if invoice.buyer.buyer_reference:
        sub(agreement, RAM, "BuyerReference", invoice.buyer.buyer_reference)
    add_party(agreement, "SellerTradeParty", invoice.seller, vat_id(invoice, invoice.seller), with_contact=True)
    add_party(agreement, "BuyerTradeParty", invoice.buyer, vat_id(invoice, invoice.buyer), with_contact=profile.is_xrechnung)
    delivery = sub(tx, RAM, "ApplicableHeaderTradeDelivery")
    if needs_ship_to(invoice):
        add_party(delivery, "ShipToTradeParty", invoice.buyer, None, with_contact=False, with_tax_ids=False)


def _payment_means(settle: etree._Element, invoice: Invoice) -> None:
    payment = invoice.payment
    means = sub(settle, RAM, "SpecifiedTradeSettlementPaymentMeans")
    sub(means, RAM, "TypeCode", payment.code.value)
    if payment.code is PaymentMeansCode.SEPA_DIRECT_DEBIT:
        sub(sub(means, RAM, "PayerPartyDebtorFinancialAccount"), RAM, "IBANID", payment.debtor_iban or "")
    elif payment.seller_account is not None:
        account = sub(means, RAM, "PayeePartyCreditorFinancialAccount")
        sub(account, RAM, "IBANID", payment.seller_account.iban.replace(" ", ""))
        sub(account, RAM, "AccountName", payment.seller_account.account_holder)
        if payment.seller_account.bic:
            sub(sub(means, RAM, "PayeeSpecifiedCreditorFinancialInstitution"), RAM, "BICID", payment.seller_account.bic)


def _tax_breakdown(settle: etree._Element, totals: Totals) -> None:
    for group in totals.breakdown:
        tax = sub(settle, RAM, "ApplicableTradeTax")
        sub(tax, RAM, "CalculatedAmount", amount_text(group.tax))
        sub(tax, RAM, "TypeCode", "VAT")
        if group.exemption:
            sub(tax, RAM, "ExemptionReason", group.exemption.text)
        sub(tax, RAM, "BasisAmount", amount_text(group.basis))
        sub(tax, RAM, "CategoryCode", group.category.value)
        if group.exemption:
            sub(tax, RAM, "ExemptionReasonCode", group.exemption.code)
        sub(tax, RAM, "RateApplicablePercent", decimal_text(group.rate))


def _settlement(tx: etree._Element, invoice: Invoice, totals: Totals) -> None:
    settle = sub(tx, RAM, "ApplicableHeaderTradeSettlement")
    if invoice.payment.code is PaymentMeansCode.SEPA_DIRECT_DEBIT:
        sub(settle, RAM, "CreditorReferenceID", invoice.payment.creditor_id or "")
    if invoice.number:
        sub(settle, RAM, "PaymentReference", invoice.number)
    sub(settle, RAM, "InvoiceCurrencyCode", invoice.currency)
    _payment_means(settle, invoice)
    _tax_breakdown(settle, totals)
    period = sub(settle, RAM, "BillingSpecifiedPeriod")
    add_date(period, "StartDateTime", invoice.period.start)
    add_date(period, "EndDateTime", invoice.period.end)
    terms = sub(settle, RAM, "SpecifiedTradePaymentTerms")
    if invoice.payment_terms:
        sub(terms, RAM, "Description", invoice.payment_terms)
    add_date(terms, "DueDateDateTime", invoice.due_date)
    if invoice.payment.code is PaymentMeansCode.SEPA_DIRECT_DEBIT:
        sub(terms, RAM, "DirectDebitMandateID", invoice.payment.mandate_reference or "")
    summation = sub(settle, RAM, "SpecifiedTradeSettlementHeaderMonetarySummation")
    sub(summation, RAM, "LineTotalAmount", amount_text(totals.net))
    sub(summation, RAM, "TaxBasisTotalAmount", amount_text(totals.net))
    sub(summation, RAM, "TaxTotalAmount", amount_text(totals.tax), currencyID=invoice.currency)
    sub(summation, RAM, "GrandTotalAmount", amount_text(totals.gross))
    if totals.prepaid.minor:
        sub(summation, RAM, "TotalPrepaidAmount", amount_text(totals.prepaid))
    sub(summation, RAM, "DuePayableAmount", amount_text(totals.due))
    if invoice.preceding:
        reference = sub(settle, RAM, "InvoiceReferencedDocument")
        sub(reference, RAM, "IssuerAssignedID", invoice.preceding.number)
        if invoice.preceding.issue_date:
            sub(sub(reference, RAM, "FormattedIssueDateTime"), QDT, "DateTimeString",
                invoice.preceding.issue_date.strftime("%Y%m%d"), format="102")


def build_cii(invoice: Invoice, profile: Profile | str = Profile.CII_EN16931) -> bytes:
    """The CII document for `invoice`; a draft without a number gets the id DRAFT.

    The last few are kept: an archived invoice embeds the CII in its PDF and stores the same bytes as its XML, so the
    second call costs a lookup instead of a build. Invoices are frozen values; one that cannot be hashed is built anew.
    """
    profile = Profile(profile)
    try:
        return _recent_cii(invoice, profile)
    except TypeError:
        return _cii(invoice, profile)


@lru_cache(maxsize=8)
def _recent_cii(invoice: Invoice, profile: Profile) -> bytes:
    return _cii(invoice, profile)


def _cii(invoice: Invoice, profile: Profile) -> bytes:
    totals = compute_totals(invoice)
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = sub(root, RSM, "ExchangedDocumentContext")
    if profile.is_xrechnung:
        sub(sub(context, RAM, "BusinessProcessSpecifiedDocumentContextParameter"), RAM, "ID", PEPPOL_BILLING)
    sub(sub(context, RAM, "GuidelineSpecifiedDocumentContextParameter"), RAM, "ID", GUIDELINE[profile])
    document = sub(root, RSM, "ExchangedDocument")
    sub(document, RAM, "ID", invoice.number or "DRAFT")
    sub(document, RAM, "TypeCode", invoice.type_code.value)
    add_date(document, "IssueDateTime", invoice.issue_date)
    for note in invoice.notes:
        sub(sub(document, RAM, "IncludedNote"), RAM, "Content", note)
    tx = sub(root, RSM, "SupplyChainTradeTransaction")
    for line in invoice.lines:
        _line(tx, invoice, line)
    _agreement_and_delivery(tx, invoice, profile)
    _settlement(tx, invoice, totals)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
