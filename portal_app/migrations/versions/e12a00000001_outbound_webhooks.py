"""outbound webhooks: endpoints, deliveries, attempts (issue 12)

Revision ID: e12a00000001
Revises: d11d00000004
Create Date: 2026-11-29 14:15:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (AutoString columns)
import portal_app.dbtypes  # noqa: F401


revision: str = 'e12a00000001'
down_revision: Union[str, None] = 'd11d00000004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # New tables only: no batch mode needed. See portal_app/webhooks/models.py.
    op.create_table(
        'webhook_endpoint',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('enabled_events', sa.JSON(), nullable=False),
        sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('metadata_', sa.JSON(), nullable=False),
        sa.Column('api_version', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('secret_sealed', sa.LargeBinary(), nullable=False),
        sa.Column('livemode', sa.Boolean(), nullable=False),
        sa.Column('created', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column('disabled_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('failing_since', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_webhook_endpoint_account_id'), 'webhook_endpoint', ['account_id'],
                    unique=False)
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('endpoint_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('attempt_count', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', portal_app.dbtypes.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column('lease_until', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_http_status', sa.Integer(), nullable=True),
        sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id']),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_delivery_event', 'webhook_delivery', ['event_id', 'endpoint_id'],
                    unique=False)
    for column in ('account_id', 'endpoint_id', 'status', 'next_attempt_at', 'created'):
        op.create_index(op.f(f'ix_webhook_delivery_{column}'), 'webhook_delivery', [column],
                        unique=False)
    op.create_table(
        'webhook_attempt',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('delivery_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('started_at', portal_app.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column('latency_ms', sa.Integer(), nullable=False),
        sa.Column('http_status', sa.Integer(), nullable=True),
        sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('response_excerpt', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id']),
        sa.ForeignKeyConstraint(['delivery_id'], ['webhook_delivery.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    for column in ('delivery_id', 'account_id', 'started_at'):
        op.create_index(op.f(f'ix_webhook_attempt_{column}'), 'webhook_attempt', [column],
                        unique=False)


def downgrade() -> None:
    for column in ('delivery_id', 'account_id', 'started_at'):
        op.drop_index(op.f(f'ix_webhook_attempt_{column}'), table_name='webhook_attempt')
    op.drop_table('webhook_attempt')
    for column in ('account_id', 'endpoint_id', 'status', 'next_attempt_at', 'created'):
        op.drop_index(op.f(f'ix_webhook_delivery_{column}'), table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_event', table_name='webhook_delivery')
    op.drop_table('webhook_delivery')
    op.drop_index(op.f('ix_webhook_endpoint_account_id'), table_name='webhook_endpoint')
    op.drop_table('webhook_endpoint')
