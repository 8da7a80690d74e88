"""The event store as a Polars LazyFrame, and the first metrics over it."""

from __future__ import annotations

import polars as pl
from sqlalchemy import create_engine, text

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "type": pl.String(),
    "created": pl.Datetime("us", "UTC"),
    "account": pl.String(),
    "customer": pl.String(),
    "object_id": pl.String(),
}


def scan_events(database_url: str, *, account_id: str | None = None) -> pl.LazyFrame:
    """The stored events of ``account_id`` (all accounts if None), oldest first.

    Parameters
    ----------
    database_url
        A SQLAlchemy URL of Portico's database (SQLite or PostgreSQL).
    account_id
        Restrict to one merchant account.

    Returns
    -------
    LazyFrame
        One row per event with the columns of :data:`EVENT_SCHEMA`.
    """
    query = ("SELECT id, type, created, account_id AS account, customer_id AS customer, "
             "object_id FROM event")
    params: dict[str, str] = {}
    if account_id is not None:
        query += " WHERE account_id = :account"
        params["account"] = account_id
    query += " ORDER BY seq"
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(query), params).all()
    finally:
        engine.dispose()
    frame = pl.DataFrame([tuple(r) for r in rows], schema=list(EVENT_SCHEMA), orient="row")
    if frame.schema["created"] == pl.String:  # SQLite hands timestamps back as text
        frame = frame.with_columns(pl.col("created").str.to_datetime(time_unit="us"))
    return _typed(frame.lazy())


def _typed(events: pl.LazyFrame) -> pl.LazyFrame:
    # SQLite returns naive text timestamps, PostgreSQL aware ones: both become UTC.
    return events.with_columns(
        pl.col("created").dt.convert_time_zone("UTC")
        if events.collect_schema()["created"] == pl.Datetime("us", "UTC")
        else pl.col("created").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    ).cast({name: dtype for name, dtype in EVENT_SCHEMA.items() if name != "created"})


def event_counts(events: pl.LazyFrame, *, every: str = "1mo") -> pl.LazyFrame:
    """How many events of each type fall in each period.

    Parameters
    ----------
    events
        Events with ``created`` (Datetime UTC) and ``type`` (String).
    every
        The period length, as Polars' ``group_by_dynamic`` understands it.

    Returns
    -------
    LazyFrame
        ``period`` (Datetime UTC), ``type``, ``count`` (UInt32), sorted by period and type.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> frame = pl.LazyFrame({"created": [datetime(2026, 1, 5, tzinfo=UTC)],
    ...                       "type": ["customer.created"]})
    >>> event_counts(frame).collect()["count"].to_list()
    [1]
    """
    return (
        events.select("created", "type")
        .with_columns(pl.col("created").dt.truncate(every).alias("period"))
        .group_by("period", "type")
        .agg(pl.len().alias("count"))
        .sort("period", "type")
    )
