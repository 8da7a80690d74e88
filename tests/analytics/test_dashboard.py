"""The dashboard assembly: tiles from a hand-computed history, filters reach every metric."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from analytics.dashboard import Filters, add_months, build_dashboard, currencies_by_mrr
from analytics.ingest import FLOW_SCHEMA
from tests.analytics.test_figures import EVENTS

NO_FLOWS = pl.LazyFrame(schema=FLOW_SCHEMA)
MAY = datetime(2026, 5, 5, tzinfo=UTC)


def _kpis(dashboard) -> dict:
    return {k.key: (k.value, k.previous) for k in dashboard.kpis}


def test_tiles_are_now_and_the_last_complete_month() -> None:
    board = build_dashboard(EVENTS, NO_FLOWS, filters=Filters(currency="usd", end=MAY))

    kpis = _kpis(board)
    assert kpis["mrr"] == (1200, 1200)  # now (May) vs the end of April
    assert kpis["customers"] == (1, 1)
    assert kpis["logo_churn"] == (0.5, 0.0)  # April vs March
    assert kpis["net_revenue_churn"][0] == pytest.approx(1500 / 2700)
    assert kpis["net_revenue_churn"][1] == pytest.approx(800 / 3500)
    assert kpis["save_rate"] == (None, None)
    assert board.kpis[2].change == 0.5
    assert board.mrr["period"].dt.month().to_list() == [1, 2, 3, 4, 5]
    assert board.reasons["reason"].to_list() == ["too_expensive"]
    assert board.offers.is_empty() and board.experiments.is_empty()


def test_range_product_and_currency_filters() -> None:
    ranged = build_dashboard(EVENTS, NO_FLOWS,
                             filters=Filters(currency="usd", end=MAY, start=add_months(MAY, -1)))
    assert ranged.mrr["period"].dt.month().to_list() == [4, 5]
    assert ranged.mrr["mrr_start"][0] == 2700
    assert _kpis(ranged)["mrr"] == (1200, 1200)  # tiles do not depend on the range

    other = build_dashboard(EVENTS, NO_FLOWS,
                            filters=Filters(currency="usd", end=MAY, products=("prod_b",)))
    assert _kpis(other)["mrr"] == (0, 0)

    euros = EVENTS.with_columns(pl.lit("eur").alias("currency"),
                                pl.col("customer") + "_eu", pl.col("subscription") + "_eu",
                                pl.col("seq") + 10, pl.col("mrr") * 2)
    both = pl.concat([EVENTS, euros])
    assert currencies_by_mrr(both, at=MAY) == ["eur", "usd"]
    board = build_dashboard(both, NO_FLOWS, filters=Filters(currency="eur", end=MAY))
    assert _kpis(board)["mrr"] == (2400, 2400)
    assert set(board.mrr["currency"]) == {"eur"}
    with pytest.raises(KeyError):
        board.table("secrets")
