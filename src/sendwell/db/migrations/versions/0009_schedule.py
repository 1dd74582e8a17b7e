"""campaign scheduling: the time the worker starts a scheduled campaign, and the zone it was given in

Revision ID: 0009_schedule
Revises: 0008
Create Date: 2026-12-06 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_schedule'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('schedule_tz', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('schedule_tz')
        batch.drop_column('scheduled_at')
