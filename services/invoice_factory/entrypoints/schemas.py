"""Request and response bodies of the invoice factory."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class SellerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    street: str = Field(min_length=1, max_length=200)
    postcode: str = Field(min_length=1, max_length=20)
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    vat_id: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9A-Za-z+*.]{2,13}$")
    tax_number: str | None = Field(default=None, max_length=30)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="Seller electronic address (BT-34) and contact")
    phone: str | None = None
    contact_name: str | None = None
    commercial_register: str | None = Field(default=None, description="e.g. Amtsgericht Berlin HRB 12345")
    managing_directors: str | None = None

    @field_validator("vat_id", "tax_number")
    @classmethod
    def _strip(cls, v):
        return v.replace(" ", "") if v else v


class BankIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    iban: str
    bic: str | None = None
    account_holder: str
    bank_name: str | None = None

    @field_validator("iban")
    @classmethod
    def _iban(cls, v: str) -> str:
        from schwifty import IBAN

        try:
            return str(IBAN(v).compact)
        except ValueError as exc:
            raise ValueError(f"invalid IBAN: {exc}") from None


class BrandingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    primary_color: str = Field(default="#1f4e79", pattern=r"^#[0-9a-fA-F]{6}$")
    logo_data_uri: str | None = Field(default=None, max_length=300_000)
    footer_text: str | None = Field(default=None, max_length=2000)


class InvoiceSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seller: SellerIn
    bank: BankIn
    payment_terms_days: int = Field(default=14, ge=0, le=365)
    invoice_prefix: str = Field(default="RE-", max_length=20, pattern=r"^[A-Za-z0-9\-_/]*$")
    credit_note_prefix: str = Field(default="GS-", max_length=20, pattern=r"^[A-Za-z0-9\-_/]*$")
    branding: BrandingIn = BrandingIn()


class InvoiceOut(BaseModel):
    id: str
    number: str | None
    type_code: str
    status: str
    customer_id: str
    issue_date: date | None
    due_date: date | None
    period_start: date
    period_end: date
    currency: str
    net_minor: int
    tax_minor: int
    gross_minor: int
    paid_minor: int
    archived: bool
    problems: list[dict] | None = None
    lines: list[dict] = []


class DocumentOut(BaseModel):
    tenant_id: str
    invoice_id: str
    number: str
    kind: Literal["pdf", "xml"]
    type_code: str
    customer_id: str
    issue_date: str
    period_start: str
    period_end: str
    key: str
    sha256: str
    size: int
    retain_until: str


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500, description="printed on the credit note")
