"""Figures built from small metric frames carry the expected traces and values."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from analytics import figures, metrics

UTC_US = pl.Datetime("us", "UTC")


def _money(amount: int) -> str:
    return f"${amount / 100:,.2f}"


def _d(month: int, day: int = 10) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


# a: 1000 from Jan, 1500 from Feb, gone in Apr; b: 2000 from Jan, 1200 from Mar
EVENTS = pl.LazyFrame(
    {
        "seq": [1, 2, 3, 4, 5],
        "type": ["customer.subscription.created", "customer.subscription.created",
                 "customer.subscription.updated", "customer.subscription.updated",
                 "customer.subscription.deleted"],
        "created": [_d(1, 5), _d(1, 20), _d(2), _d(3), _d(4)],
        "customer": ["cus_a", "cus_b", "cus_a", "cus_b", "cus_a"],
        "subscription": ["sub_a", "sub_b", "sub_a", "sub_b", "sub_a"],
        "currency": ["usd"] * 5,
        "product": ["prod_a"] * 5,
        "mrr": [1000, 2000, 1500, 1200, 0],
        "feedback": [None, None, None, None, "too_expensive"],
        "comment": [None] * 5,
    },
    schema_overrides={"created": UTC_US, "feedback": pl.String, "comment": pl.String},
)
LABELS = {"new": "New", "churn": "Churn", "reason_too_expensive": "Too expensive",
          "no_data": "Nothing here"}


def test_mrr_line_plots_major_units_and_formats_the_hover() -> None:
    frame = metrics.mrr(EVENTS).collect()
    fig = figures.mrr_figure(frame, money=_money, exponent=2, labels=LABELS)
    (trace,) = fig.data
    assert trace.type == "scatter"
    assert list(trace.y) == [30.0, 35.0, 27.0, 12.0]
    assert [x.month for x in trace.x] == [1, 2, 3, 4]
    assert trace.hovertext[0] == "$30.00<br>2 customers"


def test_movements_bars_and_net_line() -> None:
    frame = metrics.mrr_movements(EVENTS).collect()
    fig = figures.movements_figure(frame, money=_money, exponent=2, labels=LABELS)
    bars = {t.name: list(t.y) for t in fig.data if t.type == "bar"}
    assert list(bars) == ["New", "expansion", "contraction", "Churn", "reactivation"]
    assert bars["New"] == [30.0, 0.0, 0.0, 0.0]
    assert bars["expansion"] == [0.0, 5.0, 0.0, 0.0]
    assert bars["contraction"] == [0.0, 0.0, -8.0, 0.0]
    assert bars["Churn"] == [0.0, 0.0, 0.0, -15.0]
    (net,) = [t for t in fig.data if t.type == "scatter"]
    assert list(net.y) == [30.0, 5.0, -8.0, -15.0]
    assert fig.layout.barmode == "relative"


def test_waterfall_adds_up_from_start_to_end() -> None:
    frame = metrics.mrr_movements(EVENTS, start=_d(2, 1), end=_d(4, 30)).collect()
    fig = figures.waterfall_figure(frame, money=_money, exponent=2, labels=LABELS)
    (trace,) = fig.data
    assert trace.type == "waterfall"
    assert list(trace.measure) == ["absolute"] + ["relative"] * 5 + ["total"]
    values = list(trace.y)
    assert values[0] == 30.0 and values[-1] == 12.0
    assert sum(values[1:-1]) == values[-1] - values[0]
    assert list(trace.hovertext) == [_money(v) for v in (3000, 0, 500, 0, -800, -1500, 1200)]
    # bars too small to see carry no label
    assert list(trace.text) == ["$30.00", "", "$5.00", "", _money(-800), _money(-1500), "$12.00"]


def test_churn_rates_in_percent_with_gaps_for_empty_periods() -> None:
    frame = metrics.churn_rates(EVENTS).collect()
    fig = figures.churn_figure(frame, labels=LABELS)
    assert [t.name for t in fig.data] == ["logo_churn_rate", "gross_revenue_churn_rate",
                                          "net_revenue_churn_rate"]
    logo = list(fig.data[0].y)
    assert logo[0] is None  # January started with nobody
    assert logo[3] == 50.0  # one of two customers left in April
    assert fig.layout.yaxis.ticksuffix == "%"


def test_reasons_bar_and_trend() -> None:
    reasons = metrics.cancellation_reasons(EVENTS).collect()
    fig = figures.reasons_figure(reasons, money=_money, labels=LABELS)
    (bar,) = fig.data
    assert list(bar.y) == ["Too expensive"] and list(bar.x) == [1]
    assert "$15.00" in bar.hovertext[0]

    trend = metrics.cancellation_reason_trend(EVENTS).collect()
    fig = figures.reason_trend_figure(trend, labels=LABELS)
    assert [t.name for t in fig.data] == ["Too expensive"]
    assert list(fig.data[0].y) == [1] and fig.layout.barmode == "stack"


def test_cohort_heatmap_rows_are_cohorts_and_cells_percent() -> None:
    cohorts = metrics.cohort_retention(EVENTS).collect()
    fig = figures.cohort_figure(cohorts, labels=LABELS)
    (heat,) = fig.data
    assert heat.type == "heatmap"
    assert list(heat.y) == ["Jan 2026"]
    assert list(heat.x) == [0, 1, 2, 3]
    assert [round(v) for v in heat.z[0]] == [100, 100, 100, 50]
    assert heat.text[0][3] == "50%"


def test_empty_frames_say_so() -> None:
    empty = metrics.mrr_movements(EVENTS).collect().clear()
    for fig in (figures.mrr_figure(empty, money=_money, exponent=2, labels=LABELS),
                figures.waterfall_figure(empty, money=_money, exponent=2, labels=LABELS)):
        assert fig.data == ()
        assert fig.layout.annotations[0].text == "Nothing here"
