"""jobs: long work started from a page (verifying contacts) with its progress, shared by every web process

Revision ID: 0015_jobs
Revises: 0014_user_language
Create Date: 2026-12-06 16:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_jobs'
down_revision = '0014_user_language'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'jobs',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('title', sa.String(length=255), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('owner', sa.String(length=255), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    )
    op.create_index(op.f('ix_jobs_started_at'), 'jobs', ['started_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_jobs_started_at'), table_name='jobs')
    op.drop_table('jobs')
