"""Alembic environment: Portico's SQLModel tables, on DATABASE_URL."""

from alembic import context
from sqlmodel import SQLModel

import portal_app.models  # noqa: F401  (registers every table)
from portal_app.db import get_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    engine = get_engine(context.config.attributes.get("database_url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=engine.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
