"""daily usage counted per worker (one row each), so concurrent workers do not all update the day's row

Revision ID: 0013_usage_shards
Revises: 0012_forms
Create Date: 2026-12-06 13:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_usage_shards'
down_revision = '0012_forms'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'usage_shards',
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('owner', sa.String(length=255), nullable=False),
        sa.Column('sent', sa.Integer(), nullable=False),
        sa.Column('address_errors', sa.Integer(), nullable=False),
        sa.Column('granted', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'owner', name=op.f('pk_usage_shards')),
    )


def downgrade() -> None:
    # Fold the workers' counts back into the day's row before the shards go.
    op.execute(
        "UPDATE daily_usage SET "
        "sent = sent + COALESCE((SELECT SUM(s.sent) FROM usage_shards s WHERE s.day = daily_usage.day), 0), "
        "address_errors = address_errors + "
        "COALESCE((SELECT SUM(s.address_errors) FROM usage_shards s WHERE s.day = daily_usage.day), 0)"
    )
    op.drop_table('usage_shards')
