"""PostgreSQL: segment members' key includes the spelling (display)

Resolving an audience reads each member's address and spelling in key order. With the spelling only in the
table, PostgreSQL fetched every member's row: 0.45 s of the 1.2 s the read takes for an 800,000-member segment
(docs/performance.md). With `INCLUDE (display)` it reads the key alone, on every page a VACUUM has marked
all-visible (segment imports vacuum after a big import: segments.py). SQLite is unchanged.
The key is rebuilt: the table is locked for writes and reads while it is (a second or so a million members).

Revision ID: 0019_member_key_spelling
Revises: 0018_no_message_id_index
Create Date: 2026-12-07 04:00:00
"""
from alembic import op

revision = '0019_member_key_spelling'
down_revision = '0018_no_message_id_index'
branch_labels = None
depends_on = None


def _key(include: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        'ALTER TABLE segment_members DROP CONSTRAINT pk_segment_members, '
        f'ADD CONSTRAINT pk_segment_members PRIMARY KEY (segment_id, email){include}'
    )


def upgrade() -> None:
    _key(' INCLUDE (display)')


def downgrade() -> None:
    _key('')
