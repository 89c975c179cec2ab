"""Invoice factory tables: seller profiles, number ranges, invoices."""

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, DateTime, Integer, String, Table, UniqueConstraint

from libs.platform.inbox import inbox_table
from libs.platform.outbox import outbox_table
from services.invoice_factory.adapters.metadata import metadata

seller_profiles = Table(
    "seller_profiles", metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("profile", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

number_ranges = Table(
    "number_ranges", metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("range_key", String(50), primary_key=True),
    Column("prefix", String(50), nullable=False),
    Column("next_value", BigInteger, nullable=False),
)

invoices = Table(
    "invoices", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("request_id", String(200), nullable=False),
    Column("billing_run_id", String(64), index=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("number", String(60)),
    Column("type_code", String(3), nullable=False),
    Column("status", String(20), nullable=False),  # draft | rejected | finalized | paid | voided
    Column("issue_date", Date),
    Column("due_date", Date),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("net_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("gross_minor", BigInteger, nullable=False),
    Column("paid_minor", BigInteger, nullable=False, default=0),
    Column("document", JSON, nullable=False),
    Column("problems", JSON),
    Column("archived", Boolean, nullable=False, default=False),
    Column("archive_attempts", Integer, nullable=False, default=0),
    Column("pdf_key", String(300)), Column("xml_key", String(300)),
    Column("pdf_sha256", String(64)), Column("xml_sha256", String(64)),
    Column("email_to", String(320)),
    Column("emailed_at", DateTime(timezone=True)),
    Column("email_attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "request_id", name="uq_invoices_tenant_request"),
    UniqueConstraint("tenant_id", "number", name="uq_invoices_tenant_number"),
)

invoice_runs = Table(
    "invoice_runs", metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("billing_run_id", String(64), primary_key=True),
    Column("invoices_requested", Integer, nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=False),  # when the billing factory finished requesting
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
