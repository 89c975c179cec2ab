"""budgets

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('budget_alerts',
    sa.Column('budget_id', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint('budget_id', 'period_start', 'level', name='uq_budget_alert_level')
    )
    op.create_table('budgets',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('subscription_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('charge_code', sa.String(length=100), nullable=True),
    sa.Column('limit_value', sa.String(length=40), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budgets'))
    )
    op.create_index(op.f('ix_budgets_subscription_id'), 'budgets', ['subscription_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_budgets_subscription_id'), table_name='budgets')
    op.drop_table('budgets')
    op.drop_table('budget_alerts')
