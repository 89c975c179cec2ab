"""SQL ledger with two-phase holds replaces the first simple ledger; payment reversals (refunds, chargebacks).

The new ledger keeps one row per leg side, posted and pending totals and
overdraft flags; its layout differs too much from the first ledger's for an
in-place change, so its three tables are dropped and created anew. The first
ledger only ever held receivables re-derivable from issued invoices and
payments, and no release carried it; its rows are not migrated.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table('ledger_entries')
    op.drop_table('ledger_transfers')
    op.drop_table('ledger_accounts')
    op.create_table('ledger_accounts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('owner_type', sa.String(length=40), nullable=True),
    sa.Column('owner_id', sa.String(length=64), nullable=True),
    sa.Column('debits_must_not_exceed_credits', sa.Boolean(), nullable=False),
    sa.Column('credits_must_not_exceed_debits', sa.Boolean(), nullable=False),
    sa.Column('debits_posted', sa.BigInteger(), nullable=False),
    sa.Column('credits_posted', sa.BigInteger(), nullable=False),
    sa.Column('debits_pending', sa.BigInteger(), nullable=False),
    sa.Column('credits_pending', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits)', name=op.f('ck_ledger_accounts_one_limit')),
    sa.CheckConstraint('NOT credits_must_not_exceed_debits OR credits_posted + credits_pending <= debits_posted', name=op.f('ck_ledger_accounts_credits_within_debits')),
    sa.CheckConstraint('NOT debits_must_not_exceed_credits OR debits_posted + debits_pending <= credits_posted', name=op.f('ck_ledger_accounts_debits_within_credits')),
    sa.CheckConstraint('debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0', name=op.f('ck_ledger_accounts_totals_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_accounts')),
    sa.UniqueConstraint('id', 'currency', name='uq_ledger_accounts_id_currency'),
    sa.UniqueConstraint('tenant_id', 'code', name='uq_ledger_accounts_tenant_code'),
    info={'owner': 'services.payment_factory.adapters.ledger_tables'}
    )
    op.create_table('ledger_transfers',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('is_hold', sa.Boolean(), nullable=False),
    sa.Column('pending_id', sa.String(length=64), nullable=True),
    sa.Column('reverses', sa.String(length=64), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('metadata', sa.JSON(), nullable=False),
    sa.CheckConstraint("is_hold OR status = 'posted'", name=op.f('ck_ledger_transfers_only_holds_pend')),
    sa.CheckConstraint("status IN ('posted', 'pending', 'voided', 'expired')", name=op.f('ck_ledger_transfers_status_known')),
    sa.ForeignKeyConstraint(['pending_id'], ['ledger_transfers.id'], name=op.f('fk_ledger_transfers_pending_id_ledger_transfers')),
    sa.ForeignKeyConstraint(['reverses'], ['ledger_transfers.id'], name=op.f('fk_ledger_transfers_reverses_ledger_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transfers')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name='uq_ledger_transfers_tenant_key')
    )
    op.create_index('ix_ledger_transfers_pending', 'ledger_transfers', ['tenant_id', 'status', 'expires_at'], unique=False)
    op.create_index('ix_ledger_transfers_pending_id', 'ledger_transfers', ['pending_id'], unique=False)
    op.create_index('ix_ledger_transfers_reverses', 'ledger_transfers', ['reverses'], unique=False)
    op.create_table('ledger_entries',
    sa.Column('transfer_id', sa.String(length=64), nullable=False),
    sa.Column('leg', sa.SmallInteger(), nullable=False),
    sa.Column('direction', sa.String(length=1), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('phase', sa.String(length=7), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("direction IN ('D', 'C')", name=op.f('ck_ledger_entries_direction_known')),
    sa.CheckConstraint("phase IN ('posted', 'pending')", name=op.f('ck_ledger_entries_phase_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_ledger_entries_amount_positive')),
    sa.ForeignKeyConstraint(['account_id', 'currency'], ['ledger_accounts.id', 'ledger_accounts.currency'], name='fk_ledger_entries_account_currency'),
    sa.ForeignKeyConstraint(['transfer_id'], ['ledger_transfers.id'], name=op.f('fk_ledger_entries_transfer_id_ledger_transfers')),
    sa.PrimaryKeyConstraint('transfer_id', 'leg', 'direction', name='pk_ledger_entries')
    )
    op.create_index('ix_ledger_entries_account_at', 'ledger_entries', ['account_id', 'created_at'], unique=False)
    op.create_table('payment_reversals',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('payment_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('transfer_id', sa.String(length=64), nullable=False),
    sa.Column('reopened', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_reversals')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name='uq_payment_reversals_tenant_key')
    )
    op.create_index(op.f('ix_payment_reversals_payment_id'), 'payment_reversals', ['payment_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_payment_reversals_payment_id'), table_name='payment_reversals')
    op.drop_table('payment_reversals')
    op.drop_table('ledger_entries')
    op.drop_table('ledger_transfers')
    op.drop_table('ledger_accounts')
    raise NotImplementedError("the first ledger's tables are not recreated; restore 0001 from a backup")
