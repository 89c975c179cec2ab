"""Tenants and API keys: the first tables, tenant-scoped from the start."""

from sqlalchemy import Column, DateTime, ForeignKey, String, Table

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
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
