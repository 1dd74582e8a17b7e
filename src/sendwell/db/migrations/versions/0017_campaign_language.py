"""campaigns.language: the language of the words sendwell writes into a campaign (its built-in layouts' footer)

Campaigns made before it were written in English: they keep it.

Revision ID: 0017_campaign_language
Revises: 0016_pg_recipient_key
Create Date: 2026-12-06 17:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_campaign_language'
down_revision = '0016_pg_recipient_key'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('language', sa.String(length=16), nullable=False, server_default='en'))


def downgrade() -> None:
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('language')
