"""campaign history: test sends and other actions kept apart from the statistics

Revision ID: 0008
Revises: 0007_webhook_replay
Create Date: 2026-12-01 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007_webhook_replay'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'campaign_history',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_campaign_history_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_history')),
    )
    op.create_index(op.f('ix_campaign_history_campaign_id'), 'campaign_history', ['campaign_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_campaign_history_campaign_id'), table_name='campaign_history')
    op.drop_table('campaign_history')
