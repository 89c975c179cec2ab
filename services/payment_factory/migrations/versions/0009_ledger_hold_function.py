"""PostgreSQL only: `ledger_hold_unless_recorded`, a ledger hold in one round trip (a device's authorization).

Placing a hold from Python takes about eight round trips (lock the accounts, insert the transfer, its entries, two
guarded balance updates, ...), and on a small machine each costs a few hundred microseconds of client CPU. This
function does the same steps inside the server, in the caller's transaction, in the same order:

1. lock the tenant's accounts FOR UPDATE in id order (as `ledger_writes.lock_accounts`, so no deadlock with Python
   writers);
2. when an account is missing, a leg's currency differs from its account's, or the new totals would break an
   account's limit, it writes nothing and answers 'refer': the caller runs the Python path, which raises the precise
   error (or finds the key already recorded);
3. inserts the transfer unless the (tenant, key) is taken ('recorded', nothing written);
4. inserts two entries per leg and adds the deltas to the totals; the CHECK constraints still guard the result;
5. answers 'held' with each account's totals after the hold.

The deltas per account are computed by the caller (domain.ledger.account_deltas); the function does not re-derive
them. `SET search_path FROM CURRENT` binds the table names to the service's schema, because application sessions
reach their tables through SQLAlchemy's schema_translate_map, not through search_path.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION ledger_hold_unless_recorded(
    p_tenant text, p_id text, p_key text, p_hash text, p_expires timestamptz, p_now timestamptz, p_metadata json,
    p_accounts text[], p_dp bigint[], p_cp bigint[], p_dq bigint[], p_cq bigint[],
    p_debit text[], p_credit text[], p_currency text[], p_amount bigint[])
RETURNS TABLE (r_outcome text, r_account text, r_dp bigint, r_cp bigint, r_dq bigint, r_cq bigint)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $fn$
DECLARE
    n integer := cardinality(p_accounts);
    seen integer := 0;
    currencies text[] := array_fill(NULL::text, ARRAY[cardinality(p_accounts)]);
    a record;
    i integer;
BEGIN
    FOR a IN SELECT * FROM ledger_accounts
             WHERE tenant_id = p_tenant AND id = ANY (p_accounts) ORDER BY id FOR UPDATE LOOP
        i := array_position(p_accounts, a.id::text);
        seen := seen + 1;
        currencies[i] := a.currency;
        IF (a.debits_must_not_exceed_credits
                AND a.debits_posted + p_dp[i] + a.debits_pending + p_dq[i] > a.credits_posted + p_cp[i])
           OR (a.credits_must_not_exceed_debits
                AND a.credits_posted + p_cp[i] + a.credits_pending + p_cq[i] > a.debits_posted + p_dp[i]) THEN
            r_outcome := 'refer';
            RETURN NEXT;
            RETURN;
        END IF;
    END LOOP;
    IF seen < n THEN
        r_outcome := 'refer';
        RETURN NEXT;
        RETURN;
    END IF;
    FOR i IN 1 .. cardinality(p_debit) LOOP
        IF currencies[array_position(p_accounts, p_debit[i])] IS DISTINCT FROM p_currency[i]
           OR currencies[array_position(p_accounts, p_credit[i])] IS DISTINCT FROM p_currency[i] THEN
            r_outcome := 'refer';
            RETURN NEXT;
            RETURN;
        END IF;
    END LOOP;
    INSERT INTO ledger_transfers (id, tenant_id, idempotency_key, body_hash, status, is_hold, pending_id, reverses,
                                  expires_at, resolved_at, created_at, metadata)
    VALUES (p_id, p_tenant, p_key, p_hash, 'pending', true, NULL, NULL, p_expires, NULL, p_now, p_metadata)
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING;
    IF NOT FOUND THEN
        r_outcome := 'recorded';
        RETURN NEXT;
        RETURN;
    END IF;
    INSERT INTO ledger_entries (transfer_id, leg, direction, tenant_id, account_id, currency, amount, phase, created_at)
    SELECT p_id, k - 1, side.direction, p_tenant, side.account, p_currency[k], p_amount[k], 'pending', p_now
    FROM generate_subscripts(p_debit, 1) AS k
    CROSS JOIN LATERAL (VALUES ('D', p_debit[k]), ('C', p_credit[k])) AS side (direction, account);
    FOR i IN 1 .. n LOOP
        UPDATE ledger_accounts
           SET debits_posted = debits_posted + p_dp[i], credits_posted = credits_posted + p_cp[i],
               debits_pending = debits_pending + p_dq[i], credits_pending = credits_pending + p_cq[i]
         WHERE id = p_accounts[i]
        RETURNING id, debits_posted, credits_posted, debits_pending, credits_pending
             INTO r_account, r_dp, r_cp, r_dq, r_cq;
        r_outcome := 'held';
        RETURN NEXT;
    END LOOP;
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_hold_unless_recorded(text, text, text, text, timestamptz, timestamptz, json, "
                   "text[], bigint[], bigint[], bigint[], bigint[], text[], text[], text[], bigint[])")
