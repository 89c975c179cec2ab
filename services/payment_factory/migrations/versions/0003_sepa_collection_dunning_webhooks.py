"""SEPA mandates, collection runs and their collections, dunning notices, the provider webhook inbox

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('collection_runs',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('run_on', sa.Date(), nullable=False),
    sa.Column('trigger', sa.String(length=10), nullable=False),
    sa.Column('collections', sa.Integer(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('pain008', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_runs')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name='uq_collection_runs_tenant_key')
    )
    op.create_table('collections',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=30), nullable=False),
    sa.Column('mandate_id', sa.String(length=64), nullable=True),
    sa.Column('sequence_type', sa.String(length=4), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('end_to_end_id', sa.String(length=35), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('next_attempt_on', sa.Date(), nullable=True),
    sa.Column('payment_id', sa.String(length=64), nullable=True),
    sa.Column('return_code', sa.String(length=8), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collections')),
    sa.UniqueConstraint('tenant_id', 'end_to_end_id', name='uq_collections_tenant_e2e')
    )
    op.create_index(op.f('ix_collections_customer_id'), 'collections', ['customer_id'], unique=False)
    op.create_index(op.f('ix_collections_run_id'), 'collections', ['run_id'], unique=False)
    op.create_table('dunning_notices',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('invoice_id', sa.String(length=64), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('outstanding_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_notices')),
    sa.UniqueConstraint('tenant_id', 'invoice_id', 'level', name='uq_dunning_notices_invoice_level')
    )
    op.create_index(op.f('ix_dunning_notices_customer_id'), 'dunning_notices', ['customer_id'], unique=False)
    op.create_table('sepa_mandates',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.String(length=35), nullable=False),
    sa.Column('creditor_id', sa.String(length=35), nullable=False),
    sa.Column('scheme', sa.String(length=4), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('debtor_name', sa.String(length=70), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=False),
    sa.Column('last_used_on', sa.Date(), nullable=True),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sepa_mandates')),
    sa.UniqueConstraint('tenant_id', 'reference', name='uq_sepa_mandates_tenant_reference')
    )
    op.create_index(op.f('ix_sepa_mandates_customer_id'), 'sepa_mandates', ['customer_id'], unique=False)
    op.create_table('webhook_events',
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('raw_type', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('outcome', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('provider', 'event_id', name=op.f('pk_webhook_events'))
    )


def downgrade() -> None:
    op.drop_table('webhook_events')
    op.drop_index(op.f('ix_sepa_mandates_customer_id'), table_name='sepa_mandates')
    op.drop_table('sepa_mandates')
    op.drop_index(op.f('ix_dunning_notices_customer_id'), table_name='dunning_notices')
    op.drop_table('dunning_notices')
    op.drop_index(op.f('ix_collections_run_id'), table_name='collections')
    op.drop_index(op.f('ix_collections_customer_id'), table_name='collections')
    op.drop_table('collections')
    op.drop_table('collection_runs')
