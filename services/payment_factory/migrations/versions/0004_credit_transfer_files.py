"""Credit-transfer files (pain.001) paying bank refunds out, and which file paid each refund

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credit_transfer_files',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('execution_date', sa.Date(), nullable=False),
    sa.Column('transfers', sa.Integer(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('pain001', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_transfer_files')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name='uq_credit_transfer_files_tenant_key')
    )
    op.add_column('payment_reversals', sa.Column('credit_transfer_file_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('payment_reversals', 'credit_transfer_file_id')
    op.drop_table('credit_transfer_files')
