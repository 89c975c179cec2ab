"""A ledger hold in one round trip on PostgreSQL: the stored function of migration 0009.

A prepaid device waits for its authorization, and from Python a hold takes about eight round trips. The function
does the same writes in the server (lock in id order, insert transfer and entries, add the totals) and answers the
totals after the hold. Whatever it does not decide itself (an unknown account, another currency, too little
money) it leaves to the Python path, having written nothing, so every refusal is still raised by one code path
(`SqlLedger.hold_unless_recorded`). A test places the same holds both ways and compares every row written.

Used only where the function exists: a schema made by the payment factory's migrations. Schemas made from the
table definitions alone (the ledger's contract tests) keep the Python path.
"""

from __future__ import annotations

import json
from typing import Mapping, Sequence

from sqlalchemy import Connection

from libs.platform.db import schema_of
from services.payment_factory.domain.ledger import Leg
from services.payment_factory.domain.ledger_accounts import Balance

FUNCTION = "ledger_hold_unless_recorded"
_AVAILABLE: dict[str, bool] = {}  # schema -> whether its migrations created the function


def available(conn: Connection) -> bool:
    """Whether this connection's schema has the function (looked up once per schema and process)."""
    if conn.dialect.name != "postgresql":
        return False
    schema = schema_of(conn)
    found = _AVAILABLE.get(schema)
    if found is None:
        found = _AVAILABLE[schema] = conn.exec_driver_sql(
            "SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = %(schema)s AND p.proname = %(name)s)", {"schema": schema, "name": FUNCTION}).scalar()
    return bool(found)


_CALLS: dict[str, str] = {}


def quoted(schema: str) -> str:
    """`schema` as a quoted SQL identifier."""
    return '"' + schema.replace('"', '""') + '"'


def call_sql(schema: str) -> str:
    """The call in `schema`, its parameters named as `hold_params` names them (psycopg's %(name)s style)."""
    sql = _CALLS.get(schema)
    if sql is None:
        sql = _CALLS[schema] = (
            f"SELECT r_outcome, r_account, r_dp, r_cp, r_dq, r_cq FROM {quoted(schema)}.{FUNCTION}("
            "%(tenant)s, %(id)s, %(key)s, %(hash)s, %(expires)s, %(now)s, %(metadata)s::json, "
            "%(accounts)s, %(dp)s, %(cp)s, %(dq)s, %(cq)s, %(debit)s, %(credit)s, %(currency)s, %(amount)s)")
    return sql


def hold(conn: Connection, tenant_id: str, row: Mapping, legs: Sequence[Leg], deltas: Mapping[str, Balance]) -> tuple[str, dict[str, Balance]]:
    """Place the hold whose transfer row is `row` (as SqlLedger builds it): ('held', each account's totals after it),
    ('recorded', {}) when the tenant already used the key, or ('refer', {}) to decide in Python. Only 'held' wrote."""
    rows = conn.exec_driver_sql(call_sql(schema_of(conn)), hold_params(tenant_id, row, legs, deltas)).all()
    return outcome_of(rows)


def outcome_of(rows: Sequence[Sequence]) -> tuple[str, dict[str, Balance]]:
    """The function's answer: its outcome, and for 'held' each account's totals after the hold."""
    outcome = rows[0][0]
    if outcome != "held":
        return outcome, {}
    return outcome, {r[1]: Balance(int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows}


def hold_params(tenant_id: str, row: Mapping, legs: Sequence[Leg], deltas: Mapping[str, Balance]) -> dict:
    accounts = sorted(deltas)
    return {
        "tenant": tenant_id, "id": row["id"], "key": row["idempotency_key"], "hash": row["body_hash"], "expires": row["expires_at"],
        "now": row["created_at"], "metadata": json.dumps(row["metadata"]), "accounts": accounts,
        "dp": [deltas[a].debits_posted for a in accounts], "cp": [deltas[a].credits_posted for a in accounts],
        "dq": [deltas[a].debits_pending for a in accounts], "cq": [deltas[a].credits_pending for a in accounts],
        "debit": [leg.debit_account for leg in legs], "credit": [leg.credit_account for leg in legs],
        "currency": [leg.currency for leg in legs], "amount": [leg.amount_minor for leg in legs],
    }
