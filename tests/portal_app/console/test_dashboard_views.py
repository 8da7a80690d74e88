"""What the churn dashboard shows: KPI tiles, the offers and experiments tables, its words."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import polars as pl

from analytics.dashboard import Kpi
from portal_app import i18n
from portal_app.console.dashboard_views import (
    CUSTOM,
    RANGES,
    csv_text,
    experiment_rows,
    figure_labels,
    kpi_label,
    kpi_tile,
    offer_rows,
    range_label,
    spreadsheet_text,
)

JAN, DEC = datetime(2026, 1, 1, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC)


def usd(amount: int) -> str:
    return i18n.format_money(amount, "usd", "en")


def test_money_tile_up_is_good() -> None:
    tile = kpi_tile(Kpi("mrr", "money", 125000, 100000, JAN, DEC), money=usd)
    assert (tile.label, tile.value, tile.change) == ("MRR", "$1,250.00", "+$250.00 (25.0%)")
    assert (tile.tone, tile.icon, tile.caption) == ("green", "trending-up",
                                                    "Now · vs end of Dec 2025")


def test_a_past_range_describes_its_last_month() -> None:
    tile = kpi_tile(Kpi("customers", "count", 1200, 1250, JAN, DEC), money=usd, current=False)
    assert (tile.value, tile.change, tile.tone) == ("1,200", "−50", "red")
    assert tile.caption == "End of Jan 2026 · vs end of Dec 2025"


def test_a_churn_rate_going_down_is_good() -> None:
    tile = kpi_tile(Kpi("logo_churn", "rate", 0.021, 0.034, JAN, DEC), money=usd)
    assert (tile.value, tile.change, tile.tone, tile.icon) == ("2.1%", "−1.3 pts", "green",
                                                               "trending-down")
    assert tile.caption == "Jan 2026 · vs Dec 2025"


def test_nothing_to_compare_with() -> None:
    tile = kpi_tile(Kpi("save_rate", "rate", 0.4, None, JAN, None), money=usd)
    assert (tile.change, tile.tone, tile.icon) == ("nothing to compare with", "gray", "minus")
    flat = kpi_tile(Kpi("mrr", "money", 100, 100, JAN, DEC), money=usd)
    assert (flat.change, flat.tone) == ("+$0.00 (0.0%)", "gray")


def test_offer_rows() -> None:
    frame = pl.DataFrame({
        "offer": ["offer_1", None], "offer_type": ["trial_extension", None],
        "shown": [1200, 3], "accepted": [300, 0], "save_rate": [0.25, 0.0],
        "save_rate_low": [0.22, 0.0], "save_rate_high": [0.28, 0.5],
        "mrr_saved": [150000, 0], "revenue_saved": [450000, 0],
        "saved_churned": [30, 0], "saved_churn_rate": [0.1, None]})
    week, unknown = offer_rows(frame, money=usd, names={"offer_1": "Free week"})
    assert (week.name, week.offer_type, week.tone) == ("Free week", "trial extension", "violet")
    assert (week.shown, week.accepted, week.save_rate, week.interval) == \
        ("1,200", "300", "25.0%", "22%–28%")
    assert (week.mrr_saved, week.revenue_saved, week.later_churn) == \
        ("$1,500.00", "$4,500.00", "30 (10%)")
    assert (unknown.name, unknown.tone, unknown.later_churn) == ("—", "gray", "—")


def test_experiment_rows() -> None:
    nan = float("nan")
    frame = pl.DataFrame({
        "experiment": ["exp_1", "exp_1"], "name": ["Week", "Week"],
        "variant": ["var_a", "var_b"], "variant_name": ["Control", None],
        "exposures": [1200, 3600], "rate": [0.25, 0.35], "rate_low": [0.2, 0.33],
        "rate_high": [0.3, 0.37], "diff": [nan, -0.1], "diff_low": [nan, -0.15],
        "diff_high": [nan, -0.05], "p_value": [nan, 0.0004], "significant": [False, True],
        "verdict": ["Control", "Worse than control"]})
    control, other = experiment_rows(frame)
    assert control.first and not other.first and control.is_control
    assert (control.diff, control.diff_interval, control.p_value) == ("—", "", "—")
    assert (other.variant, other.retained, other.interval) == ("var_b", "35.0%", "33.0%–37.0%")
    assert (other.diff, other.diff_interval, other.p_value, other.tone) == \
        ("−10.0 pts", "−15.0 to −5.0", "<0.001", "red")


def test_words_of_filters_and_charts() -> None:
    assert [range_label(key) for key in (*RANGES, CUSTOM)] == [
        "Last 3 months", "Last 6 months", "Last 12 months", "Last 24 months", "All time",
        "Custom range"]
    assert kpi_label("save_rate") == "Cancel-flow save rate"
    labels = figure_labels()
    assert labels["reason_unused"] == "Not using it" and labels["mrr_end"] == "Now"
    assert all(labels.values())


def test_csv_text_writes_utc_iso_dates() -> None:
    frame = pl.DataFrame({"period": [JAN], "mrr": [1999]})
    assert csv_text(frame).splitlines() == ['"period","mrr"', '"2026-01-01T00:00:00Z",1999']


def test_csv_text_never_writes_a_formula() -> None:
    # OWASP's CSV injection list: = + - @ tab CR start a formula in Excel, LibreOffice and
    # Google Sheets; a quote before them makes the cell text. Numbers stay numbers.
    frame = pl.DataFrame({
        "name": ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\ry", "a=b", "", None],
        "kind": pl.Series(["=cat"] * 9, dtype=pl.Categorical),
        "amount": [-5, 0, 1, 2, 3, 4, 5, 6, 7],
        "rate": [float("nan"), -0.5, 0.5, None, 1.0, 1.0, 1.0, 1.0, 1.0],
    }).rename({"kind": "=kind"})
    rows = list(csv.reader(io.StringIO(csv_text(frame))))
    assert rows[0] == ["name", "'=kind", "amount", "rate"]
    assert [row[0] for row in rows[1:]] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\ry", "a=b", "", ""]
    assert {row[1] for row in rows[1:]} == {"'=cat"}
    assert [row[2] for row in rows[1:4]] == ["-5", "0", "1"]
    assert [row[3] for row in rows[1:5]] == ["", "-0.5", "0.5", ""]  # NaN is no number
    # text cells are quoted: a ";" (the separator of some locales) starts no new cell
    assert csv_text(pl.DataFrame({"n": ["a;=1+1"]})).splitlines()[1] == '"a;=1+1"'
    assert spreadsheet_text("=A1") == "'=A1" and spreadsheet_text("A=1") == "A=1"
