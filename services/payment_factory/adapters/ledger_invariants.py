"""The ledger's invariants, checked from the data alone so a test or an operator can trust nothing else.

Per currency, all debits equal all credits (posted and pending apart); every
account's running totals equal the sums of its entries (pending ones only
while their hold is pending); every transfer balances; no flagged account is
beyond its limit.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, case, func, select

from services.payment_factory.adapters.ledger_rows import balance_of, flags_of
from services.payment_factory.adapters.ledger_tables import LedgerTables
from services.payment_factory.domain.ledger_accounts import Balance


def _sum_where(e, direction: str, condition):
    return func.coalesce(func.sum(case((and_(e.direction == direction, condition), e.amount), else_=0)), 0)


def _entry_sums(conn: Connection, t: LedgerTables, tenant_id: str) -> dict[str, Balance]:
    e, tr = t.entries.c, t.transfers.c
    posted, held = e.phase == "posted", and_(e.phase == "pending", tr.status == "pending")
    stmt = (select(e.account_id, _sum_where(e, "D", posted), _sum_where(e, "C", posted), _sum_where(e, "D", held), _sum_where(e, "C", held))
            .join_from(t.entries, t.transfers, tr.id == e.transfer_id).where(e.tenant_id == tenant_id).group_by(e.account_id))
    return {row[0]: Balance(*(int(v) for v in row[1:])) for row in conn.execute(stmt)}


def check_invariants(conn: Connection, t: LedgerTables, tenant_id: str) -> list[str]:
    """Every violation found, as a sentence; an empty list means the tenant's ledger is sound."""
    a, e = t.accounts.c, t.entries.c
    problems: list[str] = []
    totals = select(a.currency, func.sum(a.debits_posted), func.sum(a.credits_posted), func.sum(a.debits_pending),
                    func.sum(a.credits_pending)).where(a.tenant_id == tenant_id).group_by(a.currency)
    for currency, dp, cp, dq, cq in conn.execute(totals):
        if int(dp) != int(cp) or int(dq) != int(cq):
            problems.append(f"{currency}: posted debits {dp} vs credits {cp}, pending debits {dq} vs credits {cq}")
    sums = _entry_sums(conn, t, tenant_id)
    for row in conn.execute(select(t.accounts).where(a.tenant_id == tenant_id).order_by(a.id)):
        totals_row, from_entries = balance_of(row), sums.get(row.id, Balance())
        if totals_row != from_entries:
            problems.append(f"account {row.code}: totals {totals_row} != entries {from_entries}")
        if totals_row.violates(flags_of(row)):
            problems.append(f"account {row.code} is beyond its overdraft limit: {totals_row}")
    unbalanced = (select(e.transfer_id, e.currency).where(e.tenant_id == tenant_id).group_by(e.transfer_id, e.currency)
                  .having(func.sum(case((e.direction == "D", e.amount), else_=-e.amount)) != 0))
    problems.extend(f"transfer {tid} does not balance in {cur}" for tid, cur in conn.execute(unbalanced))
    return problems
