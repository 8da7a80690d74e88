"""Column types shared by every table: aware UTC datetimes, JSON documents, 64-bit integers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKeyConstraint
from sqlalchemy import Enum as SAEnum
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

from portal_app.clock import as_utc


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware UTC datetimes; SQLite drops the zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


def time_field(*, index: bool = False, nullable: bool = False) -> Any:
    """A UTC timestamp column (``None`` allowed when ``nullable``)."""
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, index=index, nullable=True)
    return Field(sa_type=UTCDateTime, index=index)


def int64_field(*, default: Any = ..., nullable: bool = False) -> Any:
    """A 64-bit integer column: money in minor units, quantities, usage, redemption counts.

    PostgreSQL's INTEGER stops at 2**31 - 1 (21,474,836.47 in a two-decimal currency:
    less than a year of Rp 25,000,000); SQLite's integers are 64-bit whatever the type.
    """
    if nullable:
        return Field(default=None, sa_type=BigInteger, nullable=True)
    return Field(default=default, sa_type=BigInteger)


def account_reference(table: str, column: str, target: str) -> ForeignKeyConstraint:
    """``table``'s (account_id, ``column``) names a ``target`` row of the same account.

    For tables keyed by (account_id, id) because merchants choose the ids (coupons).
    """
    return ForeignKeyConstraint(["account_id", column], [f"{target}.account_id", f"{target}.id"],
                                name=f"fk_{table}_{target}")


def json_field(*, default: Any = dict) -> Any:
    """A JSON document column; ``default`` is a factory (dict, list) or None for null."""
    if default is None:
        return Field(default=None, sa_type=JSON, nullable=True)
    return Field(default_factory=default, sa_type=JSON)


def enum_field(enum: type[StrEnum], *, default: Any = ..., index: bool = False,
               nullable: bool = False) -> Any:
    """A StrEnum stored as plain text (no native database enum type to migrate)."""
    column_type = SAEnum(enum, native_enum=False, create_constraint=False, length=32,
                         values_callable=lambda members: [m.value for m in members])
    if nullable:
        return Field(default=None, sa_type=column_type, index=index, nullable=True)
    return Field(default=default, sa_type=column_type, index=index)
