"""billing details and tax IDs (issue 11)

Revision ID: d11d00000004
Revises: d11c00000003
Create Date: 2026-11-29 13:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (AutoString columns)
import portal_app.dbtypes  # noqa: F401


revision: str = 'd11d00000004'
down_revision: Union[str, None] = 'd11c00000003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Customers' tax IDs (portal_app/billing/tax_ids.py). Deleted ones keep their row
    # with ``deleted`` set, so that an invoice finalized while one existed still shows
    # it. A new table: no batch mode needed. (Customer already has ``shipping`` and
    # ``tax_exempt``.)
    op.create_table(
        'tax_id',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column('created', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column('deleted', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id']),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_tax_id_account_id'), 'tax_id', ['account_id'], unique=False)
    op.create_index('ix_tax_id_customer', 'tax_id', ['customer_id', 'created'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tax_id_customer', table_name='tax_id')
    op.drop_index(op.f('ix_tax_id_account_id'), table_name='tax_id')
    op.drop_table('tax_id')
