"""per-relay daily counts, for relays with a daily cap

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 03:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'relay_usage',
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('relay', sa.String(length=255), nullable=False),
        sa.Column('sent', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'relay'),
    )


def downgrade() -> None:
    op.drop_table('relay_usage')
