"""UBL 2.1 parties (supplier, customer) in the element order the UBL schema prescribes."""

from __future__ import annotations

from lxml import etree

from services.invoice_factory.adapters.rendering.ubl_names import cac, cbc
from services.invoice_factory.domain import Party


def add_address(parent: etree._Element, tag: str, party: Party) -> None:
    address = cac(parent, tag)
    cbc(address, "StreetName", party.street)
    cbc(address, "CityName", party.city)
    cbc(address, "PostalZone", party.postcode)
    cbc(cac(address, "Country"), "IdentificationCode", party.country)


def add_party(parent: etree._Element, tag: str, party: Party, vat_id: str | None, *,
              creditor_id: str | None = None) -> None:
    element = cac(cac(parent, tag), "Party")
    if party.email:
        cbc(element, "EndpointID", party.email, schemeID="EM")
    if creditor_id:  # BT-90 lives here in UBL
        cbc(cac(element, "PartyIdentification"), "ID", creditor_id, schemeID="SEPA")
    add_address(element, "PostalAddress", party)
    for company_id, scheme in ((vat_id, "VAT"), (party.tax_number, "FC")):
        if company_id:
            tax_scheme = cac(element, "PartyTaxScheme")
            cbc(tax_scheme, "CompanyID", company_id)
            cbc(cac(tax_scheme, "TaxScheme"), "ID", scheme)
    legal = cac(element, "PartyLegalEntity")
    cbc(legal, "RegistrationName", party.name)
    if party.register:
        cbc(legal, "CompanyID", party.register)
    if party.contact is not None:
        contact = cac(element, "Contact")
        cbc(contact, "Name", party.contact.name)
        if party.contact.phone:
            cbc(contact, "Telephone", party.contact.phone)
        if party.contact.email:
            cbc(contact, "ElectronicMail", party.contact.email)
