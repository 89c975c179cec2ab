"""Payment factory tables: the ledger (from `ledger_tables`), open items, payments, account settings."""

from sqlalchemy import JSON, BigInteger, Column, Date, DateTime, Index, String, Table, UniqueConstraint

from libs.platform.inbox import inbox_table
from libs.platform.outbox import outbox_table
from services.payment_factory.adapters.ledger_tables import ledger_tables
from services.payment_factory.adapters.metadata import metadata

ledger = ledger_tables(metadata)

open_items = Table(
    "open_items", metadata,
    Column("invoice_id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("number", String(60), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("paid_minor", BigInteger, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("type_code", String(3), nullable=False),
)

payments = Table(
    "payments", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("method", String(30), nullable=False),
    Column("reference", String(200)),
    Column("allocations", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_payments_tenant_key"),
)

account_settings = Table(
    "account_settings", metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("customer_id", String(64), primary_key=True),
    Column("threshold_minor", BigInteger, nullable=False),
    Column("schedule", String(20), nullable=False),
    Column("payment_method", String(30), nullable=False),
    Column("currency", String(3), nullable=False),
)

wallet_settings = Table(
    "wallet_settings", metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("customer_id", String(64), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("low_balance_minor", BigInteger, nullable=False),
)

wallet_authorizations = Table(  # a device's reservation on a prepaid wallet: the ledger hold plus what it was for
    "wallet_authorizations", metadata,
    Column("id", String(64), primary_key=True),  # the ledger hold's transfer id
    Column("tenant_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("captured_minor", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),  # open | captured | voided | expired
    Column("reference", String(200)),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_wallet_authorizations_open", "tenant_id", "customer_id", "status"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

payment_reversals = Table(
    "payment_reversals", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("payment_id", String(64), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # refund | chargeback
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("transfer_id", String(64), nullable=False),
    Column("reopened", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_payment_reversals_tenant_key"),
)
