"""invoice runs and drafts

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
    op.create_table('invoice_runs',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('billing_run_id', sa.String(length=64), nullable=False),
    sa.Column('invoices_requested', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'billing_run_id', name=op.f('pk_invoice_runs'))
    )
    op.add_column('invoices', sa.Column('billing_run_id', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_invoices_billing_run_id'), 'invoices', ['billing_run_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_invoices_billing_run_id'), table_name='invoices')
    op.drop_column('invoices', 'billing_run_id')
    op.drop_table('invoice_runs')
