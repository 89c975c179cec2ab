"""revenue sharing: partners, settlement, fees, statements, payouts

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
    op.create_table('invoice_shares',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('invoice_id', sa.String(length=64), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'invoice_id', 'partner_id', name=op.f('pk_invoice_shares'))
    )
    op.create_table('partner_fees',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('transfer_id', sa.String(length=64), nullable=False),
    sa.Column('statement_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_fees')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name='uq_partner_fees_tenant_key')
    )
    op.create_index('ix_partner_fees_partner', 'partner_fees', ['tenant_id', 'partner_id', 'currency', 'statement_id'], unique=False)
    op.create_table('partner_payouts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('execution_date', sa.Date(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('carried', sa.JSON(), nullable=False),
    sa.Column('pain001', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_payouts')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name='uq_partner_payouts_tenant_key')
    )
    op.create_table('partner_statements',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=True),
    sa.Column('document_id', sa.String(length=64), nullable=True),
    sa.Column('tax_category', sa.String(length=3), nullable=False),
    sa.Column('tax_rate', sa.String(length=10), nullable=False),
    sa.Column('net_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False),
    sa.Column('fees_minor', sa.BigInteger(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('payout_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_statements'))
    )
    op.create_index(op.f('ix_partner_statements_partner_id'), 'partner_statements', ['partner_id'], unique=False)
    op.create_table('partners',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('party', sa.JSON(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('parent_id', sa.String(length=64), nullable=True),
    sa.Column('bank', sa.JSON(), nullable=True),
    sa.Column('stripe_account', sa.String(length=100), nullable=True),
    sa.Column('payout_method', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'partner_id', name=op.f('pk_partners'))
    )
    op.create_table('revenue_sharing_settings',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('settlement_basis', sa.String(length=10), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_revenue_sharing_settings'))
    )
    op.create_table('settled_invoices',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('invoice_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('basis', sa.String(length=10), nullable=False),
    sa.Column('net_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False),
    sa.Column('cash_minor', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'invoice_id', name=op.f('pk_settled_invoices'))
    )
    op.create_table('settlement_entries',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('invoice_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('cause', sa.String(length=20), nullable=False),
    sa.Column('caused_by', sa.String(length=64), nullable=False),
    sa.Column('transfer_id', sa.String(length=64), nullable=False),
    sa.Column('statement_id', sa.String(length=64), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_entries')),
    sa.UniqueConstraint('tenant_id', 'invoice_id', 'partner_id', 'cause', 'caused_by', name='uq_settlement_entries_cause')
    )
    op.create_index('ix_settlement_entries_partner', 'settlement_entries', ['tenant_id', 'partner_id', 'currency', 'statement_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_settlement_entries_partner', table_name='settlement_entries')
    op.drop_table('settlement_entries')
    op.drop_table('settled_invoices')
    op.drop_table('revenue_sharing_settings')
    op.drop_table('partners')
    op.drop_index(op.f('ix_partner_statements_partner_id'), table_name='partner_statements')
    op.drop_table('partner_statements')
    op.drop_table('partner_payouts')
    op.drop_index('ix_partner_fees_partner', table_name='partner_fees')
    op.drop_table('partner_fees')
    op.drop_table('invoice_shares')
