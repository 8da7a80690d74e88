"""payment method types, setup intents, mandates (issue 11)

Revision ID: d11a00000001
Revises: d10c00000003
Create Date: 2026-11-29 13:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (AutoString columns)
import portal_app.dbtypes  # noqa: F401


revision: str = 'd11a00000001'
down_revision: Union[str, None] = 'd10c00000003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _id() -> sa.Column:
    return sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False)


def _account() -> sa.Column:
    return sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False)


def _created() -> sa.Column:
    return sa.Column('created', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    # Payment methods of every type: wallets have no number (last4, fingerprint null);
    # the type's public sub-object is one JSON document. Existing rows are cards.
    with op.batch_alter_table('payment_method', schema=None) as batch_op:
        batch_op.alter_column('last4', existing_type=sqlmodel.sql.sqltypes.AutoString(),
                              nullable=True)
        batch_op.alter_column('fingerprint', existing_type=sqlmodel.sql.sqltypes.AutoString(),
                              nullable=True)
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('requires_authentication', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('allow_redisplay',
                                      sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=False, server_default='unspecified'))
    op.create_table(
        'setup_intent',
        _id(), _account(),
        sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('payment_method_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('payment_method_types', sa.JSON(), nullable=False),
        sa.Column('usage', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('return_url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('mandate_acceptance', sa.JSON(), nullable=True),
        sa.Column('mandate_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('next_action', sa.JSON(), nullable=True),
        sa.Column('last_setup_error', sa.JSON(), nullable=True),
        sa.Column('cancellation_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('metadata_', sa.JSON(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
        sa.ForeignKeyConstraint(['payment_method_id'], ['payment_method.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_setup_intent_account_id'), 'setup_intent', ['account_id'])
    op.create_index(op.f('ix_setup_intent_customer_id'), 'setup_intent', ['customer_id'])
    op.create_index(op.f('ix_setup_intent_created'), 'setup_intent', ['created'])
    op.create_table(
        'mandate',
        _id(), _account(),
        sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('payment_method_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('customer_acceptance', sa.JSON(), nullable=False),
        sa.Column('method_details', sa.JSON(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
        sa.ForeignKeyConstraint(['payment_method_id'], ['payment_method.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_mandate_account_id'), 'mandate', ['account_id'])
    op.create_index(op.f('ix_mandate_customer_id'), 'mandate', ['customer_id'])
    op.create_index(op.f('ix_mandate_payment_method_id'), 'mandate', ['payment_method_id'])
    op.create_table(
        'payment_method_configuration',
        _id(), _account(),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('preferences', sa.JSON(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_payment_method_configuration_account_id'),
                    'payment_method_configuration', ['account_id'])
    # The test authorization page's pending authorizations: only the token's digest.
    op.create_table(
        'pending_authorization',
        _id(), _account(),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('object_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('token_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('return_url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        _created(),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_pending_authorization_account_id'), 'pending_authorization',
                    ['account_id'])
    op.create_index(op.f('ix_pending_authorization_token_digest'), 'pending_authorization',
                    ['token_digest'], unique=True)


def downgrade() -> None:
    op.drop_table('pending_authorization')
    op.drop_table('payment_method_configuration')
    op.drop_table('mandate')
    op.drop_table('setup_intent')
    with op.batch_alter_table('payment_method', schema=None) as batch_op:
        batch_op.drop_column('allow_redisplay')
        batch_op.drop_column('requires_authentication')
        batch_op.drop_column('details')
        batch_op.alter_column('fingerprint', existing_type=sqlmodel.sql.sqltypes.AutoString(),
                              nullable=False)
        batch_op.alter_column('last4', existing_type=sqlmodel.sql.sqltypes.AutoString(),
                              nullable=False)
