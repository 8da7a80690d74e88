"""Stripe-backed accounts: billing kind, sealed Stripe credentials; portal and retention rows no longer point into the ledger (issue 13)

Revision ID: f13a00000001
Revises: e12b00000002
Create Date: 2026-11-29 16:30:00
"""
from typing import Sequence, Union

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel.sql.sqltypes  # noqa: F401  (AutoString columns)
import portal_app.dbtypes  # noqa: F401

from portal_app.migrate import foreign_keys_deferred_on_sqlite


revision: str = 'f13a00000001'
down_revision: Union[str, None] = 'e12b00000002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Portal and retention rows name customers, subscriptions, prices and coupons that, for a
# Stripe-backed account, live in Stripe: these references into the ledger go (their
# indexes stay). (table, constrained columns, referred table, referred columns).
LEDGER_REFERENCES: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...]], ...] = (
    ('portal_session', ('customer_id',), 'customer', ('id',)),
    ('retention_assignment', ('customer_id',), 'customer', ('id',)),
    ('cancellation_flow', ('customer_id',), 'customer', ('id',)),
    ('cancellation_flow', ('subscription_id',), 'subscription', ('id',)),
    ('retention_offer', ('price_id',), 'price', ('id',)),
    ('retention_offer', ('account_id', 'coupon_id'), 'coupon', ('account_id', 'id')),
)
# Names SQLite's unnamed constraints get while a table is rebuilt, so they can be dropped.
NAMING = {'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s'}


def upgrade() -> None:
    with op.batch_alter_table('account') as batch:
        batch.add_column(sa.Column('billing', sqlmodel.sql.sqltypes.AutoString(length=16),
                                   nullable=False, server_default='local'))
        batch.add_column(sa.Column('stripe_secret_key_sealed', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('stripe_key_hint', sqlmodel.sql.sqltypes.AutoString(),
                                   nullable=True))
        batch.add_column(sa.Column('stripe_webhook_secret_sealed', sa.LargeBinary(),
                                   nullable=True))
        batch.add_column(sa.Column('stripe_api_base', sqlmodel.sql.sqltypes.AutoString(),
                                   nullable=True))
    with foreign_keys_deferred_on_sqlite(op.get_bind()):
        for table, columns, referred, _ in LEDGER_REFERENCES:
            with op.batch_alter_table(table, naming_convention=NAMING) as batch:
                batch.drop_constraint(_reference_name(table, columns, referred),
                                      type_='foreignkey')
        # Configurations imported from the merchant's Stripe remember where they came from.
        with op.batch_alter_table('portal_configuration', naming_convention=NAMING) as batch:
            batch.add_column(sa.Column('imported_from', sqlmodel.sql.sqltypes.AutoString(),
                                       nullable=True))
            batch.create_unique_constraint('uq_portal_configuration_account_id_imported_from',
                                           ['account_id', 'imported_from'])


def _reference_name(table: str, columns: tuple[str, ...], referred: str) -> str:
    for fk in sa.inspect(op.get_bind()).get_foreign_keys(table):
        if fk['referred_table'] == referred and tuple(fk['constrained_columns']) == columns:
            return fk['name'] or NAMING['fk'] % {
                'table_name': table, 'column_0_name': columns[0],
                'referred_table_name': referred}
    raise RuntimeError(f'{table}.{columns} has no reference to {referred}')


def downgrade() -> None:
    with foreign_keys_deferred_on_sqlite(op.get_bind()):
        with op.batch_alter_table('portal_configuration', naming_convention=NAMING) as batch:
            batch.drop_constraint('uq_portal_configuration_account_id_imported_from',
                                  type_='unique')
            batch.drop_column('imported_from')
        for table, columns, referred, referred_columns in LEDGER_REFERENCES:
            with op.batch_alter_table(table, naming_convention=NAMING) as batch:
                batch.create_foreign_key(f'fk_{table}_{columns[-1]}_{referred}', referred,
                                         list(columns), list(referred_columns))
    with op.batch_alter_table('account') as batch:
        for column in ('stripe_api_base', 'stripe_webhook_secret_sealed', 'stripe_key_hint',
                       'stripe_secret_key_sealed', 'billing'):
            batch.drop_column(column)
