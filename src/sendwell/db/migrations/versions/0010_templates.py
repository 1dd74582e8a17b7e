"""templates: layouts around a campaign's body, and the campaign's template and body format (html or markdown)

Revision ID: 0010_templates
Revises: 0009_schedule
Create Date: 2026-12-06 13:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_templates'
down_revision = '0009_schedule'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'templates',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('html', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_templates')),
        sa.UniqueConstraint('name', name=op.f('uq_templates_name')),
    )
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('template_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch.add_column(sa.Column('body_format', sa.String(length=16), nullable=False, server_default='html'))
        batch.create_foreign_key(op.f('fk_campaigns_template_id_templates'), 'templates', ['template_id'], ['id'],
                                 ondelete='RESTRICT')


def downgrade() -> None:
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_constraint(op.f('fk_campaigns_template_id_templates'), type_='foreignkey')
        batch.drop_column('body_format')
        batch.drop_column('template_id')
    op.drop_table('templates')
