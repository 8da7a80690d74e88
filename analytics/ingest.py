"""Flatten Stripe-shaped events into tidy, typed frames, once.

Raw events come from the event store (:func:`analytics.events.scan_events`), a
Stripe JSON-lines export (:func:`scan_stripe_jsonl`) or Parquet; either way they
are one row per event with ``seq``, ``id``, ``type``, ``created``, ``account``,
``data`` (the ``data.object`` JSON text) and ``origin`` (JSON text or null).
:func:`subscription_frame` and :func:`flow_frame` turn them into the two frames
every metric reads; :func:`write_parquet` stores them partitioned by month.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

UTC_TIME = pl.Datetime("us", "UTC")

RAW_SCHEMA: dict[str, pl.DataType] = {
    "seq": pl.Int64(),
    "id": pl.String(),
    "type": pl.String(),
    "created": UTC_TIME,
    "account": pl.String(),
    "data": pl.String(),
    "origin": pl.String(),
}

SUBSCRIPTION_SCHEMA: dict[str, pl.DataType] = {
    "seq": pl.Int64(),
    "event": pl.String(),
    "type": pl.Categorical(),
    "created": UTC_TIME,
    "account": pl.String(),
    "customer": pl.String(),
    "subscription": pl.String(),
    "status": pl.String(),
    "mrr": pl.Int64(),
    "previous_mrr": pl.Int64(),
    "currency": pl.String(),
    "product": pl.String(),
    "previous_product": pl.String(),
    "price": pl.String(),
    "interval": pl.String(),
    "interval_count": pl.Int64(),
    "quantity": pl.Int64(),
    "cancel_reason": pl.String(),
    "feedback": pl.Categorical(),
    "comment": pl.String(),
    "configuration": pl.String(),
    "cancellation_flow": pl.String(),
    "experiment": pl.String(),
    "variant": pl.String(),
}
"""One row per ``customer.subscription.*`` event; ``mrr`` in minor units per the contract.

``type`` and ``feedback`` are categorical: a few values repeated millions of times.
``previous_mrr`` and ``previous_product`` are the subscription's values at its previous
event (0 and null at its first): computed once here, they let every metric work on the
few events that change MRR instead of ordering millions of renewals again.
"""

FLOW_SCHEMA: dict[str, pl.DataType] = {
    "seq": pl.Int64(),
    "event": pl.String(),
    "step": pl.String(),
    "created": UTC_TIME,
    "account": pl.String(),
    "flow": pl.String(),
    "customer": pl.String(),
    "subscription": pl.String(),
    "configuration": pl.String(),
    "portal_session": pl.String(),
    "reason": pl.String(),
    "comment": pl.String(),
    "offer": pl.String(),
    "offer_type": pl.String(),
    "experiment": pl.String(),
    "variant": pl.String(),
    "holdout": pl.Boolean(),
    "mrr": pl.Int64(),
    "currency": pl.String(),
}
"""One row per ``portico.cancellation_flow.*`` event; ``step`` is the type's last word."""

FLOW_PREFIX = "portico.cancellation_flow."
SUBSCRIPTION_PREFIX = "customer.subscription."
NO_REVENUE_STATUSES = ["incomplete", "incomplete_expired", "canceled", "trialing", "paused"]

