"""subscription forms: forms and their segments, pending contacts, consents, per-address submission counts,
and the segments listed on the preference page (segments.public)

Revision ID: 0012_forms
Revises: 0011_campaign_end
Create Date: 2026-12-06 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_forms'
down_revision = '0011_campaign_end'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('segments') as batch:
        batch.add_column(sa.Column('public', sa.Boolean(), nullable=False, server_default=sa.text('false')))
    op.create_table(
        'forms',
        sa.Column('id', Id, primary_key=True),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('slug', sa.String(64), nullable=False),
        sa.Column('from_addr', sa.String(400), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('double_opt_in', sa.Boolean(), nullable=False),
        sa.Column('consent_text', sa.Text(), nullable=False),
        sa.Column('confirm_subject', sa.Text(), nullable=False),
        sa.Column('confirm_body', sa.Text(), nullable=False),
        sa.Column('created_at', Stamp, nullable=False),
        sa.Column('updated_at', Stamp, nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_forms'),
        sa.UniqueConstraint('name', name='uq_forms_name'),
        sa.UniqueConstraint('slug', name='uq_forms_slug'),
    )
    op.create_table(
        'form_segments',
        sa.Column('form_id', Id, nullable=False),
        sa.Column('segment_id', Id, nullable=False),
        sa.ForeignKeyConstraint(
            ['form_id'], ['forms.id'], name='fk_form_segments_form_id_forms', ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['segment_id'], ['segments.id'], name='fk_form_segments_segment_id_segments', ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('form_id', 'segment_id', name='pk_form_segments'),
    )
    op.create_table(
        'pending_contacts',
        sa.Column('id', Id, primary_key=True),
        sa.Column('form_id', Id, nullable=False),
        sa.Column('email', sa.String(320), nullable=False),
        sa.Column('display', sa.String(320), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('consent_text', sa.Text(), nullable=False),
        sa.Column('client_addr', sa.String(64), nullable=False),
        sa.Column('created_at', Stamp, nullable=False),
        sa.Column('expires_at', Stamp, nullable=False),
        sa.ForeignKeyConstraint(
            ['form_id'], ['forms.id'], name='fk_pending_contacts_form_id_forms', ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_pending_contacts'),
    )
    op.create_index('ix_pending_contacts_email', 'pending_contacts', ['email'])
    op.create_index('ix_pending_contacts_expires_at', 'pending_contacts', ['expires_at'])
    op.create_table(
        'consents',
        sa.Column('id', Id, primary_key=True),
        sa.Column('email', sa.String(320), nullable=False),
        sa.Column('form_id', Id, nullable=True),
        sa.Column('form_name', sa.String(200), nullable=False),
        sa.Column('segments', sa.JSON(), nullable=False),
        sa.Column('consent_text', sa.Text(), nullable=False),
        sa.Column('method', sa.String(16), nullable=False),
        sa.Column('submitted_at', Stamp, nullable=False),
        sa.Column('submitted_addr', sa.String(64), nullable=False),
        sa.Column('confirmed_at', Stamp, nullable=False),
        sa.Column('confirmed_addr', sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name='fk_consents_form_id_forms', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name='pk_consents'),
    )
    op.create_index('ix_consents_email', 'consents', ['email'])
    op.create_table(
        'form_hits',
        sa.Column('key', sa.String(64), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('window_start', Stamp, nullable=False),
        sa.PrimaryKeyConstraint('key', name='pk_form_hits'),
    )


def downgrade() -> None:
    op.drop_table('form_hits')
    op.drop_index('ix_consents_email', table_name='consents')
    op.drop_table('consents')
    op.drop_index('ix_pending_contacts_expires_at', table_name='pending_contacts')
    op.drop_index('ix_pending_contacts_email', table_name='pending_contacts')
    op.drop_table('pending_contacts')
    op.drop_table('form_segments')
    op.drop_table('forms')
    with op.batch_alter_table('segments') as batch:
        batch.drop_column('public')
