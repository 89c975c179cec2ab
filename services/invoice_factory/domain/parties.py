"""Who issues and who receives an invoice: the data §14 Abs. 4 UStG and EN 16931 need about a party.

A party is the legal entity with its postal address and tax identifiers. The
email doubles as the electronic address (BT-34 seller, BT-49 buyer, scheme
"EM"), which XRechnung requires. `buyer_reference` carries the Leitweg-ID of a
public-sector buyer (BT-10); `register` and `managing_directors` are the
seller's company-law data a German business letter must show (§ 35a GmbHG,
§ 80 AktG), printed in the footer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Contact:
    """A contact point (BG-6 for the seller, BG-9 for the buyer); XRechnung needs name, phone and email."""

    name: str
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Party:
    name: str
    street: str
    postcode: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    vat_id: str | None = None
    tax_number: str | None = None
    email: str | None = None
    buyer_reference: str | None = None
    contact: Contact | None = None
    customer_number: str | None = None
    register: str | None = None  # e.g. "Amtsgericht Charlottenburg, HRB 123456"
    managing_directors: tuple[str, ...] = ()
