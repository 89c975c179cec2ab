"""billing run chunks: several workers bill one run, each chunk claimed once

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('billing_run_chunks',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('after_id', sa.String(length=64), nullable=True),
    sa.Column('upto_id', sa.String(length=64), nullable=True),
    sa.Column('last', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.UniqueConstraint('tenant_id', 'run_id', 'seq', name='uq_billing_run_chunk')
    )


def downgrade() -> None:
    op.drop_table('billing_run_chunks')
