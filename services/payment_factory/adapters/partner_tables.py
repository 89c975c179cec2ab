"""Revenue-sharing tables: partners, settled invoices and their shares, settlement entries, fees, statements, payouts."""

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, DateTime, Index, String, Table, Text, UniqueConstraint

from services.payment_factory.adapters.metadata import metadata

partners = Table(  # master data as the billing factory last announced it (PartnerChanged)
    "partners", metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("partner_id", String(64), primary_key=True),
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("party", JSON, nullable=False),
    Column("role", String(40), nullable=False),
    Column("parent_id", String(64)),
    Column("bank", JSON),
    Column("stripe_account", String(100)),
    Column("payout_method", String(10), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

revenue_sharing_settings = Table(
    "revenue_sharing_settings", metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("settlement_basis", String(10), nullable=False),  # cash | accrual
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

settled_invoices = Table(  # an invoice with partner shares: its effective amounts and the cash it has received
    "settled_invoices", metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("invoice_id", String(64), primary_key=True),
    Column("number", String(60), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("basis", String(10), nullable=False),  # the tenant's basis when the invoice was issued
    Column("net_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("cash_minor", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

invoice_shares = Table(
    "invoice_shares", metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("invoice_id", String(64), primary_key=True),
    Column("partner_id", String(64), primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),  # effective: issued minus what credit notes took back
)

settlement_entries = Table(  # each posted change of a partner's settled share; statements are built from these
    "settlement_entries", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("invoice_id", String(64), nullable=False),
    Column("number", String(60), nullable=False),
    Column("partner_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("cause", String(20), nullable=False),  # payment | refund | chargeback | credit_note | accrual | prepaid
    Column("caused_by", String(64), nullable=False),
    Column("transfer_id", String(64), nullable=False),
    Column("statement_id", String(64)),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "invoice_id", "partner_id", "cause", "caused_by", name="uq_settlement_entries_cause"),
    Index("ix_settlement_entries_partner", "tenant_id", "partner_id", "currency", "statement_id"),
)

partner_fees = Table(
    "partner_fees", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("partner_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("description", String(200), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("transfer_id", String(64), nullable=False),
    Column("statement_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_partner_fees_tenant_key"),
    Index("ix_partner_fees_partner", "tenant_id", "partner_id", "currency", "statement_id"),
)

partner_statements = Table(
    "partner_statements", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("partner_id", String(64), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("status", String(10), nullable=False),  # requested | issued | paid
    Column("number", String(60)),
    Column("document_id", String(64)),  # the 389's invoice id in the invoice factory
    Column("tax_category", String(3), nullable=False),
    Column("tax_rate", String(10), nullable=False),
    Column("net_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("fees_minor", BigInteger, nullable=False),
    Column("lines", JSON, nullable=False),
    Column("payout_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("issued_at", DateTime(timezone=True)),
)

partner_payouts = Table(
    "partner_payouts", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("method", String(10), nullable=False),
    Column("execution_date", Date, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("items", JSON, nullable=False),
    Column("carried", JSON, nullable=False),
    Column("pain001", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_partner_payouts_tenant_key"),
)
