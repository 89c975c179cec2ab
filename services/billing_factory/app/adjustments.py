"""Late usage for a period that was already invoiced: billed as an adjustment on the next invoice.

A finalized invoice never changes. Instead the old period is re-rated with
every event it now has, and the difference to what was billed, per charge
line, becomes adjustment lines ("Nachberechnung"). Re-rating the whole
period keeps tiers, free units and caps right: a late event can land in a
cheaper tier or under a cap, and the adjustment says exactly that.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, and_, func, select, update

from libs.contracts.events import DraftLine, LineShare
from libs.money import Money
from services.billing_factory.adapters.tables import billed_periods, usage_events
from services.billing_factory.app.plan_codec import Extras, last_day
from services.billing_factory.app.rating import Subscribed, extras, rate_subscription_period, utc
from services.billing_factory.domain import Period


def _in_period(tenant_id: str, sub_id: str, start: datetime, end: datetime):
    return and_(usage_events.c.tenant_id == tenant_id, usage_events.c.subscription_id == sub_id,
                usage_events.c.ts >= start, usage_events.c.ts < end)


def share_difference(new: list[LineShare], old: list[LineShare]) -> list[LineShare]:
    """What each partner gains or loses by a re-rated line: the new shares minus the billed ones, per partner and rule."""
    moved: dict[tuple[str, str], list] = {}
    for sign, shares in ((1, new), (-1, old)):
        for share in shares:
            entry = moved.setdefault((share.partner_id, share.rule_id), [0, share])
            entry[0] += sign * share.amount_minor
    return [share.model_copy(update={"amount_minor": amount, "basis": f"{share.basis} (Differenz)".strip()})
            for (amount, share) in moved.values() if amount]


def late_adjustments(conn: Connection, tenant_id: str, s: Subscribed, run_id: str) -> list[DraftLine]:
    """Adjustment lines for every billed period of the subscription that received events after it was billed.

    Only the plan's charge lines are re-rated and compared; coupons, credits and orders billed with the
    period stay as they were (they were applied once, on the original invoice).
    """
    out: list[DraftLine] = []
    sub_id = s.id
    codes = {c.code for phase in s.phases for c in phase.plan.charges}
    periods = conn.execute(select(billed_periods).where(billed_periods.c.tenant_id == tenant_id, billed_periods.c.subscription_id == sub_id)
                           .order_by(billed_periods.c.period_start)).all()
    for bp in periods:
        start, end = utc(bp.period_start), utc(bp.period_end)
        late = conn.execute(select(func.count()).select_from(usage_events)
                            .where(_in_period(tenant_id, sub_id, start, end), usage_events.c.billed_run_id.is_(None))).scalar()
        if not late:
            continue
        period = Period(start, end)
        plain = Extras(extras(conn, tenant_id, s, period).pauses, period_index=0)
        rerated = [l for l in rate_subscription_period(conn, tenant_id, s, period, end, plain) if l.charge_code in codes]
        kept = [l for l in bp.lines if l["charge_code"] not in codes]
        before = {(l["charge_code"], l["description"]): l for l in bp.lines if l["charge_code"] in codes}
        after = {(l.charge_code, l.description): l for l in rerated}
        label = f"Nachberechnung {start:%d.%m.%Y}–{last_day(end):%d.%m.%Y}"
        for key in list(after) + [k for k in before if k not in after]:
            new, old = after.get(key), before.get(key)
            diff = (new.net_minor if new else 0) - (old["net_minor"] if old else 0)
            if diff == 0:
                continue
            quantity = (new.quantity if new else Decimal(0)) - (Decimal(str(old["quantity"])) if old else Decimal(0))
            template = new or DraftLine.model_validate(old)
            out.append(template.model_copy(update={
                "description": f"{label}: {template.description}", "kind": "adjustment", "net_minor": diff,
                "quantity": quantity if quantity != 0 else Decimal(1),
                "unit_price": template.unit_price if quantity != 0 else Money(abs(diff), s.currency).amount,
                "shares": share_difference(new.shares if new else [], DraftLine.model_validate(old).shares if old else []),
            }))
        lines = [l.model_dump(mode="json") for l in rerated] + kept
        conn.execute(update(billed_periods).where(billed_periods.c.tenant_id == tenant_id, billed_periods.c.subscription_id == sub_id,
                                                  billed_periods.c.period_start == bp.period_start)
                     .values(lines=lines, net_minor=sum(l["net_minor"] for l in lines)))
        conn.execute(update(usage_events).where(_in_period(tenant_id, sub_id, start, end), usage_events.c.billed_run_id.is_(None))
                     .values(billed_run_id=run_id))
    return out
