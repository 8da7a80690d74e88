"""Schema migrations with Alembic, callable from the CLI and from tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from portal_app.settings import ROOT


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic's config for this project, on ``database_url`` (default: DATABASE_URL)."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None) -> None:
    """Create or migrate the schema to the newest revision."""
    command.upgrade(alembic_config(database_url), "head")


@contextmanager
def foreign_keys_deferred_on_sqlite(bind: Connection) -> Iterator[None]:
    """Inside a migration: SQLite's foreign key enforcement off while tables are rebuilt.

    SQLite changes a table by rebuilding it (Alembic's batch mode), and dropping the old
    table trips the foreign keys that point at it. The pragma works only outside a
    transaction, so the migration's transaction is committed first; on leaving,
    ``PRAGMA foreign_key_check`` must come back empty. Other databases: nothing to do.
    """
    if bind.dialect.name != "sqlite":
        yield
        return
    raw = bind.connection.dbapi_connection
    assert raw is not None
    raw.commit()  # PRAGMA foreign_keys is a no-op inside a transaction
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:10]}")
        raw.commit()
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
