"""API keys issued to a partner: the key reads only that partner's statements, documents and account.

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
    op.add_column('api_keys', sa.Column('partner_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('api_keys', 'partner_id')
