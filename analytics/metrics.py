"""MRR, its movements, churn, cancellation reasons, deflection and cohorts.

Every function takes the flattened frames of :mod:`analytics.ingest` (or of
:mod:`analytics.synthetic`) as LazyFrames and returns a LazyFrame ready to chart
or write as CSV. Nothing here collects.

A subscription's MRR is a step function: the ``mrr`` of its latest event at or
before a moment. ``seq`` orders events (the ingest layer numbers them in time
order, ``created`` then arrival). A period's figure
is the state at the period's end. Customers are counted per currency: movements
compare a customer's MRR in one currency at consecutive period ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import polars as pl

from analytics.ingest import with_previous

MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation")
UNKNOWN_REASON = "unknown"
_YEAR_S = 365 * 86_400


def segment(
    subscriptions: pl.LazyFrame,
    *,
    currencies: Iterable[str] | None = None,
    products: Iterable[str] | None = None,
) -> pl.LazyFrame:
    """Keep only the MRR of the given currencies and products.

    Rows stay; MRR outside the segment becomes 0 (``mrr`` by ``product``,
    ``previous_mrr`` by ``previous_product``), so moving from a product in the segment
    to one outside it reads as churn from the segment (and back as new or
    reactivation) while the history before the move is kept.

    Examples
    --------
    >>> frame = pl.LazyFrame({"seq": [1, 2], "subscription": ["sub_1", "sub_1"],
    ...     "mrr": [100, 200], "currency": ["usd", "usd"], "product": ["prod_a", "prod_b"]})
    >>> segment(frame, products=["prod_a"]).collect().select("mrr", "previous_mrr").rows()
    [(100, 0), (0, 100)]
    """
    frame = with_previous(subscriptions)
    keep = keep_previous = pl.lit(True)
    if currencies is not None:
        keep &= pl.col("currency").is_in(list(currencies))
        keep_previous &= pl.col("currency").is_in(list(currencies))
    if products is not None:
        keep &= pl.col("product").is_in(list(products))
        keep_previous &= pl.col("previous_product").is_in(list(products))
    return frame.with_columns(
        pl.when(keep).then(pl.col("mrr")).otherwise(0).cast(pl.Int64).alias("mrr"),
        pl.when(keep_previous).then(pl.col("previous_mrr")).otherwise(0).cast(pl.Int64)
        .alias("previous_mrr"),
    )


def convert_currency(
    subscriptions: pl.LazyFrame, *, rates: pl.LazyFrame | pl.DataFrame, to: str
) -> pl.LazyFrame:
    """Express every snapshot's MRR in one currency.

    Parameters
    ----------
    rates
        ``currency`` (String) and ``rate`` (Float64): minor units of ``to`` per minor
        unit of ``currency``. A currency missing from the table is dropped.
    to
        The target currency; its own rate defaults to 1.

    Returns
    -------
    LazyFrame
        The subscription frame with ``mrr`` converted (rounded half up per snapshot)
        and ``currency`` set to ``to``.

    Examples
    --------
    >>> frame = pl.LazyFrame({"seq": [1, 2], "subscription": ["sub_1", "sub_2"],
    ...     "mrr": [1000, 1000], "currency": ["usd", "eur"], "product": ["p", "p"]})
    >>> rates = pl.DataFrame({"currency": ["eur"], "rate": [1.085]})
    >>> convert_currency(frame, rates=rates, to="usd").collect()["mrr"].to_list()
    [1000, 1085]
    """
    def converted(column: str) -> pl.Expr:
        return (pl.col(column) * pl.col("rate") + 0.5).floor().cast(pl.Int64).alias(column)

    table = pl.concat([
        rates.lazy().select(pl.col("currency"), pl.col("rate").cast(pl.Float64)),
        pl.LazyFrame({"currency": [to], "rate": [1.0]}),
    ]).unique("currency", keep="first")
    return with_previous(subscriptions).join(
        table, on="currency", how="inner", maintain_order="left").with_columns(
        converted("mrr"), converted("previous_mrr"), pl.lit(to).alias("currency"),
    ).drop("rate")


def _segmented(values: pl.Expr, first: pl.Expr, *, op: str = "sum") -> pl.Expr:
    # A running sum restarting where ``first`` is true, on rows sorted by group:
    # cheaper than a window over millions of small groups.
    running = values.cum_sum()
    offset = pl.when(first).then(running - values).forward_fill()
    return running - offset


def _customer_levels(subscriptions: pl.LazyFrame, freq: str) -> pl.LazyFrame:
    # Per customer and currency, the MRR at the end of each period with events
    # (``level``), the level before (``previous``) and whether it was ever positive before.
    # Only events that change MRR matter: the level is the running sum of changes.
    changes = with_previous(subscriptions).filter(
        pl.col("mrr") != pl.col("previous_mrr")).select(
        "customer", "currency",
        pl.col("created").dt.truncate(freq).alias("period"),
        (pl.col("mrr") - pl.col("previous_mrr")).alias("delta"),
        ((pl.col("mrr") > 0).cast(pl.Int64) - (pl.col("previous_mrr") > 0).cast(pl.Int64))
        .alias("active_delta"),
    )
    per_customer = changes.group_by("customer", "currency", "period").agg(
        pl.col("delta").sum(), pl.col("active_delta").sum().alias("subscriptions_delta"),
    ).sort("customer", "currency", "period")
    first = (pl.col("customer") != pl.col("customer").shift(1)).fill_null(True) | (
        pl.col("currency") != pl.col("currency").shift(1)).fill_null(True)
    return per_customer.with_columns(first.alias("first")).with_columns(
        _segmented(pl.col("delta"), pl.col("first")).alias("level"),
    ).with_columns(
        (pl.col("level") - pl.col("delta")).alias("previous"),
        (_segmented((pl.col("level") > 0).cast(pl.Int64), pl.col("first"))
         - (pl.col("level") > 0).cast(pl.Int64) > 0).alias("was_paying"),
    ).drop("first")


def _classified(levels: pl.LazyFrame) -> pl.LazyFrame:
    level, previous = pl.col("level"), pl.col("previous")
    starts = (previous == 0) & (level > 0)
    return levels.with_columns(
        pl.when(starts & ~pl.col("was_paying")).then(level).otherwise(0).alias("new"),
        pl.when((previous > 0) & (level > previous)).then(level - previous).otherwise(0)
        .alias("expansion"),
        pl.when((level > 0) & (level < previous)).then(level - previous).otherwise(0)
        .alias("contraction"),
        pl.when((previous > 0) & (level == 0)).then(-previous).otherwise(0).alias("churn"),
        pl.when(starts & pl.col("was_paying")).then(level).otherwise(0).alias("reactivation"),
        (starts & ~pl.col("was_paying")).alias("is_new"),
        ((previous > 0) & (level == 0)).alias("is_churned"),
        (starts & pl.col("was_paying")).alias("is_reactivated"),
        (starts.cast(pl.Int64) - ((previous > 0) & (level == 0)).cast(pl.Int64))
        .alias("customers_delta"),
    )


def _period_grid(subscriptions: pl.LazyFrame, freq: str, end: datetime | None) -> pl.LazyFrame:
    # Every (period, currency) from the first event to the last (or ``end``): read
    # from the events themselves so the heavy per-customer plan is not run twice.
    last = pl.col("last")
    if end is not None:
        last = pl.max_horizontal(last, pl.lit(end).cast(pl.Datetime("us", "UTC")).dt.truncate(freq))
    # Every currency gets the same span: the global first to last period. One range per
    # row (``datetime_ranges``) rather than one for the frame, so that no events (no rows)
    # gives no periods instead of a range from null.
    span = subscriptions.group_by("currency").agg(
        pl.col("created").min().dt.truncate(freq).alias("first"),
        pl.col("created").max().dt.truncate(freq).alias("last"))
    return span.select(
        "currency",
        pl.datetime_ranges(pl.col("first").min(), last.max(), interval=freq, time_zone="UTC")
        .alias("period"),
    ).explode("period")


def _in_range(start: datetime | None, end: datetime | None, freq: str) -> pl.Expr:
    keep = pl.lit(True)
    if start is not None:
        keep &= pl.col("period") >= pl.lit(start).cast(pl.Datetime("us", "UTC")).dt.truncate(freq)
    if end is not None:
        keep &= pl.col("period") <= pl.lit(end).cast(pl.Datetime("us", "UTC")).dt.truncate(freq)
    return keep


def _period_table(subscriptions: pl.LazyFrame, freq: str, end: datetime | None) -> pl.LazyFrame:
    movements = _classified(_customer_levels(subscriptions, freq)).group_by(
        "period", "currency").agg(
        *(pl.col(name).sum() for name in MOVEMENTS),
        pl.col("delta").sum().alias("net"),
        pl.col("is_new").sum().cast(pl.Int64).alias("new_customers"),
        pl.col("is_churned").sum().cast(pl.Int64).alias("churned_customers"),
        pl.col("is_reactivated").sum().cast(pl.Int64).alias("reactivated_customers"),
        pl.col("customers_delta").sum(),
        pl.col("subscriptions_delta").sum(),
    )
    zero = [pl.col(c).fill_null(0) for c in
            (*MOVEMENTS, "net", "new_customers", "churned_customers", "reactivated_customers",
             "customers_delta", "subscriptions_delta")]
    running = ("currency",)
    return (
        _period_grid(subscriptions, freq, end)
        .join(movements, on=["period", "currency"], how="left")
        .with_columns(zero)
        .with_columns(
            pl.col("net").cum_sum().over(running, order_by="period").alias("mrr"),
            pl.col("customers_delta").cum_sum().over(running, order_by="period").alias("customers"),
            pl.col("subscriptions_delta").cum_sum().over(running, order_by="period")
            .alias("subscriptions"),
        )
        .with_columns(
            (pl.col("mrr") - pl.col("net")).alias("mrr_start"),
            (pl.col("customers") - pl.col("customers_delta")).alias("customers_start"),
        )
    )


def mrr(
    subscriptions: pl.LazyFrame,
    *,
    freq: str = "1mo",
    start: datetime | None = None,
    end: datetime | None = None,
) -> pl.LazyFrame:
    """MRR, paying customers and paying subscriptions at the end of each period.

    Parameters
    ----------
    subscriptions
        The subscription frame (``created``, ``seq``, ``customer``, ``subscription``,
        ``currency``, ``mrr``); :func:`segment` or :func:`convert_currency` it first
        to filter or convert.
    freq
        Period length as ``Expr.dt.truncate`` reads it: ``"1d"``, ``"1w"``, ``"1mo"``,
        ``"3mo"``, ``"1y"``.
    start, end
        The periods to return (the whole history is still used for the state at
        ``start``); ``end`` also extends the series to a period without events.

    Returns
    -------
    LazyFrame
        ``period`` (Datetime UTC), ``currency``, ``mrr`` (Int64 minor units),
        ``customers`` and ``subscriptions`` (Int64, those with MRR > 0), sorted.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> events = pl.LazyFrame({
    ...     "created": [datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)],
    ...     "seq": [1, 2], "customer": ["cus_1", "cus_1"], "subscription": ["sub_1", "sub_1"],
    ...     "currency": ["usd", "usd"], "mrr": [4900, 9900]})
    >>> mrr(events).collect()["mrr"].to_list()
    [4900, 4900, 9900]
    """
    return (
        _period_table(subscriptions, freq, end)
        .filter(_in_range(start, end, freq))
        .select("period", "currency", "mrr", "customers", "subscriptions")
        .sort("period", "currency")
    )


def mrr_movements(
    subscriptions: pl.LazyFrame,
    *,
    freq: str = "1mo",
    start: datetime | None = None,
    end: datetime | None = None,
) -> pl.LazyFrame:
    """Split each period's MRR change into new, expansion, contraction, churn, reactivation.

    A customer's MRR (per currency) at the period's end is compared with the end of
    the previous period: from 0 to positive is *new* (first time) or *reactivation*;
    positive to 0 is *churn*; otherwise the increase is *expansion*, the decrease
    *contraction*. Contraction and churn are negative.

    Returns
    -------
    LazyFrame
        ``period``, ``currency``, ``mrr_start``, the five movements, ``net`` and
        ``mrr`` (Int64); ``mrr_start + net == mrr`` and the movements sum to ``net``;
        ``new_customers``, ``churned_customers``, ``reactivated_customers``.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> events = pl.LazyFrame({
    ...     "created": [datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC)],
    ...     "seq": [1, 2], "customer": ["cus_1", "cus_1"], "subscription": ["sub_1", "sub_1"],
    ...     "currency": ["usd", "usd"], "mrr": [4900, 9900]})
    >>> mrr_movements(events).collect().select("new", "expansion", "net").rows()
    [(4900, 0, 4900), (0, 5000, 5000)]
    """
    return (
        _period_table(subscriptions, freq, end)
        .filter(_in_range(start, end, freq))
        .select("period", "currency", "mrr_start", *MOVEMENTS, "net", "mrr",
                "new_customers", "churned_customers", "reactivated_customers")
        .sort("period", "currency")
    )


def churn_rates(
    subscriptions: pl.LazyFrame,
    *,
    freq: str = "1mo",
    start: datetime | None = None,
    end: datetime | None = None,
) -> pl.LazyFrame:
    """Logo churn and gross and net revenue churn per period.

    * logo churn rate = churned customers / paying customers at the period's start
    * gross revenue churn rate = (churn + contraction MRR) / MRR at the start
    * net revenue churn rate = (churn + contraction − expansion MRR) / MRR at the
      start (reactivations are won-back revenue, not retention: excluded); negative
      when expansion outgrows losses.

    Rates are Float64 fractions, null when the period starts with nothing.

    Returns
    -------
    LazyFrame
        ``period``, ``currency``, ``customers_start``, ``churned_customers``,
        ``logo_churn_rate``, ``mrr_start``, ``churned_mrr``, ``contraction_mrr``,
        ``expansion_mrr`` (positive Int64), ``gross_revenue_churn_rate``,
        ``net_revenue_churn_rate``.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> events = pl.LazyFrame({
    ...     "created": [datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC),
    ...                 datetime(2026, 2, 2, tzinfo=UTC)],
    ...     "seq": [1, 2, 3], "customer": ["cus_1", "cus_2", "cus_1"],
    ...     "subscription": ["sub_1", "sub_2", "sub_1"], "currency": ["usd"] * 3,
    ...     "mrr": [1000, 3000, 0]})
    >>> churn_rates(events).collect().select("logo_churn_rate", "churned_mrr",
    ...     "gross_revenue_churn_rate").row(1)
    (0.5, 1000, 0.25)
    """
    def rate(numerator: pl.Expr, denominator: str) -> pl.Expr:
        return pl.when(pl.col(denominator) > 0).then(numerator / pl.col(denominator))

    churned, contraction = -pl.col("churn"), -pl.col("contraction")
    return (
        _period_table(subscriptions, freq, end)
        .filter(_in_range(start, end, freq))
        .select(
            "period", "currency", "customers_start", "churned_customers",
            rate(pl.col("churned_customers"), "customers_start").alias("logo_churn_rate"),
            "mrr_start",
            churned.alias("churned_mrr"),
            contraction.alias("contraction_mrr"),
            pl.col("expansion").alias("expansion_mrr"),
            rate(churned + contraction, "mrr_start").alias("gross_revenue_churn_rate"),
            rate(churned + contraction - pl.col("expansion"), "mrr_start")
            .alias("net_revenue_churn_rate"),
        )
        .sort("period", "currency")
    )


def cohort_retention(
    subscriptions: pl.LazyFrame,
    *,
    freq: str = "1mo",
    end: datetime | None = None,
) -> pl.LazyFrame:
    """Customer and revenue retention of each signup cohort, period by period.

    A customer's cohort is the period in which their MRR (per currency) first became
    positive; age 0 is that period's end.

    Returns
    -------
    LazyFrame
        ``currency``, ``cohort`` (Datetime UTC), ``age`` (Int64 periods), ``customers``
        (paying at the end of the period), ``mrr``, ``customer_retention`` and
        ``revenue_retention`` (Float64, relative to age 0; null when the cohort
        started with no MRR), sorted.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> events = pl.LazyFrame({
    ...     "created": [datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC),
    ...                 datetime(2026, 2, 2, tzinfo=UTC)],
    ...     "seq": [1, 2, 3], "customer": ["cus_1", "cus_2", "cus_1"],
    ...     "subscription": ["sub_1", "sub_2", "sub_1"], "currency": ["usd"] * 3,
    ...     "mrr": [1000, 3000, 0]})
    >>> cohort_retention(events).collect()["customer_retention"].to_list()
    [1.0, 0.5]
    """
    levels = _classified(_customer_levels(subscriptions, freq))
    # rows are sorted by customer, currency and period: the cohort is the period of
    # a customer's first positive level, carried forward within the customer
    paying = (pl.col("level") > 0).cast(pl.Int64)
    first_row = (pl.col("customer") != pl.col("customer").shift(1)).fill_null(True) | (
        pl.col("currency") != pl.col("currency").shift(1)).fill_null(True)
    seen = _segmented(paying, first_row)
    cohort = pl.when(seen > 0).then(
        pl.when((seen == 1) & (paying == 1)).then(pl.col("period")).forward_fill())
    changes = levels.with_columns(cohort.alias("cohort")).filter(
        pl.col("cohort").is_not_null()).group_by("currency", "cohort", "period").agg(
        pl.col("delta").sum(), pl.col("customers_delta").sum())
    grid = _period_grid(subscriptions, freq, end)
    index = grid.select("period").unique().with_columns(
        pl.col("period").rank("dense").cast(pl.Int64).alias("index"))
    table = (
        grid.join(grid.select("currency", pl.col("period").alias("cohort")), on="currency")
        .filter(pl.col("period") >= pl.col("cohort"))
        .join(changes, on=["currency", "cohort", "period"], how="left")
        .with_columns(pl.col("delta", "customers_delta").fill_null(0))
        .with_columns(
            pl.col("delta").cum_sum().over("currency", "cohort", order_by="period").alias("mrr"),
            pl.col("customers_delta").cum_sum().over("currency", "cohort", order_by="period")
            .alias("customers"),
        )
        .filter(pl.col("customers").max().over("currency", "cohort") > 0)
        .join(index, on="period")
        .with_columns(
            (pl.col("index") - pl.col("index").min().over("currency", "cohort")).alias("age"))
    )
    first = ("currency", "cohort")
    return table.select(
        "currency", "cohort", "age", "customers", "mrr",
        (pl.col("customers") / pl.col("customers").sort_by("age").first().over(first))
        .alias("customer_retention"),
        pl.when(pl.col("mrr").sort_by("age").first().over(first) > 0)
        .then(pl.col("mrr") / pl.col("mrr").sort_by("age").first().over(first))
        .alias("revenue_retention"),
    ).sort("currency", "cohort", "age")


def cancellations(subscriptions: pl.LazyFrame) -> pl.LazyFrame:
    """Every paid subscription that ended: when, why, and the MRR it took.

    A cancellation is a ``customer.subscription.deleted`` event whose subscription
    had MRR before it (canceled trials are not churn). ``reason`` is the survey
    answer (``cancellation_details.feedback``) or ``"unknown"``.

    Returns
    -------
    LazyFrame
        ``created``, ``customer``, ``subscription``, ``currency``,
        ``reason``, ``comment``, ``lost_mrr`` (Int64), in event order.
    """
    deleted = pl.col("type") == "customer.subscription.deleted"
    return (
        with_previous(subscriptions)
        .filter(deleted & (pl.col("previous_mrr") > 0))
        .with_columns(pl.col("previous_mrr").alias("lost_mrr"))
        .sort("created", "seq")
        .select("created", "customer", "subscription", "currency",
                pl.col("feedback").fill_null(UNKNOWN_REASON).alias("reason"), "comment",
                "lost_mrr")
    )


def _between(start: datetime | None, end: datetime | None, column: str = "created") -> pl.Expr:
    keep = pl.lit(True)
    if start is not None:
        keep &= pl.col(column) >= pl.lit(start).cast(pl.Datetime("us", "UTC"))
    if end is not None:
        keep &= pl.col(column) < pl.lit(end).cast(pl.Datetime("us", "UTC"))
    return keep


def cancellation_reasons(
    subscriptions: pl.LazyFrame,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pl.LazyFrame:
    """Why paying customers left between ``start`` (inclusive) and ``end`` (exclusive).

    Returns
    -------
    LazyFrame
        ``currency``, ``reason``, ``cancellations`` (Int64), ``share`` of the
        currency's cancellations, ``lost_mrr`` (Int64) and ``mrr_share`` (Float64),
        most MRR first.
    """
    return (
        cancellations(subscriptions).filter(_between(start, end))
        .group_by("currency", "reason")
        .agg(pl.len().cast(pl.Int64).alias("cancellations"), pl.col("lost_mrr").sum())
        .with_columns(
            (pl.col("cancellations") / pl.col("cancellations").sum().over("currency"))
            .alias("share"),
            (pl.col("lost_mrr") / pl.col("lost_mrr").sum().over("currency")).alias("mrr_share"),
        )
        .select("currency", "reason", "cancellations", "share", "lost_mrr", "mrr_share")
        .sort(["currency", "lost_mrr", "reason"], descending=[False, True, False])
    )


def cancellation_reason_trend(
    subscriptions: pl.LazyFrame,
    *,
    freq: str = "1mo",
    start: datetime | None = None,
    end: datetime | None = None,
) -> pl.LazyFrame:
    """Cancellations and lost MRR per period and reason.

    Returns
    -------
    LazyFrame
        ``period``, ``currency``, ``reason``, ``cancellations`` (Int64), ``lost_mrr``
        (Int64), sorted; periods without cancellations of a reason are absent.
    """
    return (
        cancellations(subscriptions)
        .with_columns(pl.col("created").dt.truncate(freq).alias("period"))
        .filter(_in_range(start, end, freq))
        .group_by("period", "currency", "reason")
        .agg(pl.len().cast(pl.Int64).alias("cancellations"), pl.col("lost_mrr").sum())
        .sort("period", "currency", "reason")
    )


def cancellation_comments(
    subscriptions: pl.LazyFrame,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pl.LazyFrame:
    """The free-text comments left on cancellation, newest first.

    Returns
    -------
    LazyFrame
        ``created``, ``customer``, ``subscription``, ``currency``, ``reason``,
        ``comment``, ``lost_mrr``.
    """
    return (
        cancellations(subscriptions)
        .filter(_between(start, end) & pl.col("comment").is_not_null() & (pl.col("comment") != ""))
        .select("created", "customer", "subscription", "currency", "reason", "comment", "lost_mrr")
        .sort("created", descending=True)
    )


def flow_outcomes(
    flows: pl.LazyFrame,
    subscriptions: pl.LazyFrame,
    *,
    churn_window_days: int = 30,
    as_of: datetime | None = None,
) -> pl.LazyFrame:
    """One row per cancellation flow: what was offered, what happened, what it saved.

    Parameters
    ----------
    flows
        The flow frame (:data:`analytics.ingest.FLOW_SCHEMA`).
    subscriptions
        The subscription frame, for the later churn of saved subscriptions.
    churn_window_days
        A save "churned later" when its subscription ends within this
        many days after the acceptance.
    as_of
        Revenue saved is counted up to this moment (default: the latest event).

    Returns
    -------
    LazyFrame
        ``flow``, ``started`` (first event time), ``customer``, ``subscription``,
        ``configuration``, ``reason``, ``offer``, ``offer_type``, ``experiment``,
        ``variant``, ``holdout``, ``currency``, ``mrr``, ``shown``, ``accepted``,
        ``completed`` (Boolean), ``accepted_at``, ``churned_at`` (the subscription's
        first end after the acceptance), ``churned_within_window`` (Boolean),
        ``revenue_saved`` (Int64: MRR × months kept, to the second, 1 month =
        365/12 days, rounded half up).
    """
    step = pl.col("step")
    per_flow = flows.group_by("flow").agg(
        pl.col("created").min().alias("started"),
        *(pl.col(c).drop_nulls().first() for c in
          ("customer", "subscription", "configuration", "reason", "offer", "offer_type",
           "experiment", "variant", "currency")),
        pl.col("holdout").any(),
        pl.col("mrr").drop_nulls().first(),
        (step == "offer_presented").any().alias("shown"),
        (step == "offer_accepted").any().alias("accepted"),
        (step == "completed").any().alias("completed"),
        pl.col("created").filter(step == "offer_accepted").min().alias("accepted_at"),
    )
    # any end counts here, also from a pause (0 MRR by the contract, yet a lost save)
    ended = subscriptions.filter(pl.col("type") == "customer.subscription.deleted").select(
        "subscription", pl.col("created").alias("ended"))
    later = (
        per_flow.filter(pl.col("accepted")).select("flow", "subscription", "accepted_at")
        .join(ended, on="subscription")
        .filter(pl.col("ended") > pl.col("accepted_at"))
        .group_by("flow").agg(pl.col("ended").min().alias("churned_at"))
    )
    if as_of is None:
        latest = pl.concat([flows.select(pl.col("created").max()),
                            subscriptions.select(pl.col("created").max())]).select(
            pl.col("created").max().alias("as_of"))
    else:
        latest = pl.LazyFrame({"as_of": [as_of]}).cast({"as_of": pl.Datetime("us", "UTC")})
    kept_until = pl.min_horizontal(pl.col("churned_at").fill_null(pl.col("as_of")), pl.col("as_of"))
    kept = (kept_until - pl.col("accepted_at")).dt.total_seconds().clip(lower_bound=0)
    # mrr × seconds kept / seconds of a 365/12-day month, in integers (no overflow
    # below ~10^11 minor units of MRR over ten years)
    revenue = (2 * pl.col("mrr") * kept * 12 + _YEAR_S) // (2 * _YEAR_S)
    window = pl.duration(days=churn_window_days)
    return (
        per_flow.join(later, on="flow", how="left").join(latest, how="cross")
        .with_columns(
            pl.when(pl.col("accepted")).then(revenue).otherwise(0).cast(pl.Int64)
            .alias("revenue_saved"),
            (pl.col("churned_at").is_not_null()
             & (pl.col("churned_at") <= pl.col("accepted_at") + window)).alias(
                "churned_within_window"),
        )
        .drop("as_of")
        .sort("started", "flow")
    )


def deflection(
    flows: pl.LazyFrame,
    subscriptions: pl.LazyFrame,
    *,
    by: Sequence[str] = ("offer", "offer_type"),
    churn_window_days: int = 30,
    as_of: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pl.LazyFrame:
    """Offers shown and accepted, save rate, MRR and revenue saved, later churn.

    Parameters
    ----------
    by
        Group keys among :func:`flow_outcomes`' columns: ``("offer", "offer_type")``
        per offer, ``("experiment", "variant")`` per experiment variant.
    start, end
        Flows started in ``[start, end)``.

    Returns
    -------
    LazyFrame
        The keys, ``currency``, ``shown``, ``accepted`` (Int64 flows), ``save_rate``
        (accepted / shown), ``mrr_saved`` (Int64, the accepted flows' MRR),
        ``revenue_saved`` (Int64, to ``as_of``), ``saved_churned`` (saves canceled
        within ``churn_window_days``) and ``saved_churn_rate``; only flows that
        showed an offer, most shown first.
    """
    keys = list(by)
    return (
        flow_outcomes(flows, subscriptions, churn_window_days=churn_window_days, as_of=as_of)
        .filter(pl.col("shown") & _between(start, end, "started"))
        .group_by(*keys, "currency")
        .agg(
            pl.len().cast(pl.Int64).alias("shown"),
            pl.col("accepted").sum().cast(pl.Int64),
            pl.col("mrr").filter(pl.col("accepted")).sum().cast(pl.Int64).alias("mrr_saved"),
            pl.col("revenue_saved").sum().cast(pl.Int64),
            pl.col("churned_within_window").sum().cast(pl.Int64).alias("saved_churned"),
        )
        .with_columns(
            (pl.col("accepted") / pl.col("shown")).alias("save_rate"),
            pl.when(pl.col("accepted") > 0)
            .then(pl.col("saved_churned") / pl.col("accepted")).alias("saved_churn_rate"),
        )
        .select(*keys, "currency", "shown", "accepted", "save_rate", "mrr_saved",
                "revenue_saved", "saved_churned", "saved_churn_rate")
        .sort(["shown", *keys, "currency"], descending=[True] + [False] * (len(keys) + 1),
              nulls_last=True)
    )


def filter_flows(
    flows: pl.LazyFrame,
    *,
    currencies: Iterable[str] | None = None,
    configurations: Iterable[str] | None = None,
    products: Iterable[str] | None = None,
    subscriptions: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """The flows of the given currencies, portal configurations and products.

    A flow's product is its subscription's at the flow's event (the latest
    subscription snapshot at or before it), so ``products`` needs ``subscriptions``.

    Examples
    --------
    >>> frame = pl.LazyFrame({"currency": ["usd", "eur"], "configuration": ["bpc_1", "bpc_1"]})
    >>> filter_flows(frame, currencies=["eur"]).collect().height
    1
    """
    keep = pl.lit(True)
    if currencies is not None:
        keep &= pl.col("currency").is_in(list(currencies))
    if configurations is not None:
        keep &= pl.col("configuration").is_in(list(configurations))
    flows = flows.filter(keep)
    if products is None:
        return flows
    if subscriptions is None:
        raise ValueError("filtering flows by product needs the subscription frame")
    names = flows.collect_schema().names()
    plans = subscriptions.select("subscription", "created", "product").sort("created")
    return (
        flows.sort("created")
        .join_asof(plans, on="created", by="subscription", strategy="backward",
                   check_sortedness=False)
        .filter(pl.col("product").is_in(list(products)))
        .select(names)
        .sort("seq")
    )
