"""usage events indexed by (subscription, time) instead of (tenant, subscription, time)

Only the unique (tenant, event id) key now starts with the tenant, so a lookup of event ids can only be planned on it:
with the tenant first in both, a planner whose statistics did not know the tenant yet scanned all its rows on the
second index and filtered them by id (bench/results/usage_runs.txt, session 9). Subscription ids are unique across
tenants, and every query of a subscription's usage names it; the index is also smaller, which every insert pays for.

Revision ID: 0009
Revises: 0008
"""

from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_usage_subscription_ts', 'usage_events', ['subscription_id', 'ts'], unique=False)
    op.drop_index('ix_usage_sub_ts', table_name='usage_events')


def downgrade() -> None:
    op.create_index('ix_usage_sub_ts', 'usage_events', ['tenant_id', 'subscription_id', 'ts'], unique=False)
    op.drop_index('ix_usage_subscription_ts', table_name='usage_events')
