"""Prepaid consumption, like prepaid electricity: authorize, consume, see the balance fall, get warned, stop at zero.

Money paid in sits in the customer's wallet (a ledger account that refuses
overdraft). A device asks before it consumes: an authorization places a
hold on the wallet, so two devices can never spend the same euro. Rated
usage (UsageCharged, the gross cost of the open period so far) is paid
from the wallet as it arrives: first from the customer's open holds,
oldest first, then from what is left; what the wallet cannot pay stays on
the receivable and is invoiced. Every payment moves wallet -> receivable,
so the period's invoice finds that much already paid.

Crossing the low-balance threshold, or reaching zero, writes a
WalletBalanceAlert to the outbox in the same transaction, so each
crossing is announced exactly once (and delivered as a webhook).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update

from libs.contracts import topics
from libs.contracts.events import UsageCharged, UsagePaid, WalletBalanceAlert
from libs.money import Money
from libs.platform.inbox import first_delivery
from libs.platform.outbox import write_outbox
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.adapters.tables import inbox, outbox, wallet_authorizations, wallet_settings
from services.payment_factory.app.accounts import customer_account_id
from services.payment_factory.domain.ledger import Leg, TransferRequest
from services.payment_factory.domain.ledger_accounts import AccountPurpose, NormalSide
from services.payment_factory.domain.ledger_errors import IdempotencyConflict


class AuthorizationClosed(Exception):
    pass


def _accounts(books: SqlLedger, conn: Connection, tenant: str, customer_id: str, currency: str) -> tuple[str, str]:
    """The wallet and receivable ids (remembered by the process once a transaction that found them has committed)."""
    return (customer_account_id(books, conn, tenant, customer_id, AccountPurpose.PREPAID_WALLET, currency),
            customer_account_id(books, conn, tenant, customer_id, AccountPurpose.CUSTOMER_RECEIVABLE, currency))


def _available(books: SqlLedger, conn: Connection, tenant: str, wallet: str) -> int:
    return books.balance(conn, tenant, wallet).available(NormalSide.CREDIT)


# The low-balance threshold of (s_tenant, s_customer, s_currency); built once, also read by the authorization's INSERT
_THRESHOLD = select(wallet_settings.c.low_balance_minor).where(
    wallet_settings.c.tenant_id == bindparam("s_tenant"), wallet_settings.c.customer_id == bindparam("s_customer"),
    wallet_settings.c.currency == bindparam("s_currency"))


def _threshold_params(tenant: str, customer_id: str, currency: str) -> dict[str, str]:
    return {"s_tenant": tenant, "s_customer": customer_id, "s_currency": currency}


def _threshold(conn: Connection, tenant: str, customer_id: str, currency: str) -> int:
    return int(conn.execute(_THRESHOLD, _threshold_params(tenant, customer_id, currency)).scalar() or 0)


def _alert(conn: Connection, tenant: str, customer_id: str, currency: str, before: int, after: int, unpaid: int = 0,
           threshold: int | None = None) -> None:
    """One alert per crossing: below the threshold, and separately at zero (or when usage went unpaid).
    `threshold`: when the caller already read it in this transaction; otherwise it is read here."""
    if threshold is None:
        threshold = _threshold(conn, tenant, customer_id, currency)
    alert = balance_alert(customer_id, currency, before, after, threshold, unpaid)
    if alert is not None:
        write_outbox(conn, outbox, tenant, topics.PAYMENTS, customer_id, alert)


def balance_alert(customer_id: str, currency: str, before: int, after: int, threshold: int, unpaid: int = 0) -> WalletBalanceAlert | None:
    """The alert a change of the available balance from `before` to `after` raises, if it crosses a line: 'depleted'
    (reached zero, or usage went unpaid) or 'low' (fell below the threshold)."""
    if (after == 0 and before > 0) or unpaid > 0:
        level = "depleted"
    elif threshold and before >= threshold > after:
        level = "low"
    else:
        return None
    return WalletBalanceAlert(customer_id=customer_id, currency=currency, level=level, available_minor=after, threshold_minor=threshold,
                              unpaid_minor=unpaid)


def set_low_balance(engine: Engine, tenant: str, customer_id: str, threshold: Money) -> dict[str, Any]:
    with engine.begin() as conn:
        conn.execute(wallet_settings.delete().where(wallet_settings.c.tenant_id == tenant, wallet_settings.c.customer_id == customer_id,
                                                    wallet_settings.c.currency == threshold.currency))
        conn.execute(wallet_settings.insert().values(tenant_id=tenant, customer_id=customer_id, currency=threshold.currency,
                                                     low_balance_minor=threshold.minor))
    return {"customer_id": customer_id, "currency": threshold.currency, "low_balance_minor": threshold.minor}


def wallet_view(engine: Engine, books: SqlLedger, tenant: str, customer_id: str, currency: str) -> dict[str, Any]:
    with engine.begin() as conn:
        wallet, _ = _accounts(books, conn, tenant, customer_id, currency)
        balance = books.balance(conn, tenant, wallet)
        open_count = conn.execute(select(func.count()).select_from(wallet_authorizations).where(  # devices poll this: count, not rows
            wallet_authorizations.c.tenant_id == tenant, wallet_authorizations.c.customer_id == customer_id,
            wallet_authorizations.c.currency == currency, wallet_authorizations.c.status == "open")).scalar_one()
        return {"customer_id": customer_id, "currency": currency, "balance_minor": balance.posted(NormalSide.CREDIT),
                "available_minor": balance.available(NormalSide.CREDIT), "held_minor": balance.debits_pending,
                "low_balance_minor": _threshold(conn, tenant, customer_id, currency), "open_authorizations": open_count}


def authorize(engine: Engine, books: SqlLedger, tenant: str, key: str, customer_id: str, amount: Money, ttl: timedelta,
              reference: str | None, now: datetime) -> dict[str, Any]:
    """Reserve `amount` of the wallet for a device; refused with InsufficientFunds beyond what is available.

    The hot path of a prepaid device, so it is written for few round trips: the hold does not look its key up first
    (the unique key catches a retry, which then answers with the authorization it made), the balance after the hold
    comes from the wallet row the hold locked, and the low-balance threshold is read by the authorization's INSERT
    (RETURNING a subquery), in the same transaction, so it is never stale. The wallet row lock (FOR UPDATE in the
    ledger) still serializes holds on one wallet: no overdraft under concurrency.
    """
    with engine.begin() as conn:
        wallet, receivable = _accounts(books, conn, tenant, customer_id, amount.currency)
        held = books.hold_unless_recorded(conn, tenant, authorization_request(key, wallet, receivable, customer_id, amount, reference, now + ttl))
        if held is None:  # a retried request (same key) answers with its authorization; the expiry it asked for then is kept
            existing = _authorization(conn, books.transfer_by_key(conn, tenant, f"authorize:{key}").id)
            if (existing["customer_id"], existing["amount_minor"], existing["currency"]) != (customer_id, amount.minor, amount.currency):
                raise IdempotencyConflict(f"idempotency key {key!r} was used for another authorization")
            return existing
        hold, balances = held
        row = authorization_row(hold.id, tenant, customer_id, amount, reference, now, ttl)
        threshold = conn.execute(_INSERT_AUTHORIZATION, {**row, **_threshold_params(tenant, customer_id, amount.currency)}).scalar()
        after = balances[wallet].available(NormalSide.CREDIT)
        _alert(conn, tenant, customer_id, amount.currency, after + amount.minor, after, threshold=int(threshold or 0))  # the hold took `amount`
        return row


def authorization_row(hold_id: str, tenant: str, customer_id: str, amount: Money, reference: str | None, now: datetime,
                      ttl: timedelta) -> dict[str, Any]:
    """The wallet_authorizations row of a new authorization (also written by adapters/async_authorize.py)."""
    return {"id": hold_id, "tenant_id": tenant, "customer_id": customer_id, "currency": amount.currency, "amount_minor": amount.minor,
            "captured_minor": 0, "status": "open", "reference": reference, "expires_at": now + ttl, "created_at": now}


def authorization_request(key: str, wallet: str, receivable: str, customer_id: str, amount: Money, reference: str | None,
                          expires_at: datetime) -> TransferRequest:
    """The ledger hold an authorization places (also built by adapters/async_authorize.py: the same transfer)."""
    return TransferRequest(f"authorize:{key}", (Leg(wallet, receivable, amount.minor, amount.currency),),
                           {"kind": "authorization", "customer_id": customer_id, "reference": reference}, pending=True, expires_at=expires_at)


# Built once: SQLAlchemy then reuses its cache key and compiled form on every authorization (the hot path)
_INSERT_AUTHORIZATION = wallet_authorizations.insert().returning(_THRESHOLD.scalar_subquery())


def _authorization(conn: Connection, hold_id: str) -> dict[str, Any]:
    row = conn.execute(select(wallet_authorizations).where(wallet_authorizations.c.id == hold_id)).first()
    return dict(row._mapping)


def _open(conn: Connection, tenant: str, hold_id: str):
    stmt = select(wallet_authorizations).where(wallet_authorizations.c.tenant_id == tenant, wallet_authorizations.c.id == hold_id)
    row = conn.execute(stmt.with_for_update() if conn.dialect.name == "postgresql" else stmt).first()
    if row is None:
        raise LookupError(hold_id)
    return row


def capture(engine: Engine, books: SqlLedger, tenant: str, hold_id: str, amount: Money | None) -> dict[str, Any]:
    """Pay (part of) what was reserved; the rest of the reservation is released."""
    with engine.begin() as conn:
        auth = _open(conn, tenant, hold_id)
        if auth.status != "open":
            if auth.status == "captured" and (amount is None or amount.minor == auth.captured_minor):
                return dict(auth._mapping)  # a repeated capture
            raise AuthorizationClosed(f"authorization {hold_id} is {auth.status}")
        minor = auth.amount_minor if amount is None else amount.minor
        if amount is not None and amount.currency != auth.currency:
            raise AuthorizationClosed(f"authorization {hold_id} is in {auth.currency}")
        books.post_pending(conn, tenant, hold_id, f"capture:{hold_id}", [minor], {"kind": "wallet_usage", "authorization": hold_id})
        conn.execute(update(wallet_authorizations).where(wallet_authorizations.c.id == hold_id).values(status="captured", captured_minor=minor))
        return _authorization(conn, hold_id)


def void(engine: Engine, books: SqlLedger, tenant: str, hold_id: str) -> dict[str, Any]:
    with engine.begin() as conn:
        auth = _open(conn, tenant, hold_id)
        if auth.status == "voided":
            return dict(auth._mapping)
        if auth.status != "open":
            raise AuthorizationClosed(f"authorization {hold_id} is {auth.status}")
        books.void_pending(conn, tenant, hold_id)
        conn.execute(update(wallet_authorizations).where(wallet_authorizations.c.id == hold_id).values(status="voided"))
        return _authorization(conn, hold_id)


def expire(engine: Engine, books: SqlLedger, tenant: str, now: datetime) -> int:
    """Release reservations whose time is up: the ledger expires the holds (here or in its own worker), this marks them."""
    with engine.begin() as conn:
        books.expire_pending(conn, tenant, now)
        return conn.execute(update(wallet_authorizations).where(
            wallet_authorizations.c.tenant_id == tenant, wallet_authorizations.c.status == "open",
            wallet_authorizations.c.expires_at <= now).values(status="expired")).rowcount


def pay_usage(engine: Engine, books: SqlLedger, tenant: str, event: UsageCharged) -> dict[str, int]:
    """Pay a usage charge from the wallet: open holds first, then the free balance; never below zero."""
    key = f"usage:{event.subscription_id}:{event.period_start.isoformat()}:{event.cumulative_minor}"
    with engine.begin() as conn:
        if not first_delivery(conn, inbox, "prepaid-usage", f"{tenant}:{key}"):
            return {"paid_minor": 0, "unpaid_minor": 0, "replayed": 1}
        wallet, receivable = _accounts(books, conn, tenant, event.customer_id, event.currency)
        before_available = _available(books, conn, tenant, wallet)
        left, from_holds = event.amount_minor, 0
        holds = conn.execute(select(wallet_authorizations).where(
            wallet_authorizations.c.tenant_id == tenant, wallet_authorizations.c.customer_id == event.customer_id,
            wallet_authorizations.c.currency == event.currency, wallet_authorizations.c.status == "open",
            wallet_authorizations.c.expires_at > datetime.now(timezone.utc),  # a lapsed hold is released, not spent
        ).order_by(wallet_authorizations.c.created_at)).all()
        for auth in holds:
            if left <= 0:
                break
            take = min(left, auth.amount_minor)
            books.post_pending(conn, tenant, auth.id, f"{key}:hold:{auth.id}", [take], {"kind": "wallet_usage", "subscription_id": event.subscription_id})
            conn.execute(update(wallet_authorizations).where(wallet_authorizations.c.id == auth.id).values(status="captured", captured_minor=take))
            left -= take
            from_holds += take
        free = min(left, _available(books, conn, tenant, wallet))
        if free > 0:
            books.transfer(conn, tenant, TransferRequest(key, (Leg(wallet, receivable, free, event.currency),),
                                                         {"kind": "wallet_usage", "subscription_id": event.subscription_id}))
        unpaid = left - free
        _alert(conn, tenant, event.customer_id, event.currency, before_available, _available(books, conn, tenant, wallet), unpaid)
        write_outbox(conn, outbox, tenant, topics.PAYMENTS, event.customer_id, UsagePaid(
            subscription_id=event.subscription_id, customer_id=event.customer_id, currency=event.currency,
            period_start=event.period_start, paid_minor=from_holds + free, unpaid_minor=unpaid))
        return {"paid_minor": from_holds + free, "unpaid_minor": unpaid, "replayed": 0}
