"""Revenue sharing: partners, their contracts and share rules; the reseller that sold a customer; clearing keys on orders.

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('partners',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('parent_id', sa.String(length=64), nullable=True),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('postcode', sa.String(length=20), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('vat_id', sa.String(length=30), nullable=True),
    sa.Column('tax_number', sa.String(length=30), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('language', sa.String(length=2), server_default='de', nullable=False),
    sa.Column('bank_holder', sa.String(length=140), nullable=True),
    sa.Column('iban', sa.String(length=34), nullable=True),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('stripe_account', sa.String(length=100), nullable=True),
    sa.Column('payout_method', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partners')),
    sa.UniqueConstraint('tenant_id', 'code', name='uq_partners_tenant_code')
    )
    op.create_table('partner_contracts',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_partner_contracts_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_contracts'))
    )
    op.create_index(op.f('ix_partner_contracts_partner_id'), 'partner_contracts', ['partner_id'], unique=False)
    op.create_table('share_rules',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('order', sa.Integer(), nullable=False),
    sa.Column('percent', sa.Numeric(precision=9, scale=4), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('source_id', sa.String(length=64), nullable=True),
    sa.Column('of_source', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('plan_codes', sa.JSON(), nullable=False),
    sa.Column('charge_codes', sa.JSON(), nullable=False),
    sa.Column('metric_codes', sa.JSON(), nullable=False),
    sa.Column('resold_only', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('min_minor', sa.BigInteger(), nullable=True),
    sa.Column('max_minor', sa.BigInteger(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_share_rules_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_rules'))
    )
    op.create_index('ix_share_rules_tenant', 'share_rules', ['tenant_id'], unique=False)
    op.add_column('customers', sa.Column('reseller_id', sa.String(length=64), nullable=True))
    op.add_column('one_time_orders', sa.Column('clearing', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('one_time_orders', 'clearing')
    op.drop_column('customers', 'reseller_id')
    op.drop_index('ix_share_rules_tenant', table_name='share_rules')
    op.drop_table('share_rules')
    op.drop_index(op.f('ix_partner_contracts_partner_id'), table_name='partner_contracts')
    op.drop_table('partner_contracts')
    op.drop_table('partners')
