"""Schema migrations with Alembic, callable from the CLI and from tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from portal_app.settings import ROOT


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic's config for this project, on ``database_url`` (default: DATABASE_URL)."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None) -> None:
    """Create or migrate the schema to the newest revision."""
    command.upgrade(alembic_config(database_url), "head")
