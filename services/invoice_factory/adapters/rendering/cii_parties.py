"""CII trade parties (seller, buyer, ship-to) in the element order the CII D16B schema prescribes."""

from __future__ import annotations

from lxml import etree

from services.invoice_factory.adapters.rendering.cii_names import RAM, sub
from services.invoice_factory.domain import Party


def add_party(parent: etree._Element, tag: str, party: Party, vat_id: str | None, *,
              with_contact: bool, with_tax_ids: bool = True) -> etree._Element:
    element = sub(parent, RAM, tag)
    sub(element, RAM, "Name", party.name)
    if party.register and with_tax_ids:
        sub(sub(element, RAM, "SpecifiedLegalOrganization"), RAM, "ID", party.register)
    contact = party.contact
    if with_contact and contact is not None:
        holder = sub(element, RAM, "DefinedTradeContact")
        sub(holder, RAM, "PersonName", contact.name)
        if contact.phone:
            sub(sub(holder, RAM, "TelephoneUniversalCommunication"), RAM, "CompleteNumber", contact.phone)
        if contact.email:
            sub(sub(holder, RAM, "EmailURIUniversalCommunication"), RAM, "URIID", contact.email)
    address = sub(element, RAM, "PostalTradeAddress")
    sub(address, RAM, "PostcodeCode", party.postcode)
    sub(address, RAM, "LineOne", party.street)
    sub(address, RAM, "CityName", party.city)
    sub(address, RAM, "CountryID", party.country)
    if party.email and with_tax_ids:
        sub(sub(element, RAM, "URIUniversalCommunication"), RAM, "URIID", party.email, schemeID="EM")
    if with_tax_ids:
        if vat_id:
            sub(sub(element, RAM, "SpecifiedTaxRegistration"), RAM, "ID", vat_id, schemeID="VA")
        if party.tax_number:
            sub(sub(element, RAM, "SpecifiedTaxRegistration"), RAM, "ID", party.tax_number, schemeID="FC")
    return element
