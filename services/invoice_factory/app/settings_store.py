"""The tenant's seller profile: who issues the invoices, with which bank account and number prefixes."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Engine, select

from services.invoice_factory.adapters.tables import seller_profiles


def save_profile(engine: Engine, tenant_id: str, profile: dict) -> dict:
    with engine.begin() as conn:
        conn.execute(seller_profiles.delete().where(seller_profiles.c.tenant_id == tenant_id))
        conn.execute(seller_profiles.insert().values(tenant_id=tenant_id, profile=profile, updated_at=datetime.now(timezone.utc)))
    return profile


def load_profile(engine: Engine, tenant_id: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(seller_profiles.c.profile).where(seller_profiles.c.tenant_id == tenant_id)).first()
    return row.profile if row else None
