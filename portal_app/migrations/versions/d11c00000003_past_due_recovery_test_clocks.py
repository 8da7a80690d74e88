"""past-due recovery and test clocks (issue 11)

Revision ID: d11c00000003
Revises: d11b00000002
Create Date: 2026-11-29 13:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (AutoString columns)
import portal_app.dbtypes  # noqa: F401


revision: str = 'd11c00000003'
down_revision: Union[str, None] = 'd11b00000002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Test clocks (Stripe's test_helpers/test_clocks): the simulated time of the
    # customers created on them (portal_app/billing/test_clocks.py).
    op.create_table(
        'test_clock',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('frozen_time', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.Enum('advancing', 'internal_failure', 'ready',
                                    name='testclockstatus', native_enum=False, length=32),
                  nullable=False),
        sa.Column('target_frozen_time', portal_app.dbtypes.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column('deletes_after', portal_app.dbtypes.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('created', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_test_clock_account_id'), 'test_clock', ['account_id'],
                    unique=False)
    op.create_index(op.f('ix_test_clock_created'), 'test_clock', ['created'], unique=False)
    # An account's automatic retry settings (portal_app/billing/dunning.py).
    op.create_table(
        'retry_policy',
        sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('retry_days', sa.JSON(), nullable=False),
        sa.Column('after_all_fail', sqlmodel.sql.sqltypes.AutoString(length=16),
                  nullable=False),
        sa.Column('updated', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id']),
        sa.PrimaryKeyConstraint('account_id'),
    )
    # Column changes: SQLite needs batch mode (it rebuilds the table).
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('test_clock', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_customer_test_clock'), ['test_clock'],
                              unique=False)
        batch_op.create_foreign_key('fk_customer_test_clock_test_clock', 'test_clock',
                                    ['test_clock'], ['id'])
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_payment_attempt',
                                      portal_app.dbtypes.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_invoice_next_payment_attempt'),
                              ['next_payment_attempt'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_next_payment_attempt'))
        batch_op.drop_column('next_payment_attempt')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_constraint('fk_customer_test_clock_test_clock', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_customer_test_clock'))
        batch_op.drop_column('test_clock')
    op.drop_table('retry_policy')
    op.drop_index(op.f('ix_test_clock_created'), table_name='test_clock')
    op.drop_index(op.f('ix_test_clock_account_id'), table_name='test_clock')
    op.drop_table('test_clock')
