"""Tenants and API keys: the first tables, tenant-scoped from the start."""

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Integer, String, Table, Text, UniqueConstraint

from libs.platform.inbox import inbox_table
from libs.platform.outbox import outbox_table
from services.interface_layer.adapters.metadata import metadata

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("parent_id", String(64), ForeignKey("tenants.id"), nullable=True, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("partner_id", String(64), nullable=True),  # a partner's key: it reads only that partner's statements, payouts and account
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(100), nullable=False),  # needed in clear to sign; shown to the tenant once
    Column("event_types", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("endpoint_id", String(64), ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("event_id", String(100), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("body", Text, nullable=False),  # the exact bytes signed and sent, the same on every attempt
    Column("status", String(20), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, index=True),
    Column("last_error", String(500)),
    Column("delivered_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_event"),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
