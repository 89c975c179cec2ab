"""invoice e-mail dispatch

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('invoices', sa.Column('email_to', sa.String(length=320), nullable=True))
    op.add_column('invoices', sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('invoices', sa.Column('email_attempts', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    op.drop_column('invoices', 'email_attempts')
    op.drop_column('invoices', 'emailed_at')
    op.drop_column('invoices', 'email_to')
