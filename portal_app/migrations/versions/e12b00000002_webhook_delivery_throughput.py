"""outbound webhook delivery throughput (issue 12)

Revision ID: e12b00000002
Revises: e12a00000001
Create Date: 2026-11-29 16:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa  # noqa: F401
import sqlmodel.sql.sqltypes  # noqa: F401  (AutoString columns)
import portal_app.dbtypes  # noqa: F401


revision: str = 'e12b00000002'
down_revision: Union[str, None] = 'e12a00000001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # The claim reads pending rows in due order (status, next_attempt_at); a claim's
    # payloads count each event's pending deliveries (event_id, status). The two
    # single-column indexes they replace were rewritten on every outcome for nothing,
    # and (event_id, status) serves every lookup (event_id, endpoint_id) did.
    op.create_index('ix_webhook_delivery_due', 'webhook_delivery',
                    ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_webhook_delivery_event_status', 'webhook_delivery',
                    ['event_id', 'status'], unique=False)
    op.drop_index('ix_webhook_delivery_event', table_name='webhook_delivery')
    op.drop_index(op.f('ix_webhook_delivery_status'), table_name='webhook_delivery')
    op.drop_index(op.f('ix_webhook_delivery_next_attempt_at'), table_name='webhook_delivery')


def downgrade() -> None:
    op.create_index(op.f('ix_webhook_delivery_next_attempt_at'), 'webhook_delivery',
                    ['next_attempt_at'], unique=False)
    op.create_index(op.f('ix_webhook_delivery_status'), 'webhook_delivery', ['status'],
                    unique=False)
    op.create_index('ix_webhook_delivery_event', 'webhook_delivery',
                    ['event_id', 'endpoint_id'], unique=False)
    op.drop_index('ix_webhook_delivery_event_status', table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_due', table_name='webhook_delivery')
