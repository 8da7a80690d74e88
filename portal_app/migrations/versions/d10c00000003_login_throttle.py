"""console login throttling (issue 10)

Revision ID: d10c00000003
Revises: d10b00000002
Create Date: 2026-11-29 11:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (AutoString columns)
import portal_app.dbtypes  # noqa: F401


revision: str = 'd10c00000003'
down_revision: Union[str, None] = 'd10b00000002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Console sign-in failures, counted per email and per client address (see
    # portal_app/accounts/throttle.py). A table rather than process memory, so that
    # every server worker counts the same failures. A new table: no batch mode needed.
    op.create_table(
        'login_failure',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('key_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_failure_key', 'login_failure',
                    ['scope', 'key_digest', 'created'], unique=False)
    op.create_index(op.f('ix_login_failure_created'), 'login_failure', ['created'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_login_failure_created'), table_name='login_failure')
    op.drop_index('ix_login_failure_key', table_name='login_failure')
    op.drop_table('login_failure')
