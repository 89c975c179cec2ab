"""catalog (products, coupons) and subscription lifecycle (currency, phases, pauses, coupons, credits, orders)

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
    op.add_column('subscriptions', sa.Column('currency', sa.String(length=3), nullable=True))
    op.add_column('subscriptions', sa.Column('cancel_at_period_end', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.create_table('products',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('code', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('description', sa.String(length=1000), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'code', name='uq_products_tenant_code'))
    op.create_table('coupons',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('code', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('percentage', sa.Numeric(precision=9, scale=4), nullable=True),
        sa.Column('amount', sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('periods', sa.Integer(), nullable=True),
        sa.Column('charge_codes', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'code', name='uq_coupons_tenant_code'))
    op.create_table('subscription_coupons',
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('subscription_id', sa.String(length=64), nullable=False),
        sa.Column('coupon_id', sa.String(length=64), nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id']),
        sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id']),
        sa.UniqueConstraint('tenant_id', 'subscription_id', 'coupon_id', name='uq_subscription_coupon'))
    op.create_table('credits',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('subscription_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('granted_minor', sa.BigInteger(), nullable=False),
        sa.Column('remaining_minor', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_credits_tenant_subscription', 'credits', ['tenant_id', 'subscription_id'], unique=False)
    op.create_table('one_time_orders',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('subscription_id', sa.String(length=64), nullable=False),
        sa.Column('code', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('quantity', sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column('unit_price', sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column('tax_category', sa.String(length=3), nullable=False),
        sa.Column('tax_rate', sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column('ordered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('billed_run_id', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id']),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_orders_tenant_subscription', 'one_time_orders', ['tenant_id', 'subscription_id'], unique=False)
    op.create_table('subscription_phases',
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('subscription_id', sa.String(length=64), nullable=False),
        sa.Column('plan_id', sa.String(length=64), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['plans.id']),
        sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id']),
        sa.UniqueConstraint('tenant_id', 'subscription_id', 'started_at', name='uq_phase_sub_start'))
    op.create_table('subscription_pauses',
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('subscription_id', sa.String(length=64), nullable=False),
        sa.Column('paused_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('resumed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id']),
        sa.UniqueConstraint('tenant_id', 'subscription_id', 'paused_at', name='uq_pause_sub_start'))


def downgrade() -> None:
    op.drop_table('subscription_pauses')
    op.drop_table('subscription_phases')
    op.drop_index('ix_orders_tenant_subscription', table_name='one_time_orders')
    op.drop_table('one_time_orders')
    op.drop_index('ix_credits_tenant_subscription', table_name='credits')
    op.drop_table('credits')
    op.drop_table('subscription_coupons')
    op.drop_table('coupons')
    op.drop_table('products')
    op.drop_column('subscriptions', 'cancel_at_period_end')
    op.drop_column('subscriptions', 'currency')
