"""How much of a period a prepaid subscription's wallet already paid: the billing run puts it on the invoice.

The payment factory reports each payment (UsagePaid); what the wallet could
not pay is not "prepaid" and stays due on the invoice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, select, update

from libs.contracts.events import UsagePaid
from libs.platform.inbox import first_delivery
from services.billing_factory.adapters.tables import inbox, prepaid_charges


def prepaid_for_period(conn: Connection, tenant_id: str, sub_id: str, period_start: datetime) -> int:
    """What the wallet paid for this period (0 for a postpaid subscription)."""
    value = conn.execute(select(prepaid_charges.c.paid_minor).where(
        prepaid_charges.c.tenant_id == tenant_id, prepaid_charges.c.subscription_id == sub_id,
        prepaid_charges.c.period_start == period_start)).scalar()
    return int(value or 0)


def record_usage_paid(engine: Engine, message_id: str, tenant_id: str, event: UsagePaid) -> None:
    with engine.begin() as conn:
        if not first_delivery(conn, inbox, "usage-paid", message_id):
            return
        conn.execute(update(prepaid_charges).where(
            prepaid_charges.c.tenant_id == tenant_id, prepaid_charges.c.subscription_id == event.subscription_id,
            prepaid_charges.c.period_start == event.period_start).values(paid_minor=prepaid_charges.c.paid_minor + event.paid_minor))
