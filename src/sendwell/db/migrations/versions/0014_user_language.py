"""users.language: the web UI's language a user chose (none: follow the browser)

Revision ID: 0014_user_language
Revises: 0013_usage_shards
Create Date: 2026-12-06 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_user_language'
down_revision = '0013_usage_shards'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('language', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('language')
