"""campaign end: the state `done` is called `finished`, and the audience figures are kept when it is resolved

Revision ID: 0011_campaign_end
Revises: 0010_templates
Create Date: 2026-12-06 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_campaign_end'
down_revision = '0010_templates'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns') as batch:
        # {candidates, excluded, blacklisted, skipped_by_verification, queued}: what the audience was when resolved
        batch.add_column(sa.Column('audience', sa.JSON(), nullable=True))
    op.execute("UPDATE campaigns SET state = 'finished' WHERE state = 'done'")


def downgrade() -> None:
    op.execute("UPDATE campaigns SET state = 'done' WHERE state = 'finished'")
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('audience')
