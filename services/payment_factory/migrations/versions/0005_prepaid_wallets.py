"""prepaid wallets

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wallet_authorizations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('captured_minor', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_authorizations'))
    )
    op.create_index('ix_wallet_authorizations_open', 'wallet_authorizations', ['tenant_id', 'customer_id', 'status'], unique=False)
    op.create_table('wallet_settings',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('low_balance_minor', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'customer_id', 'currency', name=op.f('pk_wallet_settings'))
    )


def downgrade() -> None:
    op.drop_table('wallet_settings')
    op.drop_index('ix_wallet_authorizations_open', table_name='wallet_authorizations')
    op.drop_table('wallet_authorizations')
