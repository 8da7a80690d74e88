"""schedule origin and offer redemption limits (issue 10)

- ``subscription_schedule.created_by``: who made a schedule, "portal" (the customer's own
  change at the period end, theirs to drop) or "merchant" (the API: the portal leaves it
  alone). Existing schedules are the portal's when the event that created them came from a
  portal session (its ``origin``), else the merchant's.
- ``retention_offer.max_redemptions_per_subscription`` and ``redemption_window_months``:
  how often offers of one kind may be accepted on one subscription; every existing offer
  gets the safe default, once per subscription per 12 months.

Revision ID: d10a00000001
Revises: c226f98518f0
Create Date: 2026-11-29 11:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # AutoString columns (mypy needs the submodule imported)
import portal_app.dbtypes  # noqa: F401


revision: str = 'd10a00000001'
down_revision: Union[str, None] = 'c226f98518f0'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('subscription_schedule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=False, server_default='merchant'))
    with op.batch_alter_table('retention_offer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_redemptions_per_subscription', sa.BigInteger(),
                                      nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('redemption_window_months', sa.Integer(),
                                      nullable=False, server_default='12'))

    # The schedules a portal session created are the customers' own changes.
    event = sa.table('event', sa.column('type', sa.String()), sa.column('object_id', sa.String()),
                     sa.column('origin', sa.JSON()))
    schedule = sa.table('subscription_schedule', sa.column('id', sa.String()),
                        sa.column('created_by', sa.String()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(event.c.object_id, event.c.origin).where(
        event.c.type == 'subscription_schedule.created', event.c.origin.is_not(None))).all()
    portal = sorted({object_id for object_id, origin in rows
                     if isinstance(origin, dict) and origin.get('portal_session')})
    for start in range(0, len(portal), 500):
        bind.execute(schedule.update().where(schedule.c.id.in_(portal[start:start + 500]))
                     .values(created_by='portal'))


def downgrade() -> None:
    with op.batch_alter_table('retention_offer', schema=None) as batch_op:
        batch_op.drop_column('redemption_window_months')
        batch_op.drop_column('max_redemptions_per_subscription')
    with op.batch_alter_table('subscription_schedule', schema=None) as batch_op:
        batch_op.drop_column('created_by')
