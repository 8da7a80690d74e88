"""The event store as a Polars LazyFrame, and the first metrics over it."""

from __future__ import annotations

import polars as pl
from sqlalchemy import create_engine, inspect, text

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "seq": pl.Int64(),
    "id": pl.String(),
    "type": pl.String(),
    "created": pl.Datetime("us", "UTC"),
    "account": pl.String(),
    "customer": pl.String(),
    "object_id": pl.String(),
    "data": pl.String(),
    "origin": pl.String(),
}


def scan_events(database_url: str, *, account_id: str | None = None) -> pl.LazyFrame:
    """The stored events of ``account_id`` (all accounts if None), oldest first.

    Oldest by ``created``, ties in storage order: events that arrive by webhook are stored
    in delivery order, which is not the order they happened in. ``seq`` numbers the rows
    in that order (as :func:`analytics.ingest.scan_stripe_jsonl` numbers a file's events),
    so metrics that step through a subscription's events by ``seq`` see them as they
    happened.

    Parameters
    ----------
    database_url
        A SQLAlchemy URL of Portico's database (SQLite or PostgreSQL).
    account_id
        Restrict to one merchant account.

    Returns
    -------
    LazyFrame
        One row per event with the columns of :data:`EVENT_SCHEMA`: ``data`` is the
        ``data.object`` JSON text, ``origin`` the flow that caused the event (JSON
        text, null when none or when the store predates the column). These are the
        raw events :mod:`analytics.ingest` flattens.
    """
    engine = create_engine(database_url)
    try:
        has_origin = any(c["name"] == "origin" for c in inspect(engine).get_columns("event"))
        origin = "CAST(origin AS TEXT)" if has_origin else "NULL"
        query = ("SELECT seq, id, type, created, account_id AS account, customer_id AS customer, "
                 f"object_id, CAST(data_object AS TEXT) AS data, {origin} AS origin FROM event")
        params: dict[str, str] = {}
        if account_id is not None:
            query += " WHERE account_id = :account"
            params["account"] = account_id
        query += " ORDER BY created, seq"
        with engine.connect() as conn:
            rows = conn.execute(text(query), params).all()
    finally:
        engine.dispose()
    frame = pl.DataFrame([tuple(r) for r in rows], schema=list(EVENT_SCHEMA), orient="row")
    frame = frame.drop("seq").with_row_index("seq").select(list(EVENT_SCHEMA))
    if frame.schema["created"] == pl.String:  # SQLite hands timestamps back as text
        frame = frame.with_columns(pl.col("created").str.to_datetime(time_unit="us"))
    return _typed(frame.lazy())


def _typed(events: pl.LazyFrame) -> pl.LazyFrame:
    # SQLite returns naive text timestamps, PostgreSQL aware ones: both become UTC.
    created = events.collect_schema()["created"]
    return events.with_columns(
        pl.col("created").dt.convert_time_zone("UTC")
        if isinstance(created, pl.Datetime) and created.time_zone is not None
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
