"""chunked billing runs

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
    op.add_column('billing_runs', sa.Column('subscriptions_total', sa.Integer(), server_default='0', nullable=False))
    op.add_column('billing_runs', sa.Column('subscriptions_done', sa.Integer(), server_default='0', nullable=False))
    op.add_column('billing_runs', sa.Column('cursor', sa.String(length=64), nullable=True))
    op.add_column('billing_runs', sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('billing_runs', 'completed_at')
    op.drop_column('billing_runs', 'cursor')
    op.drop_column('billing_runs', 'subscriptions_done')
    op.drop_column('billing_runs', 'subscriptions_total')
