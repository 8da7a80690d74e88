"""64-bit money and counts, idempotency without secrets, coupon ids per account (issue 10)

- Money, quantities and redemption counts become BIGINT (PostgreSQL's INTEGER stops at
  2**31 - 1), and so does the event store's ``seq`` (its sequence too) on PostgreSQL.
- Coupons are keyed by (account_id, id): merchants choose coupon ids, so an id is unique
  within its account only; discounts, promotion codes and retention offers reference the
  pair.
- Idempotency records keep a digest of the key and the response sealed under a key only
  the Idempotency-Key derives (portal_app.api.idempotency); the stored ones are converted.

SQLite rebuilds a table to change it (batch mode), and dropping the old table trips the
foreign keys that point at it: on SQLite the enforcement is off while this runs (outside
any transaction, as SQLite requires), and ``PRAGMA foreign_key_check`` must come back
empty before it is turned on again.

Revision ID: d10b00000002
Revises: d10a00000001
Create Date: 2026-11-29 11:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
import portal_app.dbtypes  # noqa: F401

from portal_app.api.idempotency import SealingKey, StoredResponse
from portal_app.migrate import foreign_keys_deferred_on_sqlite


revision: str = 'd10b00000002'
down_revision: Union[str, None] = 'd10a00000001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Money in minor units, quantities, usage and redemption counts, per table.
WIDE_COLUMNS: dict[str, tuple[str, ...]] = {
    'customer': ('balance',),
    'price': ('unit_amount',),
    'coupon': ('amount_off', 'max_redemptions', 'times_redeemed'),
    'subscription_item': ('quantity',),
    'invoice': ('subtotal', 'total_discount', 'total', 'amount_due', 'amount_paid',
                'amount_remaining', 'starting_balance'),
    'invoice_line': ('quantity', 'amount', 'discount_amount'),
    'invoice_item': ('quantity', 'amount', 'discount_amount'),
    'charge': ('amount',),
    'promotion_code': ('max_redemptions', 'times_redeemed', 'minimum_amount'),
    'retention_offer': ('max_redemptions_per_customer',),
    'cancellation_flow': ('mrr',),
}
# Tables that name a coupon (column coupon_id), and their reference's name.
COUPON_REFERENCES = ('discount', 'promotion_code', 'retention_offer')
# Names SQLite's unnamed constraints get while a table is rebuilt, so they can be dropped.
NAMING = {'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
          'uq': 'uq_%(table_name)s_%(column_0_N_name)s', 'pk': 'pk_%(table_name)s'}


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _widen(table: str, columns: Sequence[str], *, to: type[sa.types.TypeEngine]) -> None:
    old = sa.Integer if to is sa.BigInteger else sa.BigInteger
    with op.batch_alter_table(table, naming_convention=NAMING) as batch_op:
        for column in columns:
            batch_op.alter_column(column, type_=to(), existing_type=old())


def _reference_name(table: str, column: str, referred: str) -> str:
    for fk in sa.inspect(op.get_bind()).get_foreign_keys(table):
        if fk['referred_table'] == referred and column in fk['constrained_columns']:
            return fk['name'] or NAMING['fk'] % {
                'table_name': table, 'column_0_name': fk['constrained_columns'][0],
                'referred_table_name': referred}
    raise RuntimeError(f'{table}.{column} has no reference to {referred}')


def _rekey_coupons(*, per_account: bool) -> None:
    """Coupons keyed by (account_id, id) when ``per_account``, else by id (downgrade)."""
    for table in COUPON_REFERENCES:
        with op.batch_alter_table(table, naming_convention=NAMING) as batch_op:
            batch_op.drop_constraint(_reference_name(table, 'coupon_id', 'coupon'),
                                     type_='foreignkey')
    with op.batch_alter_table('coupon', naming_convention=NAMING) as batch_op:
        pk = sa.inspect(op.get_bind()).get_pk_constraint('coupon')
        batch_op.drop_constraint(pk['name'] or 'pk_coupon', type_='primary')
        batch_op.create_primary_key('coupon_pkey',
                                    ['account_id', 'id'] if per_account else ['id'])
    for table in COUPON_REFERENCES:
        with op.batch_alter_table(table, naming_convention=NAMING) as batch_op:
            if per_account:
                batch_op.create_foreign_key(f'fk_{table}_coupon', 'coupon',
                                            ['account_id', 'coupon_id'], ['account_id', 'id'])
            else:
                batch_op.create_foreign_key(f'fk_{table}_coupon_id_coupon', 'coupon',
                                            ['coupon_id'], ['id'])


def _widen_event_seq(*, to: str) -> None:
    if _is_sqlite():
        return  # SQLite's INTEGER PRIMARY KEY (the rowid) is 64-bit already
    bind = op.get_bind()
    op.alter_column('event', 'seq', type_=sa.BigInteger() if to == 'bigint' else sa.Integer())
    sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence('event', 'seq')")).scalar()
    if sequence:
        op.execute(f'ALTER SEQUENCE {sequence} AS {to}')


def _seal_idempotency_records() -> None:
    with op.batch_alter_table('idempotency_record', naming_convention=NAMING) as batch_op:
        batch_op.add_column(sa.Column('key_digest', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=True))
        batch_op.add_column(sa.Column('sealed', sa.LargeBinary(), nullable=True))
    record = sa.table('idempotency_record', sa.column('id', sa.String()),
                      sa.column('account_id', sa.String()), sa.column('key', sa.String()),
                      sa.column('fingerprint', sa.String()),
                      sa.column('status_code', sa.Integer()), sa.column('body', sa.String()),
                      sa.column('key_digest', sa.String()), sa.column('sealed', sa.LargeBinary()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(record.c.id, record.c.account_id, record.c.key,
                                  record.c.fingerprint, record.c.status_code,
                                  record.c.body)).all()
    for row in rows:
        sealing = SealingKey.derive(row.key, account_id=row.account_id)
        bind.execute(record.update().where(record.c.id == row.id).values(
            key_digest=sealing.digest,
            sealed=sealing.seal(row.fingerprint, StoredResponse(status_code=row.status_code,
                                                                body=row.body))))
    old_unique = next(
        uq['name'] or 'uq_idempotency_record_account_id_key'
        for uq in sa.inspect(bind).get_unique_constraints('idempotency_record')
        if uq['column_names'] == ['account_id', 'key'])
    with op.batch_alter_table('idempotency_record', naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(old_unique, type_='unique')
        for column in ('key', 'fingerprint', 'status_code', 'body'):
            batch_op.drop_column(column)
        batch_op.alter_column('key_digest', existing_type=sqlmodel.sql.sqltypes.AutoString(),
                              nullable=False)
        batch_op.alter_column('sealed', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.create_unique_constraint('idempotency_record_account_id_key_digest_key',
                                          ['account_id', 'key_digest'])
        batch_op.create_index('ix_idempotency_record_created', ['created'], unique=False)


def _unseal_idempotency_records() -> None:
    # The responses are sealed under keys only clients hold: they cannot be restored
    # (they are a 24-hour replay cache).
    op.execute('DELETE FROM idempotency_record')
    with op.batch_alter_table('idempotency_record', naming_convention=NAMING) as batch_op:
        batch_op.drop_index('ix_idempotency_record_created')
        batch_op.drop_constraint('idempotency_record_account_id_key_digest_key',
                                 type_='unique')
        batch_op.drop_column('sealed')
        batch_op.drop_column('key_digest')
        batch_op.add_column(sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False))
        batch_op.add_column(sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=False))
        batch_op.add_column(sa.Column('status_code', sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('body', sqlmodel.sql.sqltypes.AutoString(),
                                      nullable=False))
        batch_op.create_unique_constraint('idempotency_record_account_id_key_key',
                                          ['account_id', 'key'])


def upgrade() -> None:
    with foreign_keys_deferred_on_sqlite(op.get_bind()):
        _rekey_coupons(per_account=True)
        for table, columns in WIDE_COLUMNS.items():
            _widen(table, columns, to=sa.BigInteger)
        _widen_event_seq(to='bigint')
        _seal_idempotency_records()


def downgrade() -> None:
    with foreign_keys_deferred_on_sqlite(op.get_bind()):
        _unseal_idempotency_records()
        _widen_event_seq(to='integer')
        for table, columns in WIDE_COLUMNS.items():
            _widen(table, columns, to=sa.Integer)
        _rekey_coupons(per_account=False)
