"""prepaid subscriptions

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
    op.create_table('prepaid_charges',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('subscription_id', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('charged_minor', sa.BigInteger(), nullable=False),
    sa.Column('paid_minor', sa.BigInteger(), server_default='0', nullable=False),
    sa.UniqueConstraint('tenant_id', 'subscription_id', 'period_start', name='uq_prepaid_charge_period')
    )
    op.create_table('prepaid_subscriptions',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('subscription_id', sa.String(length=64), nullable=False),
    sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint('tenant_id', 'subscription_id', name='uq_prepaid_subscription')
    )


def downgrade() -> None:
    op.drop_table('prepaid_subscriptions')
    op.drop_table('prepaid_charges')
