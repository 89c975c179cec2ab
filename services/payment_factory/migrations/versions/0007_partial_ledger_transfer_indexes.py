"""Ledger transfers: the three secondary indexes cover only the rows their queries look for (partial indexes).

`ix_ledger_transfers_pending` (tenant, status, expiry) indexed every transfer although only pending holds are ever
looked up by it (expiry), and with tenant_id first PostgreSQL sometimes chose it for the batch path's idempotency-key
lookup, then filtered every transfer of the tenant. `pending_id` and `reverses` are NULL on all plain transfers.
Now: (tenant_id, expires_at) WHERE status = 'pending', and pending_id / reverses WHERE NOT NULL, so posting a plain
transfer maintains two indexes (primary key, tenant + idempotency key) instead of five.

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_ledger_transfers_pending', table_name='ledger_transfers')
    op.drop_index('ix_ledger_transfers_pending_id', table_name='ledger_transfers')
    op.drop_index('ix_ledger_transfers_reverses', table_name='ledger_transfers')
    op.create_index('ix_ledger_transfers_pending', 'ledger_transfers', ['tenant_id', 'expires_at'], unique=False,
                    postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
    op.create_index('ix_ledger_transfers_pending_id', 'ledger_transfers', ['pending_id'], unique=False,
                    postgresql_where=sa.text('pending_id IS NOT NULL'), sqlite_where=sa.text('pending_id IS NOT NULL'))
    op.create_index('ix_ledger_transfers_reverses', 'ledger_transfers', ['reverses'], unique=False,
                    postgresql_where=sa.text('reverses IS NOT NULL'), sqlite_where=sa.text('reverses IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_ledger_transfers_reverses', table_name='ledger_transfers')
    op.drop_index('ix_ledger_transfers_pending_id', table_name='ledger_transfers')
    op.drop_index('ix_ledger_transfers_pending', table_name='ledger_transfers')
    op.create_index('ix_ledger_transfers_pending', 'ledger_transfers', ['tenant_id', 'status', 'expires_at'], unique=False)
    op.create_index('ix_ledger_transfers_pending_id', 'ledger_transfers', ['pending_id'], unique=False)
    op.create_index('ix_ledger_transfers_reverses', 'ledger_transfers', ['reverses'], unique=False)
