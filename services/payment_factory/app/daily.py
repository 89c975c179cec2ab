"""Background jobs: every tenant's scheduled collection and dunning run once per day, and expiring lapsed ledger holds.

The collection run's idempotency key is the day, and dunning sends each
level once, so the worker may run this as often as it likes: after the
first pass of a day the rest change nothing.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, select

from services.payment_factory.adapters.ledger_tables import PENDING
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import account_settings, open_items
from services.payment_factory.app.collection import CollectionRefused, SepaConfig, run_collection
from services.payment_factory.app.dunning import run_dunning
from services.payment_factory.domain.dunning import DunningPolicy


def expire_holds(engine: Engine, books: SqlLedger, now: datetime, limit: int = 500) -> bool:
    """Expire lapsed holds tenant by tenant, each in its own transaction; True when some tenant had a full page."""
    tr = books.t.transfers.c
    with engine.connect() as conn:
        tenants = sorted(conn.execute(select(tr.tenant_id).where(tr.status == PENDING, tr.expires_at <= now).distinct()).scalars())
    more = False
    for tenant in tenants:
        with engine.begin() as conn:
            more |= len(books.expire_pending(conn, tenant, now, limit)) == limit
    return more


def run_daily(engine: Engine, books: SqlLedger, providers: dict, sepa: SepaConfig, policy: DunningPolicy, today: date) -> dict:
    with engine.connect() as conn:
        collecting = sorted(conn.execute(select(account_settings.c.tenant_id).distinct()).scalars())
        dunning = sorted(conn.execute(select(open_items.c.tenant_id).distinct()).scalars())
    out: dict = {"collections": {}, "notices": {}}
    for tenant in collecting:
        try:
            run = run_collection(engine, books, providers, sepa, tenant, f"schedule:{today.isoformat()}", today, manual=False)
            out["collections"][tenant] = len(run["collections"])
        except CollectionRefused as exc:  # e.g. SEPA not configured: the other tenants still run
            out["collections"][tenant] = f"refused: {exc.reason}"
    for tenant in dunning:
        out["notices"][tenant] = len(run_dunning(engine, books, tenant, today, policy)["notices"])
    return out
