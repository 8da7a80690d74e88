"""What the churn dashboard shows: KPI tiles, the offers and experiments tables, the
words of its filters and charts.

Every number comes from :func:`analytics.dashboard.build_dashboard`; this module
only formats it for the console's locale (money through the ``money`` callable
the State builds over :func:`portal_app.i18n.format_money`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from babel.numbers import format_decimal

from analytics.dashboard import Kpi
from portal_app import i18n
from portal_app.console.strings import CONSOLE_LOCALE, ct
from portal_app.console.wording import count, percent

ALL = "all"  # "no filter" (Radix selects refuse "")
DEFAULT_RANGE = "12m"
CUSTOM = "custom"
RANGES: dict[str, int | None] = {"3m": 3, "6m": 6, "12m": 12, "24m": 24, ALL: None}
"""Date-range presets: the last N months (this one included), or the whole history."""

OFFER_TYPE_TONES = {"coupon": "green", "pause": "amber", "price_change": "blue",
                    "trial_extension": "violet", "contact": "gray"}
GOOD_WHEN_UP = {"mrr": True, "customers": True, "logo_churn": False,
                "net_revenue_churn": False, "save_rate": True}


def range_label(key: str) -> str:
    """A date-range preset (or ``custom``) in words."""
    return {"3m": ct("Last 3 months"), "6m": ct("Last 6 months"),
            "12m": ct("Last 12 months"), "24m": ct("Last 24 months"), ALL: ct("All time"),
            CUSTOM: ct("Custom range")}[key]


def kpi_label(key: str) -> str:
    """A KPI's name."""
    return {"mrr": ct("MRR"), "customers": ct("Paying customers"),
            "logo_churn": ct("Logo churn"), "net_revenue_churn": ct("Net revenue churn"),
            "save_rate": ct("Cancel-flow save rate")}[key]


def figure_labels() -> dict[str, str]:
    """The words :mod:`analytics.figures` puts on charts, by its keys."""
    return {
        "mrr": ct("MRR"), "customers": ct("customers"),
        "new": ct("New"), "expansion": ct("Expansion"), "contraction": ct("Contraction"),
        "churn": ct("Churn"), "reactivation": ct("Reactivation"), "net": ct("Net change"),
        "mrr_start": ct("Start"), "mrr_end": ct("Now"),
        "logo_churn_rate": ct("Logo churn"),
        "gross_revenue_churn_rate": ct("Gross revenue churn"),
        "net_revenue_churn_rate": ct("Net revenue churn"),
        "lost_mrr": ct("MRR lost"), "cohort": ct("Cohort"), "age": ct("month"),
        "age_axis": ct("Months since signup"),
        "no_data": ct("No revenue in this period"),
        "no_cancellations": ct("No paid cancellations in this period"),
        "reason_too_expensive": ct("Too expensive"),
        "reason_missing_features": ct("Missing features"),
        "reason_switched_service": ct("Switched service"),
        "reason_unused": ct("Not using it"),
        "reason_customer_service": ct("Customer service"),
        "reason_too_complex": ct("Too complex"),
        "reason_low_quality": ct("Low quality"),
        "reason_other": ct("Other"),
        "reason_unknown": ct("No answer"),
    }


@dataclass
class KpiTile:
    """One KPI as the page shows it."""

    key: str
    label: str
    value: str
    change: str
    caption: str
    tone: str  # Radix color of the change: green good, red bad, gray neutral
    icon: str


@dataclass
class OfferRow:
    """One line of the offers table."""

    name: str
    offer_type: str
    tone: str
    shown: str
    accepted: str
    save_rate: str
    interval: str
    mrr_saved: str
    revenue_saved: str
    later_churn: str


@dataclass
class ExperimentRow:
    """One variant of an experiment read-out."""

    experiment: str
    first: bool  # the first row of its experiment (the name is shown there)
    variant: str
    is_control: bool
    exposures: str
    retained: str
    interval: str
    diff: str  # in percentage points, "—" for the control
    diff_interval: str
    p_value: str
    verdict: str
    tone: str  # of the verdict: green/red significant, amber void, gray otherwise


def _month(value: datetime | None) -> str:
    return "" if value is None else i18n.format_date(value, CONSOLE_LOCALE, format="MMM y")


def _signed(text: str, value: float) -> str:
    return ("+" if value >= 0 else "−") + text


