"""Payment factory tables: the ledger (from `ledger_tables`), open items, payments, account settings."""

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, DateTime, Index, Integer, String, Table, Text, UniqueConstraint

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
    Column("payment_method_ref", String(200)),  # the provider's saved method: a PayPal vault id, a Stripe PaymentMethod
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
    Column("credit_transfer_file_id", String(64)),  # the pain.001 file that paid a bank refund out
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_payment_reversals_tenant_key"),
)

credit_transfer_files = Table(
    "credit_transfer_files", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("execution_date", Date, nullable=False),
    Column("transfers", Integer, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("pain001", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_credit_transfer_files_tenant_key"),
)

sepa_mandates = Table(
    "sepa_mandates", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("reference", String(35), nullable=False),
    Column("creditor_id", String(35), nullable=False),
    Column("scheme", String(4), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("debtor_name", String(70), nullable=False),
    Column("iban", String(34), nullable=False),
    Column("bic", String(11), nullable=False),
    Column("last_used_on", Date),
    Column("revoked", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "reference", name="uq_sepa_mandates_tenant_reference"),
)

collections = Table(
    "collections", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("run_id", String(64), nullable=False, index=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("method", String(30), nullable=False),
    Column("mandate_id", String(64)),
    Column("sequence_type", String(4)),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),  # submitted | paid | returned | retry_scheduled | failed
    Column("end_to_end_id", String(35), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("next_attempt_on", Date),
    Column("payment_id", String(64)),
    Column("return_code", String(8)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "end_to_end_id", name="uq_collections_tenant_e2e"),
)

collection_runs = Table(
    "collection_runs", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("run_on", Date, nullable=False),
    Column("trigger", String(10), nullable=False),  # schedule | manual
    Column("collections", Integer, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("pain008", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_collection_runs_tenant_key"),
)

dunning_notices = Table(
    "dunning_notices", metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("invoice_id", String(64), nullable=False),
    Column("level", Integer, nullable=False),
    Column("fee_minor", BigInteger, nullable=False),
    Column("outstanding_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "invoice_id", "level", name="uq_dunning_notices_invoice_level"),
)

webhook_events = Table(
    "webhook_events", metadata,
    Column("provider", String(20), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("raw_type", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("outcome", String(200), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

from services.payment_factory.adapters import partner_tables  # noqa: E402,F401  (revenue sharing registers its tables here too)
