"""campaigns.language: the language of the words sendwell writes into a campaign (its built-in layouts' footer)

Campaigns made before it were written in English: they keep it. The built-in layouts now mark their words for
translation (`{% trans %}`, `_()`): a stored copy of one exactly as it shipped before (stored when a campaign
first used it) becomes the marked one, so it follows the campaign's language too; an edited copy is left alone.
Under "en" the marked layouts render the same text, so a campaign sending across the upgrade does not change.

Revision ID: 0017_campaign_language
Revises: 0016_pg_recipient_key
Create Date: 2026-12-06 17:30:00
"""
import re
from importlib.resources import files

import sqlalchemy as sa
from alembic import op

revision = '0017_campaign_language'
down_revision = '0016_pg_recipient_key'
branch_labels = None
depends_on = None


BUILT_IN = ('newsletter', 'simple')
_TAGS = re.compile(r'\{%-?\s*(?:end)?trans\s*-?%\}')
_CALL = re.compile(r'\b_\(\s*("[^"\\]*")\s*\)')
_templates = sa.table('templates', sa.column('name', sa.String), sa.column('html', sa.Text))


def _marked(name: str) -> str:
    return (files('sendwell') / 'layouts' / f'{name}.html').read_text('utf-8')


def _unmarked(html: str) -> str:
    """The layout as it shipped before 0017: the same words, unmarked."""
    return _CALL.sub(r'\1', _TAGS.sub('', html))


def _swap(old_of, new_of) -> None:
    for name in BUILT_IN:
        marked = _marked(name)
        t = _templates
        op.execute(t.update().where(t.c.name == name, t.c.html == old_of(marked)).values(html=new_of(marked)))


def upgrade() -> None:
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('language', sa.String(length=16), nullable=False, server_default='en'))
    _swap(_unmarked, lambda marked: marked)


def downgrade() -> None:
    _swap(lambda marked: marked, _unmarked)  # older code parses layouts without the i18n extension
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('language')