_PRICE = pl.Struct({
    "id": pl.String(),
    "product": pl.String(),
    "currency": pl.String(),
    "unit_amount": pl.Int64(),
    "recurring": pl.Struct({
        "interval": pl.String(),
        "interval_count": pl.Int64(),
        "usage_type": pl.String(),
    }),
})
_SUBSCRIPTION_OBJECT = pl.Struct({
    "id": pl.String(),
    "customer": pl.String(),
    "status": pl.String(),
    "currency": pl.String(),
    "items": pl.Struct({"data": pl.List(pl.Struct({"quantity": pl.Int64(), "price": _PRICE}))}),
    "cancellation_details": pl.Struct({
        "reason": pl.String(), "feedback": pl.String(), "comment": pl.String(),
    }),
})
_COUPON = pl.Struct({"percent_off": pl.Float64(), "amount_off": pl.Int64(), "currency": pl.String()})
_DISCOUNT = pl.Struct({
    "start": pl.Int64(),
    "end": pl.Int64(),
    "coupon": _COUPON,  # API versions before 2025 put the coupon here
    "source": pl.Struct({"coupon": _COUPON}),
})
_ORIGIN = pl.Struct({
    "portal_session": pl.String(),
    "configuration": pl.String(),
    "cancellation_flow": pl.String(),
    "experiment": pl.String(),
    "variant": pl.String(),
})
_FLOW_OBJECT = pl.Struct({
    "id": pl.String(),
    "customer": pl.String(),
    "subscription": pl.String(),
    "configuration": pl.String(),
    "portal_session": pl.String(),
    "reason": pl.String(),
    "comment": pl.String(),
    "offer": pl.Struct({"id": pl.String(), "type": pl.String()}),
    "experiment": pl.String(),
    "variant": pl.String(),
    "holdout": pl.Boolean(),
    "mrr": pl.Int64(),
    "currency": pl.String(),
})


def scan_stripe_jsonl(source: str | Path | list[str | Path]) -> pl.LazyFrame:
    """Raw events from Stripe event objects, one JSON document per line.

    ``seq`` numbers the events by ``created``, ties in the file's order (Stripe lists
    newest first; either order works);
    ``origin`` is Portico's ``origin`` member when present, else the event's
    ``context`` (a portal session id) as ``{"portal_session": ...}``.

    Examples
    --------
    >>> import io, json
    >>> line = json.dumps({"id": "evt_1", "type": "customer.created", "created": 0,
    ...                    "data": {"object": {"id": "cus_1"}}})
    >>> scan_stripe_jsonl(io.BytesIO(line.encode())).collect()["id"].to_list()
    ['evt_1']
    """
    sources = [str(s) for s in source] if isinstance(source, list) else source
    lines = pl.scan_lines(sources, row_index_name="seq").filter(pl.col("line").str.len_bytes() > 0)
    line = pl.col("line").str
    context = line.json_path_match("$.context")
    return lines.select(
        pl.col("seq").cast(pl.Int64).alias("line_number"),
        line.json_path_match("$.id").alias("id"),
        line.json_path_match("$.type").alias("type"),
        pl.from_epoch(line.json_path_match("$.created").cast(pl.Int64), time_unit="s")
        .dt.replace_time_zone("UTC").cast(UTC_TIME).alias("created"),
        line.json_path_match("$.account").alias("account"),
        line.json_path_match("$.data.object").alias("data"),
        pl.coalesce(
            line.json_path_match("$.origin"),
            pl.when(context.is_not_null())
            .then(pl.format('{{"portal_session": "{}"}}', context)),
        ).alias("origin"),
    ).sort("created", "line_number").with_row_index("seq").select(
        pl.col("seq").cast(pl.Int64), "id", "type", "created", "account", "data", "origin")


