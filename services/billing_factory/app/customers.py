"""Use cases for customers: the buyers a tenant bills."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from libs.ids import new_id
from libs.money import check_currency
from services.billing_factory.adapters.tables import customers
from services.billing_factory.app.partners import partner_id_named
from services.billing_factory.app.errors import Conflict, Invalid, NotFound


def create_customer(engine: Engine, tenant_id: str, data: dict[str, Any]) -> dict[str, Any]:
    try:
        check_currency(data["currency"])
    except ValueError as exc:
        raise Invalid("currency", str(exc)) from None
    data = dict(data)
    reseller = data.pop("reseller", None)
    row = {**data, "id": new_id("cus"), "tenant_id": tenant_id, "created_at": datetime.now(timezone.utc), "reseller_id": None}
    try:
        with engine.begin() as conn:
            row["reseller_id"] = partner_id_named(conn, tenant_id, reseller, "reseller")
            conn.execute(customers.insert().values(**row))
    except IntegrityError:
        raise Conflict(f"a customer with external id {data['external_id']!r} exists") from None
    return {**row, "reseller": reseller}


def get_customer(engine: Engine, tenant_id: str, customer_id: str) -> dict[str, Any]:
    """By internal id or external id; another tenant's customer is simply not found."""
    with engine.connect() as conn:
        row = conn.execute(
            select(customers).where(customers.c.tenant_id == tenant_id, (customers.c.id == customer_id) | (customers.c.external_id == customer_id))
        ).first()
    if row is None:
        raise NotFound("customer", customer_id)
    return dict(row._mapping)


def list_customers(engine: Engine, tenant_id: str, limit: int, after: str | None) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        stmt = select(customers).where(customers.c.tenant_id == tenant_id).order_by(customers.c.id).limit(limit)
        if after:
            stmt = stmt.where(customers.c.id > after)
        return [dict(r._mapping) for r in conn.execute(stmt)]
