"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel


def test_the_migrated_schema_is_the_models_schema(database: Engine) -> None:
    with database.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_money_and_counts_are_64_bit_and_coupons_are_keyed_per_account(database: Engine
                                                                       ) -> None:
    schema = inspect(database)
    types = {c["name"]: str(c["type"]) for c in schema.get_columns("invoice")}
    assert types["amount_due"] == "BIGINT"
    assert schema.get_pk_constraint("coupon")["constrained_columns"] == ["account_id", "id"]
    [reference] = [fk for fk in schema.get_foreign_keys("discount")
                   if fk["referred_table"] == "coupon"]
    assert reference["constrained_columns"] == ["account_id", "coupon_id"]