def _normalized(amount: pl.Expr, interval: pl.Expr, count: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    # A monthly amount as an exact fraction (numerator, denominator) of minor units.
    numerator = (
        pl.when(interval == "week").then(amount * 52)
        .when(interval == "day").then(amount * 365)
        .otherwise(amount)
    )
    denominator = pl.when(interval == "month").then(count).otherwise(count * 12)
    return numerator, denominator


def subscription_frame(raw: pl.LazyFrame) -> pl.LazyFrame:
    """One typed row per subscription event, with the snapshot's MRR.

    MRR follows the retention-events contract: items' ``unit_amount × quantity``
    normalized to a month (Stripe bills all items of a subscription on one
    interval, so the first item's interval is the subscription's), minus the
    first discount when it is active at the event's time, rounded half up;
    metered items count 0; 0 in statuses that bring no revenue.

    Parameters
    ----------
    raw
        Raw events (:data:`RAW_SCHEMA`); other event types are ignored.

    Returns
    -------
    LazyFrame
        Columns of :data:`SUBSCRIPTION_SCHEMA`, in the raw frame's order.
    """
    columns = raw.collect_schema().names()
    origin = (pl.col("origin") if "origin" in columns else pl.lit(None, pl.String))
    events = raw.filter(pl.col("type").str.starts_with(SUBSCRIPTION_PREFIX)).select(
        "seq", pl.col("id").alias("event"), "type", "created", "account",
        pl.col("data").str.json_decode(_SUBSCRIPTION_OBJECT).alias("object"),
        pl.coalesce(pl.col("data").str.json_path_match("$.discount"),
                    pl.col("data").str.json_path_match("$.discounts[0]")).alias("discount"),
        origin.str.json_decode(_ORIGIN).alias("origin"),
    )
    items = pl.col("object").struct.field("items").struct.field("data")
    first_price = items.list.first().struct.field("price")
    recurring = first_price.struct.field("recurring")
    interval = recurring.struct.field("interval")
    count = recurring.struct.field("interval_count").fill_null(1)
    item_amount = (
        pl.when(pl.element().struct.field("price").struct.field("recurring")
                .struct.field("usage_type") == "metered")
        .then(0)
        .otherwise(pl.element().struct.field("price").struct.field("unit_amount").fill_null(0)
                   * pl.element().struct.field("quantity").fill_null(1))
    )
    amount = items.list.eval(item_amount).list.sum().fill_null(0)
    numerator, denominator = _normalized(amount, interval, count)

    discount = pl.when(pl.col("discount").str.starts_with("{")).then(
        pl.col("discount")).str.json_decode(_DISCOUNT)
    coupon = pl.coalesce(discount.struct.field("source").struct.field("coupon"),
                         discount.struct.field("coupon"))
    at = pl.col("created").dt.epoch("s")
    active = (discount.struct.field("start").fill_null(0) <= at) & (
        discount.struct.field("end").is_null() | (at < discount.struct.field("end")))
    currency = pl.col("object").struct.field("currency")
    basis_points = (coupon.struct.field("percent_off") * 100).round().cast(pl.Int64)
    amount_off = pl.when(coupon.struct.field("currency") == currency).then(
        coupon.struct.field("amount_off"))
    off_numerator, _ = _normalized(amount_off, interval, count)
    percent_active = active.fill_null(False) & basis_points.is_not_null()
    amount_active = active.fill_null(False) & off_numerator.is_not_null()
    net_numerator = (
        pl.when(percent_active).then(numerator * (10_000 - basis_points))
        .when(amount_active).then((numerator - off_numerator).clip(lower_bound=0))
        .otherwise(numerator)
    )
    net_denominator = pl.when(percent_active).then(denominator * 10_000).otherwise(denominator)
    mrr = (2 * net_numerator + net_denominator) // (2 * net_denominator)
    status = pl.col("object").struct.field("status")
    details = pl.col("object").struct.field("cancellation_details")
    return with_previous(events.select(
        "seq", "event", "type", "created", "account",
        pl.col("object").struct.field("customer").alias("customer"),
        pl.col("object").struct.field("id").alias("subscription"),
        status.alias("status"),
        pl.when(status.is_in(NO_REVENUE_STATUSES)).then(0).otherwise(mrr.fill_null(0))
        .cast(pl.Int64).alias("mrr"),
        currency.alias("currency"),
        first_price.struct.field("product").alias("product"),
        first_price.struct.field("id").alias("price"),
        interval.alias("interval"),
        count.cast(pl.Int64).alias("interval_count"),
        items.list.eval(pl.element().struct.field("quantity").fill_null(1)).list.sum()
        .cast(pl.Int64).alias("quantity"),
        details.struct.field("reason").alias("cancel_reason"),
        details.struct.field("feedback").alias("feedback"),
        details.struct.field("comment").alias("comment"),
        pl.col("origin").struct.field("configuration").alias("configuration"),
        pl.col("origin").struct.field("cancellation_flow").alias("cancellation_flow"),
        pl.col("origin").struct.field("experiment").alias("experiment"),
        pl.col("origin").struct.field("variant").alias("variant"),
    ).cast({"type": pl.Categorical(), "feedback": pl.Categorical()}))


def with_previous(subscriptions: pl.LazyFrame) -> pl.LazyFrame:
    """Add ``previous_mrr`` and ``previous_product`` (by ``seq`` within each subscription).

    Only missing columns are computed (``previous_product`` only when there is a
    ``product``); a full frame comes back in :data:`SUBSCRIPTION_SCHEMA` order.

    Examples
    --------
    >>> frame = pl.LazyFrame({"seq": [1, 2], "subscription": ["sub_1", "sub_1"],
    ...                       "mrr": [100, 300], "product": ["prod_a", "prod_b"]})
    >>> with_previous(frame).collect()["previous_mrr"].to_list()
    [0, 100]
    """
    names = subscriptions.collect_schema().names()
    missing = []
    if "previous_mrr" not in names:
        missing.append(pl.col("mrr").shift(1).over("subscription", order_by="seq").fill_null(0)
                       .alias("previous_mrr"))
    if "previous_product" not in names and "product" in names:
        missing.append(pl.col("product").shift(1).over("subscription", order_by="seq")
                       .alias("previous_product"))
    if not missing:
        return subscriptions
    frame = subscriptions.with_columns(missing)
    if set(SUBSCRIPTION_SCHEMA) <= set(names) | {"previous_mrr", "previous_product"}:
        frame = frame.select(list(SUBSCRIPTION_SCHEMA))
    return frame


def flow_frame(raw: pl.LazyFrame) -> pl.LazyFrame:
    """One typed row per cancellation-flow event (:data:`FLOW_SCHEMA`).

    Examples
    --------
    >>> import json
    >>> from datetime import datetime, UTC
    >>> obj = {"id": "cflow_1", "customer": "cus_1", "subscription": "sub_1", "mrr": 4900,
    ...        "currency": "usd", "offer": {"id": "offer_1", "type": "coupon"}}
    >>> raw = pl.LazyFrame({"seq": [1], "id": ["evt_1"],
    ...     "type": ["portico.cancellation_flow.offer_presented"],
    ...     "created": [datetime(2026, 1, 1, tzinfo=UTC)], "account": ["acct_1"],
    ...     "data": [json.dumps(obj)], "origin": [None]})
    >>> flow_frame(raw).select("step", "offer_type", "mrr").collect().row(0)
    ('offer_presented', 'coupon', 4900)
    """
    obj = pl.col("object").struct
    return raw.filter(pl.col("type").str.starts_with(FLOW_PREFIX)).select(
        "seq", pl.col("id").alias("event"),
        pl.col("type").str.strip_prefix(FLOW_PREFIX).alias("step"),
        "created", "account",
        pl.col("data").str.json_decode(_FLOW_OBJECT).alias("object"),
    ).select(
        "seq", "event", "step", "created", "account",
        obj.field("id").alias("flow"),
        *(obj.field(name).alias(name) for name in
          ("customer", "subscription", "configuration", "portal_session", "reason", "comment")),
        obj.field("offer").struct.field("id").alias("offer"),
        obj.field("offer").struct.field("type").alias("offer_type"),
        obj.field("experiment").alias("experiment"),
        obj.field("variant").alias("variant"),
        obj.field("holdout").fill_null(False).alias("holdout"),
        obj.field("mrr").alias("mrr"),
        obj.field("currency").alias("currency"),
    )


def write_parquet(frame: pl.LazyFrame, directory: str | Path) -> None:
    """Store a flattened frame as Parquet files partitioned by the month of ``created``.

    Read it back with ``pl.scan_parquet(f"{directory}/**/*.parquet")``.
    """
    month = pl.col("created").dt.strftime("%Y-%m").alias("month")
    frame.sink_parquet(pl.PartitionBy(str(directory), key=month, include_key=False), mkdir=True)