def _points(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return _signed(format_decimal(abs(value) * 100, "0.0", locale=CONSOLE_LOCALE), value)


def _p_value(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    if value < 0.001:
        return "<" + format_decimal(0.001, "0.000", locale=CONSOLE_LOCALE)
    return format_decimal(value, "0.000", locale=CONSOLE_LOCALE)


def kpi_tile(kpi: Kpi, *, money: Callable[[int], str], current: bool = True) -> KpiTile:
    """Format one KPI: its value, its change since the previous period, and the change's tone.

    ``current`` is False when the range ends before this month: the levels then
    describe the end of the range's last month, not now.
    """
    if kpi.kind == "money":
        value = "—" if kpi.value is None else money(int(kpi.value))
    elif kpi.kind == "count":
        value = count(kpi.value)
    else:
        value = percent(kpi.value)
    if kpi.kind == "rate":
        caption = _month(kpi.period) + " · " + ct("vs {period}",
                                                  period=_month(kpi.previous_period))
    else:
        level = ct("Now") if current else ct("End of {period}", period=_month(kpi.period))
        caption = level + " · " + ct("vs end of {period}", period=_month(kpi.previous_period))
    label = kpi_label(kpi.key)
    change = kpi.change
    if change is None:
        return KpiTile(kpi.key, label, value, ct("nothing to compare with"), caption, "gray",
                       "minus")
    if kpi.kind == "money":
        shown = (_signed(money(abs(int(change))), change)
                 + (f" ({percent(change / kpi.previous)})" if kpi.previous else ""))
    elif kpi.kind == "count":
        shown = _signed(count(abs(change)), change)
    else:
        shown = ct("{value} pts", value=_points(change))
    if abs(change) < 1e-12:
        tone, icon = "gray", "minus"
    else:
        good = (change > 0) == GOOD_WHEN_UP[kpi.key]
        tone, icon = ("green" if good else "red"), ("trending-up" if change > 0
                                                     else "trending-down")
    return KpiTile(kpi.key, label, value, shown, caption, tone, icon)


def offer_rows(offers: pl.DataFrame, *, money: Callable[[int], str], names: dict[str, str]
               ) -> list[OfferRow]:
    """The offers table from :func:`analytics.metrics.deflection` (with its intervals)."""
    rows = []
    for row in offers.iter_rows(named=True):
        offer_type = row["offer_type"] or ""
        rows.append(OfferRow(
            name=names.get(row["offer"] or "", row["offer"] or "—"),
            offer_type=offer_type.replace("_", " "),
            tone=OFFER_TYPE_TONES.get(offer_type, "gray"),
            shown=count(row["shown"]), accepted=count(row["accepted"]),
            save_rate=percent(row["save_rate"]),
            interval=f"{percent(row['save_rate_low'], 0)}–{percent(row['save_rate_high'], 0)}",
            mrr_saved=money(row["mrr_saved"]), revenue_saved=money(row["revenue_saved"]),
            later_churn=(f"{count(row['saved_churned'])} ({percent(row['saved_churn_rate'], 0)})"
                         if row["accepted"] else "—"),
        ))
    return rows


def _verdict_tone(row: dict) -> str:
    if row["verdict"].startswith("Sample ratio mismatch"):
        return "amber"
    if row["significant"]:
        return "green" if row["diff"] > 0 else "red"
    return "gray"


def experiment_rows(readouts: pl.DataFrame) -> list[ExperimentRow]:
    """The experiments table from :func:`analytics.experiments.experiment_readout` rows."""
    rows, seen = [], set()
    for row in readouts.iter_rows(named=True):
        is_control = row["diff"] is None or math.isnan(row["diff"])
        first = row["experiment"] not in seen
        seen.add(row["experiment"])
        rows.append(ExperimentRow(
            experiment=row["name"] or row["experiment"], first=first,
            variant=row["variant_name"] or row["variant"], is_control=is_control,
            exposures=count(row["exposures"]),
            retained=percent(row["rate"]),
            interval=f"{percent(row['rate_low'])}–{percent(row['rate_high'])}",
            diff="—" if is_control else ct("{value} pts", value=_points(row["diff"])),
            diff_interval="" if is_control else ct(
                "{low} to {high}", low=_points(row["diff_low"]), high=_points(row["diff_high"])),
            p_value=_p_value(None if is_control else row["p_value"]),
            verdict=row["verdict"], tone=_verdict_tone(row),
        ))
    return rows


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a text cell as a formula (OWASP's CSV injection list)."""


def spreadsheet_text(value: str) -> str:
    """``value`` as a spreadsheet must show it: text, never a formula (OWASP).

    A leading ``= + - @``, tab or carriage return gets a single quote before it,
    so ``=HYPERLINK(...)`` typed into a name or a comment stays those characters.

    Examples
    --------
    >>> spreadsheet_text("=SUM(A1:A9)"), spreadsheet_text("Pro")
    ("'=SUM(A1:A9)", 'Pro')
    """
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_text(frame: pl.DataFrame) -> str:
    """A frame as CSV for a spreadsheet: every CSV Portico hands out is written here.

    Datetimes as ISO 8601 UTC, money in minor units as computed; a number that
    is not one (NaN: a rate of nothing) is an empty cell. Text cells (and
    headers) are quoted, and any that a spreadsheet would run as a formula
    (names and reasons come from people) is neutralized as
    :func:`spreadsheet_text` does.
    """
    text = [name for name, dtype in frame.schema.items()
            if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)]
    safe = frame.with_columns(
        *(pl.col(name).cast(pl.String).map_elements(spreadsheet_text, return_dtype=pl.String)
          for name in text),
        pl.col(pl.Float32, pl.Float64).fill_nan(None),
    ).rename(spreadsheet_text)
    return safe.write_csv(datetime_format="%Y-%m-%dT%H:%M:%SZ", quote_style="non_numeric")
