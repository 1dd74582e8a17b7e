"""index events by campaign and type (tracking and complaint statistics)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 01:55:00
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_campaign_type', ['campaign_id', 'type'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_campaign_type')
