"""Search every stored text, JSON and binary value of the test database for secrets."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from sqlalchemy import JSON, LargeBinary, String, select
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from portal_app.db import UnitOfWork


def stored_occurrences(make_uow: Callable[[], UnitOfWork], secrets: Iterable[str]
                       ) -> list[tuple[str, str, str]]:
    """Every (table, column, secret) where a stored value contains one of ``secrets``."""
    needles = [s for s in secrets if s]
    found = []
    with make_uow() as uow:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                kind = column.type
                if isinstance(kind, TypeDecorator):  # AutoString and the like
                    kind = kind.impl_instance
                if not isinstance(kind, String | JSON | LargeBinary):
                    continue
                for value in uow.session.execute(
                        select(column).where(column.is_not(None))).scalars():
                    text = (value.decode("latin-1") if isinstance(value, bytes)
                            else value if isinstance(value, str) else json.dumps(value))
                    found += [(table.name, column.name, n) for n in needles if n in text]
    return found
