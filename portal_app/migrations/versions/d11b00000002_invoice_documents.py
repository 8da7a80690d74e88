"""hosted invoice pages and PDFs (issue 11)

Revision ID: d11b00000002
Revises: d11a00000001
Create Date: 2026-11-29 13:30:00
"""
from typing import Sequence, Union

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel.sql.sqltypes  # noqa: F401  (AutoString columns)
import portal_app.dbtypes  # noqa: F401


revision: str = 'd11b00000002'
down_revision: Union[str, None] = 'd11a00000001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
