"""The merchant dashboard's numbers: every metric for one set of filters, collected at once.

The console's dashboard State calls :func:`build_dashboard` with the account's two
frames and the merchant's filters and shows what comes back; it computes nothing
itself. Everything here composes :mod:`analytics.metrics` and
:mod:`analytics.experiments` (segment, filter, call each metric with the range) and
collects the plans together with ``polars.collect_all``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, TypedDict

import polars as pl

from analytics import experiments, metrics
from analytics.stats import wilson_interval

FREQ = "1mo"
KpiKind = Literal["money", "count", "rate"]
KPI_KEYS = ("mrr", "customers", "logo_churn", "net_revenue_churn", "save_rate")
"""The tiles, in order: MRR and paying customers now; churn rates and the cancel
flows' save rate over the last complete month."""


@dataclass(frozen=True)
class Filters:
    """What the merchant narrowed the dashboard to.

    ``end`` is "now" (or the range's end); ``start`` the first month shown (None:
    the whole history). ``products`` and ``configurations`` of None mean all.
    Products narrow the MRR, churn, cohorts and flows (by the subscription's plan);
    configurations narrow the cancel flows (offers, experiments, save rate).
    """

    currency: str
    end: datetime
    start: datetime | None = None
    products: tuple[str, ...] | None = None
    configurations: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ExperimentDesign:
    """An experiment as configured: its name, variant weights and names, control arm."""

    experiment: str
    name: str
    weights: Mapping[str, float]
    control: str
    variant_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Kpi:
    """One tile: the value now (or of the last complete month) and the one before."""

    key: str
    kind: KpiKind
    value: int | float | None
    previous: int | float | None
    period: datetime | None  # the month the value describes (its start)
    previous_period: datetime | None

    @property
    def change(self) -> int | float | None:
        """``value − previous`` (rates: in fraction points), None when either is missing."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass(frozen=True)
class Dashboard:
    """Every frame the page shows (and offers as CSV), collected."""

    kpis: tuple[Kpi, ...]
    mrr: pl.DataFrame
    """:func:`analytics.metrics.mrr_movements` joined with paying customers."""
    churn: pl.DataFrame
    reasons: pl.DataFrame
    reason_trend: pl.DataFrame
    cohorts: pl.DataFrame
    offers: pl.DataFrame
    variants: pl.DataFrame
    """Deflection per experiment variant."""
    experiments: pl.DataFrame
    """Experiment read-outs, one block per experiment with ``experiment`` and ``name``."""

    TABLES = ("mrr", "churn", "reasons", "reason_trend", "cohorts", "offers", "variants",
              "experiments")

    @property
    def is_empty(self) -> bool:
        """Whether nothing at all happened in this currency (no periods to show)."""
        return self.mrr.is_empty()

    def table(self, name: str) -> pl.DataFrame:
        """One of :attr:`TABLES` by name. Raises KeyError for another name."""
        if name not in self.TABLES:
            raise KeyError(name)
        frame: pl.DataFrame = getattr(self, name)
        return frame


def month_start(moment: datetime) -> datetime:
    """The first instant (UTC) of ``moment``'s month."""
    moment = moment.astimezone(UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment``'s month start moved by ``months`` (negative: back).

    Examples
    --------
    >>> add_months(datetime(2026, 1, 31, tzinfo=UTC), -2)
    datetime.datetime(2025, 11, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    first = month_start(moment)
    index = first.year * 12 + first.month - 1 + months
    return first.replace(year=index // 12, month=index % 12 + 1)


def currencies_by_mrr(subscriptions: pl.LazyFrame, *, at: datetime | None = None) -> list[str]:
    """The currencies of the history, the one with the most MRR at ``at`` first.

    Currencies whose MRR is 0 follow, alphabetically (a merchant may still read
    their history).
    """
    frame = metrics.mrr(subscriptions, end=at)
    if at is not None:
        frame = frame.filter(pl.col("period") <= pl.lit(at).cast(pl.Datetime("us", "UTC")))
    latest = (
        frame.sort("period").group_by("currency").agg(pl.col("mrr").last())
        .sort(["mrr", "currency"], descending=[True, False]).collect()
    )
    return latest["currency"].to_list()


def products(subscriptions: pl.LazyFrame) -> list[str]:
    """Every product id the history mentions, sorted."""
    return sorted(subscriptions.select(pl.col("product").drop_nulls().unique())
                  .collect()["product"].to_list())


def configurations(flows: pl.LazyFrame) -> list[str]:
    """Every portal configuration id the cancel flows mention, sorted."""
    return sorted(flows.select(pl.col("configuration").drop_nulls().unique())
                  .collect()["configuration"].to_list())


def build_dashboard(
    subscriptions: pl.LazyFrame,
    flows: pl.LazyFrame,
    *,
    filters: Filters,
    designs: Sequence[ExperimentDesign] = (),
    min_exposures: int = 200,
) -> Dashboard:
    """Every dashboard frame for ``filters``, computed by the metric functions.

    Parameters
    ----------
    subscriptions, flows
        The account's frames (:mod:`analytics.ingest`).
    filters
        Currency, range and segments.
    designs
        The experiments to read out (their weights and control come from their
        configuration, not from the data); experiments without flows are left out.
    min_exposures
        Passed to :func:`analytics.experiments.experiment_readout`.
    """
    currency = [filters.currency]
    # a subscription keeps its currency for life: other currencies' rows can go
    segmented = metrics.segment(subscriptions.filter(pl.col("currency") == filters.currency),
                                products=filters.products)
    chosen = metrics.filter_flows(flows, currencies=currency,
                                  configurations=filters.configurations,
                                  products=filters.products,
                                  subscriptions=subscriptions if filters.products else None)
    end, start = filters.end, filters.start
    now = month_start(end)
    last_month, month_before = add_months(now, -1), add_months(now, -2)
    ranged = _Range(freq=FREQ, start=start, end=end)

    plans: dict[str, pl.LazyFrame] = {
        "mrr": metrics.mrr_movements(segmented, **ranged).join(
            metrics.mrr(segmented, **ranged).select("period", "currency", "customers"),
            on=["period", "currency"], how="left").sort("period"),
        "churn": metrics.churn_rates(segmented, **ranged),
        "reasons": metrics.cancellation_reasons(segmented, start=start, end=end),
        "reason_trend": metrics.cancellation_reason_trend(segmented, **ranged),
        "cohorts": metrics.cohort_retention(segmented, freq=FREQ, end=end).filter(
            pl.lit(True) if start is None
            else pl.col("cohort") >= pl.lit(start).cast(pl.Datetime("us", "UTC"))),
        "offers": metrics.deflection(chosen, subscriptions, start=start, end=end, as_of=end),
        "variants": metrics.deflection(chosen, subscriptions, by=("experiment", "variant"),
                                       start=start, end=end, as_of=end)
        .filter(pl.col("experiment").is_not_null()),
        # the tiles: the state now and the two last complete months
        "kpi_mrr": metrics.mrr(segmented, freq=FREQ, start=last_month, end=end),
        "kpi_churn": metrics.churn_rates(segmented, freq=FREQ, start=month_before,
                                         end=last_month),
        "kpi_saves": metrics.deflection(chosen, subscriptions, by=(), start=last_month,
                                        end=now, as_of=end),
        "kpi_saves_before": metrics.deflection(chosen, subscriptions, by=(),
                                               start=month_before, end=last_month, as_of=end),
    }
    exposed = set(chosen.select(pl.col("experiment").drop_nulls().unique())
                  .collect()["experiment"].to_list())
    readouts = [
        experiments.experiment_readout(
            chosen, experiment=design.experiment, weights=design.weights,
            control=design.control, min_exposures=min_exposures,
        ).with_columns(
            pl.lit(design.experiment).alias("experiment"),
            pl.lit(design.name).alias("name"),
            pl.col("variant").replace_strict(dict(design.variant_names), default=pl.col("variant"),
                                             return_dtype=pl.String).alias("variant_name"),
        )
        for design in designs if design.experiment in exposed
    ]
    plans["experiments"] = (
        pl.concat(readouts) if readouts else pl.LazyFrame(schema=_EXPERIMENT_SCHEMA)
    ).select(list(_EXPERIMENT_SCHEMA))
    names = list(plans)
    collected = dict(zip(names, pl.collect_all([plans[n] for n in names]), strict=True))
    for name in ("offers", "variants"):
        collected[name] = with_save_interval(collected[name])
    kpis = _kpis(collected, now=now, last_month=last_month, month_before=month_before)
    return Dashboard(kpis=kpis, **{name: collected[name] for name in Dashboard.TABLES})


_EXPERIMENT_SCHEMA: dict[str, pl.DataType] = {
    "experiment": pl.String(), "name": pl.String(), "variant": pl.String(),
    "variant_name": pl.String(), "weight": pl.Float64(), "exposures": pl.Int64(),
    "conversions": pl.Int64(), "rate": pl.Float64(), "rate_low": pl.Float64(),
    "rate_high": pl.Float64(), "diff": pl.Float64(), "diff_low": pl.Float64(),
    "diff_high": pl.Float64(), "z": pl.Float64(), "p_value": pl.Float64(),
    "srm_p_value": pl.Float64(), "significant": pl.Boolean(), "verdict": pl.String(),
}


def with_save_interval(deflection: pl.DataFrame, *, confidence: float = 0.95) -> pl.DataFrame:
    """Add the Wilson interval of each row's save rate: ``save_rate_low``, ``save_rate_high``.

    ``deflection`` is a collected :func:`analytics.metrics.deflection` frame (a few
    rows: one per offer or variant).

    Examples
    --------
    >>> frame = pl.DataFrame({"shown": [10], "accepted": [5], "save_rate": [0.5]})
    >>> [round(v, 3) for v in with_save_interval(frame).row(0)[3:]]
    [0.237, 0.763]
    """
    bounds = [wilson_interval(accepted, shown, confidence=confidence)
              for accepted, shown in zip(deflection["accepted"].to_list(),
                                         deflection["shown"].to_list(), strict=True)]
    position = deflection.columns.index("save_rate") + 1
    return deflection.insert_column(
        position, pl.Series("save_rate_low", [b[0] for b in bounds], pl.Float64)
    ).insert_column(position + 1, pl.Series("save_rate_high", [b[1] for b in bounds], pl.Float64))


class _Range(TypedDict):
    """The period options every time-series metric takes."""

    freq: str
    start: datetime | None
    end: datetime


def _value(frame: pl.DataFrame, column: str, period: datetime) -> int | float | None:
    row = frame.filter(pl.col("period") == pl.lit(period).cast(pl.Datetime("us", "UTC")))
    if row.is_empty():
        return None
    value = row[column][0]
    return value


def _save_rate(frame: pl.DataFrame) -> float | None:
    if frame.is_empty() or frame["shown"].sum() == 0:
        return None
    return int(frame["accepted"].sum()) / int(frame["shown"].sum())  # counts


def _kpis(frames: dict[str, pl.DataFrame], *, now: datetime, last_month: datetime,
          month_before: datetime) -> tuple[Kpi, ...]:
    level, churn = frames["kpi_mrr"], frames["kpi_churn"]

    def state_now(key: str, column: str) -> Kpi:
        return Kpi(key, "money" if column == "mrr" else "count", _value(level, column, now),
                   _value(level, column, last_month), now, last_month)

    def rate(key: str, column: str) -> Kpi:
        return Kpi(key, "rate", _value(churn, column, last_month),
                   _value(churn, column, month_before), last_month, month_before)

    return (
        state_now("mrr", "mrr"),
        state_now("customers", "customers"),
        rate("logo_churn", "logo_churn_rate"),
        rate("net_revenue_churn", "net_revenue_churn_rate"),
        Kpi("save_rate", "rate", _save_rate(frames["kpi_saves"]),
            _save_rate(frames["kpi_saves_before"]), last_month, month_before),
    )
