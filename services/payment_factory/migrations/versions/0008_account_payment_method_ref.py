"""Account settings: the customer's saved payment method at the provider (a PayPal vault id, a Stripe PaymentMethod).

A collection charges the customer without the customer present; PayPal needs a vaulted payment source for that.

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
    op.add_column('account_settings', sa.Column('payment_method_ref', sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column('account_settings', 'payment_method_ref')
