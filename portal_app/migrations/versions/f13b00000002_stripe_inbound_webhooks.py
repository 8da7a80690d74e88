"""inbound Stripe webhooks: object snapshots, backfill progress (issue 13)

Revision ID: f13b00000002
Revises: f13a00000001
Create Date: 2026-11-29 16:30:00
"""
from typing import Sequence, Union

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel.sql.sqltypes  # noqa: F401  (AutoString columns)
import portal_app.dbtypes  # noqa: F401


revision: str = 'f13b00000002'
down_revision: Union[str, None] = 'f13a00000001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('stripe_object',
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('created', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('refetched', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('account_id', 'id')
    )
    op.create_table('stripe_backfill_cursor',
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('list_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('starting_after', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('updated', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('account_id', 'list_name')
    )


def downgrade() -> None:
    op.drop_table('stripe_backfill_cursor')
    op.drop_table('stripe_object')
