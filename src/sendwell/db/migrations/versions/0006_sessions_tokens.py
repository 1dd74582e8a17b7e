"""web UI sessions and failed logins kept in the database; API tokens get an expiry and a last-used time

Sessions were signed cookies that nothing could end before they expired (logging out only dropped the
browser's copy); the login throttle was counted in each process's memory. Both are tables now.

Revision ID: 0006_sessions_tokens
Revises: 0005
Create Date: 2026-12-07 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_sessions_tokens'
down_revision = '0005'
branch_labels = None
depends_on = None

_STAMP = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.add_column('api_tokens', sa.Column('expires_at', _STAMP, nullable=True))
    op.add_column('api_tokens', sa.Column('last_used_at', _STAMP, nullable=True))
    op.create_table(
        'sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', _ID, nullable=False),
        sa.Column('created_at', _STAMP, nullable=False),
        sa.Column('last_seen_at', _STAMP, nullable=False),
        sa.Column('revoked_at', _STAMP, nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_sessions_user_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_sessions'),
    )
    op.create_index('ix_sessions_user_id', 'sessions', ['user_id'])
    op.create_table(
        'login_failures',
        sa.Column('key', sa.String(length=320), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_start', _STAMP, nullable=False),
        sa.PrimaryKeyConstraint('key', name='pk_login_failures'),
    )


def downgrade() -> None:
    op.drop_table('login_failures')
    op.drop_index('ix_sessions_user_id', table_name='sessions')
    op.drop_table('sessions')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
