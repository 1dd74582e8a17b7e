"""recipients: no index on message_id

Every campaign Message-ID sendwell has written is `<campaign.recipient.random@domain>` (sending/msgid.py): a
report that quotes one finds its row by the key, then compares the whole Message-ID. The index cost an insert per
message sent (about a tenth of a sending process's time with two processes on SQLite: docs/performance.md).
Going down builds the index again with a plain CREATE INDEX, which holds writes to the ledger (sending) until
it is built (the longer, the more rows were sent).

Revision ID: 0018_no_message_id_index
Revises: 0017_campaign_language
Create Date: 2026-12-07 01:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0018_no_message_id_index'
down_revision = '0017_campaign_language'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_recipients_message_id', table_name='recipients')


def downgrade() -> None:
    where = sa.text('message_id IS NOT NULL')
    op.create_index(
        'ix_recipients_message_id', 'recipients', ['message_id'], sqlite_where=where, postgresql_where=where
    )
