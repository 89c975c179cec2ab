"""A device's authorization on PostgreSQL from the event loop: no thread hop, no ORM, the hold in one call.

`prepaid.authorize` runs in FastAPI's thread pool through SQLAlchemy: per authorization about 1 ms of the payment
factory's CPU went to the hop into the pool, SQLAlchemy's statement and result machinery and psycopg's conversion of
the hold's arrays, on a path a device waits for. Here the same transaction is sent over an asynchronous psycopg
connection with server-side prepared statements: the ledger's hold function (`ledger_one_trip`), the authorization's
INSERT that also reads the low-balance threshold, and only when the hold crosses a threshold the alert's outbox row.
It writes exactly the rows `prepaid.authorize` writes (a test compares them).

Only the common case is taken here. Whatever it does not decide itself it hands back (None) to `prepaid.authorize`,
having written nothing: accounts this process has not seen yet (they may need opening), a key already recorded (a
retry, answered with its authorization), too little money or an account in another currency (the Python path raises
the precise refusal), and a lost connection (the Python path has the engine's pre-ping and retry).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from libs.contracts import topics
from libs.money import Money
from libs.platform.outbox import outbox_values
from services.payment_factory.adapters import ledger_one_trip
from services.payment_factory.adapters.sql_ledger import SqlLedger
from services.payment_factory.app.accounts import customer_code, known_account_id
from services.payment_factory.app.prepaid import authorization_request, authorization_row, balance_alert
from services.payment_factory.domain.ledger import account_deltas
from services.payment_factory.domain.ledger_accounts import AccountPurpose, NormalSide

log = logging.getLogger(__name__)


class _HandBack(Exception):
    """Roll back and let the Python path decide."""


class AsyncAuthorizer:
    def __init__(self, url: str, schema: str, books: SqlLedger, on_outbox_row, max_connections: int = 4):
        self._books, self._on_outbox_row = books, on_outbox_row
        q = ledger_one_trip.quoted(schema)
        self._hold = ledger_one_trip.call_sql(schema)
        self._insert = (
            f"INSERT INTO {q}.wallet_authorizations (id, tenant_id, customer_id, currency, amount_minor, captured_minor, status, "
            "reference, expires_at, created_at) VALUES (%(id)s, %(tenant_id)s, %(customer_id)s, %(currency)s, %(amount_minor)s, "
            "%(captured_minor)s, %(status)s, %(reference)s, %(expires_at)s, %(created_at)s) "
            f"RETURNING (SELECT low_balance_minor FROM {q}.wallet_settings WHERE tenant_id = %(tenant_id)s "
            "AND customer_id = %(customer_id)s AND currency = %(currency)s)")
        self._outbox = (f"INSERT INTO {q}.outbox (message_id, topic, key, payload, created_at) "
                        "VALUES (%(message_id)s, %(topic)s, %(key)s, %(payload)s, %(created_at)s)")
        conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._pool = AsyncConnectionPool(conninfo, min_size=1, max_size=max_connections, open=False, name="authorize",
                                         kwargs={"prepare_threshold": 1})

    async def open(self) -> None:
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    async def authorize(self, tenant: str, key: str, customer_id: str, amount: Money, ttl: timedelta, reference: str | None,
                        now: datetime) -> dict[str, Any] | None:
        """The authorization made (as `prepaid.authorize` returns it), or None: `prepaid.authorize` is to decide."""
        wallet = known_account_id(self._books, tenant, customer_code(customer_id, AccountPurpose.PREPAID_WALLET, amount.currency))
        receivable = known_account_id(self._books, tenant, customer_code(customer_id, AccountPurpose.CUSTOMER_RECEIVABLE, amount.currency))
        if wallet is None or receivable is None:
            return None
        request = authorization_request(key, wallet, receivable, customer_id, amount, reference, now + ttl)
        transfer, hold_row = self._books.new_hold(tenant, request)
        row = authorization_row(transfer.id, tenant, customer_id, amount, reference, now, ttl)
        alerted = False
        try:
            async with self._pool.connection(timeout=2) as conn:
                async with conn.transaction():
                    cur = await conn.execute(self._hold, ledger_one_trip.hold_params(tenant, hold_row, transfer.legs,
                                                                                    account_deltas(request.legs, True)))
                    outcome, balances = ledger_one_trip.outcome_of(await cur.fetchall())
                    if outcome != "held":
                        raise _HandBack(outcome)
                    threshold = int((await (await conn.execute(self._insert, row)).fetchone())[0] or 0)
                    after = balances[wallet].available(NormalSide.CREDIT)
                    alert = balance_alert(customer_id, amount.currency, after + amount.minor, after, threshold)  # the hold took `amount`
                    if alert is not None:
                        await conn.execute(self._outbox, outbox_values(tenant, topics.PAYMENTS, customer_id, alert))
                        alerted = True
        except _HandBack:
            return None
        except psycopg.OperationalError as exc:  # a lost connection, a pool timeout, a serialization failure
            log.warning("authorization handed to the thread pool path after %s", type(exc).__name__)
            return None
        if alerted:
            self._on_outbox_row()
        return row
