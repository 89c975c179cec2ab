"""UN/CEFACT Cross Industry Invoice (CII D16B) for Factur-X/ZUGFeRD EN 16931 and XRechnung 3.0 (CII syntax).

Built with lxml element builders in the order the schema prescribes (the XSD
is a sequence). Negative lines (a cap, a credit) carry a negative quantity
and a positive price, because EN 16931 forbids negative prices (BR-27).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from services.invoice_factory.adapters.xml_values import amount_text, decimal_text
from services.invoice_factory.domain.invoice_document import Invoice, Party, compute_totals

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
GUIDELINES = {
    "zugferd": "urn:cen.eu:en16931:2017",
    "xrechnung-cii": "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
}


def _el(parent, ns: str, tag: str, text: str | None = None, **attrs) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{tag}", **attrs)
    if text is not None:
        el.text = text
    return el


def _date(parent, tag: str, d: date) -> None:
    holder = _el(parent, RAM, tag)
    _el(holder, UDT, "DateTimeString", d.strftime("%Y%m%d"), format="102")


def _party(parent, tag: str, party: Party, with_contact: bool) -> None:
    p = _el(parent, RAM, tag)
    _el(p, RAM, "Name", party.name)
    if with_contact and (party.contact_name or party.phone or party.email):
        contact = _el(p, RAM, "DefinedTradeContact")
        if party.contact_name:
            _el(contact, RAM, "PersonName", party.contact_name)
        if party.phone:
            _el(_el(contact, RAM, "TelephoneUniversalCommunication"), RAM, "CompleteNumber", party.phone)
        if party.email:
            _el(_el(contact, RAM, "EmailURIUniversalCommunication"), RAM, "URIID", party.email)
    address = _el(p, RAM, "PostalTradeAddress")
    _el(address, RAM, "PostcodeCode", party.postcode)
    _el(address, RAM, "LineOne", party.street)
    _el(address, RAM, "CityName", party.city)
    _el(address, RAM, "CountryID", party.country)
    if party.email:
        _el(_el(p, RAM, "URIUniversalCommunication"), RAM, "URIID", party.email, schemeID="EM")
    if party.vat_id:
        _el(_el(p, RAM, "SpecifiedTaxRegistration"), RAM, "ID", party.vat_id, schemeID="VA")
    if party.tax_number:
        _el(_el(p, RAM, "SpecifiedTaxRegistration"), RAM, "ID", party.tax_number, schemeID="FC")


def build_cii(invoice: Invoice, flavour: str = "zugferd") -> bytes:
    totals = compute_totals(invoice)
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _el(root, RSM, "ExchangedDocumentContext")
    if flavour.startswith("xrechnung"):
        _el(_el(context, RAM, "BusinessProcessSpecifiedDocumentContextParameter"), RAM, "ID", "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0")
    _el(_el(context, RAM, "GuidelineSpecifiedDocumentContextParameter"), RAM, "ID", GUIDELINES[flavour])
    doc = _el(root, RSM, "ExchangedDocument")
    _el(doc, RAM, "ID", invoice.number or "DRAFT")
    _el(doc, RAM, "TypeCode", invoice.type_code)
    _date(doc, "IssueDateTime", invoice.issue_date)
    for note in invoice.notes:
        _el(_el(doc, RAM, "IncludedNote"), RAM, "Content", note)

    tx = _el(root, RSM, "SupplyChainTradeTransaction")
    for line in invoice.lines:
        item = _el(tx, RAM, "IncludedSupplyChainTradeLineItem")
        _el(_el(item, RAM, "AssociatedDocumentLineDocument"), RAM, "LineID", str(line.position))
        product = _el(item, RAM, "SpecifiedTradeProduct")
        _el(product, RAM, "Name", line.description)
        if line.detail:
            _el(product, RAM, "Description", line.detail)
        negative = line.net.minor < 0
        price = abs(line.unit_price)
        quantity = -abs(line.quantity) if negative else abs(line.quantity)
        _el(_el(_el(item, RAM, "SpecifiedLineTradeAgreement"), RAM, "NetPriceProductTradePrice"), RAM, "ChargeAmount", decimal_text(price))
        _el(_el(item, RAM, "SpecifiedLineTradeDelivery"), RAM, "BilledQuantity", decimal_text(quantity), unitCode=line.unit_code)
        settlement = _el(item, RAM, "SpecifiedLineTradeSettlement")
        tax = _el(settlement, RAM, "ApplicableTradeTax")
        _el(tax, RAM, "TypeCode", "VAT")
        _el(tax, RAM, "CategoryCode", line.tax_category)
        _el(tax, RAM, "RateApplicablePercent", decimal_text(line.tax_rate if line.tax_category == "S" else Decimal(0)))
        if line.period_start and line.period_end:
            period = _el(settlement, RAM, "BillingSpecifiedPeriod")
            _date(period, "StartDateTime", line.period_start)
            _date(period, "EndDateTime", line.period_end)
        _el(_el(settlement, RAM, "SpecifiedTradeSettlementLineMonetarySummation"), RAM, "LineTotalAmount", amount_text(line.net))

    agreement = _el(tx, RAM, "ApplicableHeaderTradeAgreement")
    if invoice.buyer.buyer_reference or flavour.startswith("xrechnung"):
        _el(agreement, RAM, "BuyerReference", invoice.buyer.buyer_reference or "")
    _party(agreement, "SellerTradeParty", invoice.seller, with_contact=True)
    _party(agreement, "BuyerTradeParty", invoice.buyer, with_contact=False)
    delivery = _el(tx, RAM, "ApplicableHeaderTradeDelivery")
    _date(_el(delivery, RAM, "ActualDeliverySupplyChainEvent"), "OccurrenceDateTime", invoice.period_end)

    settle = _el(tx, RAM, "ApplicableHeaderTradeSettlement")
    _el(settle, RAM, "PaymentReference", invoice.number or "")
    _el(settle, RAM, "InvoiceCurrencyCode", invoice.currency)
    means = _el(settle, RAM, "SpecifiedTradeSettlementPaymentMeans")
    _el(means, RAM, "TypeCode", "58")
    account = _el(means, RAM, "PayeePartyCreditorFinancialAccount")
    _el(account, RAM, "IBANID", invoice.bank.iban)
    _el(account, RAM, "AccountName", invoice.bank.account_holder)
    if invoice.bank.bic:
        _el(_el(means, RAM, "PayeeSpecifiedCreditorFinancialInstitution"), RAM, "BICID", invoice.bank.bic)
    for sub in totals.subtotals:
        tax = _el(settle, RAM, "ApplicableTradeTax")
        _el(tax, RAM, "CalculatedAmount", amount_text(sub.tax))
        _el(tax, RAM, "TypeCode", "VAT")
        if sub.exemption_reason:
            _el(tax, RAM, "ExemptionReason", sub.exemption_reason)
        _el(tax, RAM, "BasisAmount", amount_text(sub.net))
        _el(tax, RAM, "CategoryCode", sub.category)
        if sub.exemption_code:
            _el(tax, RAM, "ExemptionReasonCode", sub.exemption_code)
        _el(tax, RAM, "RateApplicablePercent", decimal_text(sub.rate))
    period = _el(settle, RAM, "BillingSpecifiedPeriod")
    _date(period, "StartDateTime", invoice.period_start)
    _date(period, "EndDateTime", invoice.period_end)
    terms = _el(settle, RAM, "SpecifiedTradePaymentTerms")
    _el(terms, RAM, "Description", invoice.payment_terms or f"Zahlbar bis {invoice.due_date:%d.%m.%Y}")
    _date(terms, "DueDateDateTime", invoice.due_date)
    summation = _el(settle, RAM, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(summation, RAM, "LineTotalAmount", amount_text(totals.net))
    _el(summation, RAM, "TaxBasisTotalAmount", amount_text(totals.net))
    _el(summation, RAM, "TaxTotalAmount", amount_text(totals.tax), currencyID=invoice.currency)
    _el(summation, RAM, "GrandTotalAmount", amount_text(totals.gross))
    _el(summation, RAM, "DuePayableAmount", amount_text(totals.gross))
    if invoice.preceding_number:
        _el(_el(settle, RAM, "InvoiceReferencedDocument"), RAM, "IssuerAssignedID", invoice.preceding_number)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
