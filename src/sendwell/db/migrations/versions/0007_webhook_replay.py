"""webhooks: remembered one-time ids (replays) and per-provider counts

Revision ID: 0007_webhook_replay
Revises: 0006_sessions_tokens
Create Date: 2026-12-07 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_webhook_replay'
down_revision = '0006_sessions_tokens'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'webhook_nonces',
        sa.Column('provider', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('provider', 'key', name=op.f('pk_webhook_nonces')),
    )
    op.create_index(op.f('ix_webhook_nonces_expires_at'), 'webhook_nonces', ['expires_at'], unique=False)
    op.create_table(
        'webhook_counts',
        sa.Column('provider', sa.String(length=16), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('ignored', sa.Integer(), nullable=False),
        sa.Column('replays', sa.Integer(), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('provider', name=op.f('pk_webhook_counts')),
    )


def downgrade() -> None:
    op.drop_table('webhook_counts')
    op.drop_index(op.f('ix_webhook_nonces_expires_at'), table_name='webhook_nonces')
    op.drop_table('webhook_nonces')
