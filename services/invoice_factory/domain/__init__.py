"""The invoice as a legal document: parties, lines, totals and what makes a draft issuable.

Pure: no I/O and no framework imports, so rendering, XML and the issuing use
case all compute the same totals from the same frozen values.
"""

from services.invoice_factory.domain.document import DocumentType, Invoice, PrecedingInvoice
from services.invoice_factory.domain.exemptions import Exemption, exemption_for
from services.invoice_factory.domain.iban import is_valid_iban
from services.invoice_factory.domain.issuable import (
    InvalidField, IssueError, MissingField, NotIssuable, Profile, check_issuable,
)
from services.invoice_factory.domain.lines import InvoiceLine, LineKind, Period, TaxCategory
from services.invoice_factory.domain.parties import Contact, Party
from services.invoice_factory.domain.payment import BankAccount, PaymentMeans, PaymentMeansCode
from services.invoice_factory.domain.shares import party_totals, take_back
from services.invoice_factory.domain.totals import TaxBreakdown, Totals, compute_totals, tax_breakdown

__all__ = [
    "BankAccount", "Contact", "DocumentType", "Exemption", "InvalidField", "Invoice", "InvoiceLine", "IssueError",
    "LineKind", "MissingField", "NotIssuable", "Party", "PaymentMeans", "PaymentMeansCode", "Period",
    "PrecedingInvoice", "Profile", "TaxBreakdown", "TaxCategory", "Totals", "check_issuable", "compute_totals",
    "exemption_for", "is_valid_iban", "party_totals", "take_back", "tax_breakdown",
]
