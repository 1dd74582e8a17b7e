"""recipients: the spelling and the queue time are stored only where they say something

Resolving an audience wrote, for every recipient, its address twice (`display`, the spelling from the
list, is the address itself for nearly every row) and the campaign's start time as text (`queued_at`,
32 bytes in SQLite): together about half of each new row. Now `display` is NULL when it is the address,
and `queued_at` is NULL for rows queued when the campaign started (`campaigns.started_at`); readers
fall back to those. Rows already written keep their values, which read the same.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.alter_column('display', existing_type=sa.String(length=320), nullable=True)
        batch_op.alter_column('queued_at', existing_type=_STAMP, nullable=True)


def downgrade() -> None:
    op.execute('UPDATE recipients SET display = email WHERE display IS NULL')
    # a campaign gets started_at in the transaction that writes its rows; CURRENT_TIMESTAMP only guards NOT NULL
    op.execute('UPDATE recipients SET queued_at = COALESCE((SELECT c.started_at FROM campaigns c '
               'WHERE c.id = recipients.campaign_id), CURRENT_TIMESTAMP) WHERE queued_at IS NULL')
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.alter_column('queued_at', existing_type=_STAMP, nullable=False)
        batch_op.alter_column('display', existing_type=sa.String(length=320), nullable=False)
