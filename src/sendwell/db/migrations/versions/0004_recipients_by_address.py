"""recipients: one address index (email, campaign) instead of two; no contact_id; indexes for deletes and verdicts

Resolving an audience wrote the address into two indexes of the ledger (the unique (campaign, email) and
(email)) and looked up every candidate's contact row for its id and verdict. The unique constraint now
leads with the address, so it serves both lookups; the contact's fields are found by address when they
are needed (sending, tracking, exports); verdicts are read from a small partial index of verified contacts.
Deleting a contact no longer scans the whole ledger (ON DELETE SET NULL on an unindexed contact_id), and
deleting recipients no longer scans all events (recipient_id is indexed).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 06:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_VERIFIED = sa.text('verdict IS NOT NULL')


def upgrade() -> None:
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_constraint('fk_recipients_contact_id_contacts', type_='foreignkey')
        batch_op.drop_constraint('uq_recipients_campaign_email', type_='unique')
        batch_op.drop_index('ix_recipients_email')
        batch_op.drop_column('contact_id')
        batch_op.create_unique_constraint('uq_recipients_email_campaign', ['email', 'campaign_id'])
    op.create_index('ix_events_recipient_id', 'events', ['recipient_id'], unique=False)
    op.create_index('ix_contacts_verdict', 'contacts', ['verdict', 'email'], unique=False,
                    sqlite_where=_VERIFIED, postgresql_where=_VERIFIED)


def downgrade() -> None:
    op.drop_index('ix_contacts_verdict', table_name='contacts')
    op.drop_index('ix_events_recipient_id', table_name='events')
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_constraint('uq_recipients_email_campaign', type_='unique')
        batch_op.add_column(sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite')))
        batch_op.create_foreign_key('fk_recipients_contact_id_contacts', 'contacts', ['contact_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_unique_constraint('uq_recipients_campaign_email', ['campaign_id', 'email'])
        batch_op.create_index('ix_recipients_email', ['email'], unique=False)
    op.execute('UPDATE recipients SET contact_id = (SELECT c.id FROM contacts c WHERE c.email = recipients.email)')
