"""The churn dashboard's State: filters in, formatted tiles, figures and tables out.

Every number comes from :func:`analytics.dashboard.build_dashboard` (which calls
the metric and read-out functions with the filters) over the signed-in account's
events (:mod:`portal_app.events.analytics_source`); charts from
:mod:`analytics.figures`. This State only chooses the filters, formats values for
the page (money through :func:`portal_app.i18n.format_money`) and hands CSVs out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import plotly.graph_objects as go
import polars as pl
import reflex as rx
from babel.numbers import format_decimal, format_percent
from reflex.event import EventSpec
from sqlalchemy.exc import SQLAlchemyError

from analytics import figures
from analytics.dashboard import (
    Dashboard,
    Filters,
    Kpi,
    add_months,
    build_dashboard,
    currencies_by_mrr,
)
from analytics.dashboard import configurations as flow_configurations
from analytics.dashboard import products as history_products
from portal_app import i18n
from portal_app.billing.errors import AuthenticationFailed
from portal_app.events import analytics_source
from portal_app.state import console as console_state
from portal_app.state.console import CONSOLE_LOCALE, ConsoleState

ALL = "all"  # "no filter" (Radix selects refuse "")
DEFAULT_RANGE = "12m"
RANGES: dict[str, int | None] = {"3m": 3, "6m": 6, "12m": 12, "24m": 24, ALL: None}
"""Date-range presets: the last N months (this one included), or the whole history."""

TEXT: dict[str, str] = {
    "title": "Dashboard",
    "lead": "Recurring revenue, churn and what your cancel flow saved, from your event history.",
    # filters
    "range": "Period",
    "range_3m": "Last 3 months",
    "range_6m": "Last 6 months",
    "range_12m": "Last 12 months",
    "range_24m": "Last 24 months",
    "range_all": "All time",
    "currency": "Currency",
    "product": "Product",
    "all_products": "All products",
    "configuration": "Portal configuration",
    "all_configurations": "All configurations",
    "default_configuration": "Default configuration",
    "configuration_note": "The configuration filter applies to cancel flows: offers, "
                          "experiments and the save rate.",
    # tiles
    "kpi_mrr": "MRR",
    "kpi_customers": "Paying customers",
    "kpi_logo_churn": "Logo churn",
    "kpi_net_revenue_churn": "Net revenue churn",
    "kpi_save_rate": "Cancel-flow save rate",
    "now": "Now",
    "vs_end_of": "vs end of {period}",
    "vs": "vs {period}",
    "no_previous": "nothing to compare with",
    "points": "{value} pts",
    # charts
    "mrr_title": "MRR over time",
    "mrr_lead": "Monthly recurring revenue at each month's end.",
    "waterfall_title": "Where MRR came from",
    "waterfall_lead": "From the period's start to now: gains, losses and the result.",
    "movements_title": "MRR movements by month",
    "movements_lead": "New, expansion and reactivation above the line; contraction and churn below.",
    "churn_title": "Churn rates",
    "churn_lead": "Share of customers and of MRR lost each month.",
    "reasons_title": "Why customers cancel",
    "reasons_lead": "Paid cancellations in the period by the reason given.",
    "reason_trend_title": "Cancellation reasons by month",
    "reason_trend_lead": "How the reasons move over time.",
    "cohorts_title": "Cohort retention",
    "cohorts_lead": "Share of each signup month's customers still paying, month by month.",
    "offers_title": "Retention offers",
    "offers_lead": "Offers shown in the cancel flow and how many customers they kept.",
    "experiments_title": "Experiments",
    "experiments_lead": "Retention per variant with 95% intervals, tested against control.",
    "download_csv": "CSV",
    "download_all": "Download CSV",
    # figure labels
    "mrr": "MRR",
    "customers": "customers",
    "new": "New",
    "expansion": "Expansion",
    "contraction": "Contraction",
    "churn": "Churn",
    "reactivation": "Reactivation",
    "net": "Net change",
    "mrr_start": "Start",
    "mrr_end": "Now",
    "logo_churn_rate": "Logo churn",
    "gross_revenue_churn_rate": "Gross revenue churn",
    "net_revenue_churn_rate": "Net revenue churn",
    "lost_mrr": "MRR lost",
    "cohort": "Cohort",
    "age": "month",
    "age_axis": "Months since signup",
    "no_data": "No revenue in this period",
    "no_cancellations": "No paid cancellations in this period",
    "reason_too_expensive": "Too expensive",
    "reason_missing_features": "Missing features",
    "reason_switched_service": "Switched service",
    "reason_unused": "Not using it",
    "reason_customer_service": "Customer service",
    "reason_too_complex": "Too complex",
    "reason_low_quality": "Low quality",
    "reason_other": "Other",
    "reason_unknown": "No answer",
    # tables
    "col_offer": "Offer",
    "col_type": "Type",
    "col_shown": "Shown",
    "col_accepted": "Accepted",
    "col_save_rate": "Save rate (95% CI)",
    "col_mrr_saved": "MRR saved",
    "col_revenue_saved": "Revenue saved",
    "col_later_churn": "Churned within 30 days",
    "col_variant": "Variant",
    "col_exposures": "Exposed",
    "col_retained": "Retained (95% CI)",
    "col_diff": "vs control (95% CI)",
    "col_p": "p",
    "col_verdict": "Verdict",
    "no_offers": "No offers were shown in this period.",
    "no_experiments": "No experiment has exposures in this period.",
    "control": "control",
    # states
    "loading": "Computing your dashboard…",
    "empty_title": "No billing history yet",
    "empty_lead": "The dashboard fills in as customers subscribe, renew and cancel. Import "
                  "an existing Stripe history with `portico import-events FILE`.",
    "empty_currency": "Nothing recorded in this currency and period.",
    "error_title": "The dashboard could not be computed",
    "error_lead": "Reading your events failed. Please try again.",
    "retry": "Try again",
}

OFFER_TYPE_TONES = {"coupon": "green", "pause": "amber", "price_change": "blue",
                    "trial_extension": "violet", "contact": "gray"}


def unit_of_work():
    """A unit of work for one event (tests point this at their database and clock)."""
    return console_state.unit_of_work()


@dataclass
class Option:
    """One choice of a filter."""

    value: str
    label: str


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


def _empty_figure() -> go.Figure:
    return figures.empty_figure("")


def _percent(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    return format_percent(value, pattern, locale=CONSOLE_LOCALE)


def _count(value: int | float | None) -> str:
    return "—" if value is None else format_decimal(value, locale=CONSOLE_LOCALE)


def _month(value: datetime | None) -> str:
    return "" if value is None else i18n.format_date(value, CONSOLE_LOCALE, format="MMM y")


GOOD_WHEN_UP = {"mrr": True, "customers": True, "logo_churn": False,
                "net_revenue_churn": False, "save_rate": True}


def kpi_tile(kpi: Kpi, *, money: Callable[[int], str], text: dict[str, str]) -> KpiTile:
    """Format one KPI: its value, its change since the previous period, and the change's tone."""
    if kpi.kind == "money":
        value = "—" if kpi.value is None else money(int(kpi.value))
    elif kpi.kind == "count":
        value = _count(kpi.value)
    else:
        value = _percent(kpi.value)
    change = kpi.change
    if kpi.kind == "rate":
        caption = (_month(kpi.period) + " · "
                   + text["vs"].format(period=_month(kpi.previous_period)))
    else:
        caption = text["now"] + " · " + text["vs_end_of"].format(
            period=_month(kpi.previous_period))
    if change is None:
        return KpiTile(kpi.key, text[f"kpi_{kpi.key}"], value, text["no_previous"], caption,
                       "gray", "minus")
    if kpi.kind == "money":
        shown = (("+" if change >= 0 else "−") + money(abs(int(change)))
                 + (f" ({_percent(change / kpi.previous)})" if kpi.previous else ""))
    elif kpi.kind == "count":
        shown = ("+" if change >= 0 else "−") + _count(abs(change))
    else:
        points = format_decimal(abs(change) * 100, "0.0", locale=CONSOLE_LOCALE)
        shown = ("+" if change >= 0 else "−") + text["points"].format(value=points)
    if abs(change) < 1e-12:
        tone, icon = "gray", "minus"
    else:
        good = (change > 0) == GOOD_WHEN_UP[kpi.key]
        tone, icon = ("green" if good else "red"), ("trending-up" if change > 0
                                                     else "trending-down")
    return KpiTile(kpi.key, text[f"kpi_{kpi.key}"], value, shown, caption, tone, icon)


def offer_rows(offers: pl.DataFrame, *, money: Callable[[int], str], names: dict[str, str],
               text: dict[str, str]) -> list[OfferRow]:
    """The offers table from :func:`analytics.metrics.deflection` (with its intervals)."""
    rows = []
    for row in offers.iter_rows(named=True):
        offer_type = row["offer_type"] or ""
        rows.append(OfferRow(
            name=names.get(row["offer"] or "", row["offer"] or "—"),
            offer_type=offer_type.replace("_", " "),
            tone=OFFER_TYPE_TONES.get(offer_type, "gray"),
            shown=_count(row["shown"]), accepted=_count(row["accepted"]),
            save_rate=_percent(row["save_rate"]),
            interval=f"{_percent(row['save_rate_low'], 0)}–{_percent(row['save_rate_high'], 0)}",
            mrr_saved=money(row["mrr_saved"]), revenue_saved=money(row["revenue_saved"]),
            later_churn=(f"{_count(row['saved_churned'])} ({_percent(row['saved_churn_rate'], 0)})"
                         if row["accepted"] else "—"),
        ))
    return rows


def _points(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    return ("+" if value >= 0 else "−") + format_decimal(abs(value) * 100, "0.0",
                                                        locale=CONSOLE_LOCALE)


def _p_value(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "—"
    if value < 0.001:
        return "<" + format_decimal(0.001, "0.000", locale=CONSOLE_LOCALE)
    return format_decimal(value, "0.000", locale=CONSOLE_LOCALE)


def experiment_rows(readouts: pl.DataFrame, *, text: dict[str, str]) -> list[ExperimentRow]:
    """The experiments table from :func:`analytics.experiments.experiment_readout` rows."""
    rows, seen = [], set()
    for row in readouts.iter_rows(named=True):
        is_control = row["diff"] is None or math.isnan(row["diff"])
        first = row["experiment"] not in seen
        seen.add(row["experiment"])
        verdict = row["verdict"]
        if verdict.startswith("Sample ratio mismatch"):
            tone = "amber"
        elif row["significant"]:
            tone = "green" if row["diff"] > 0 else "red"
        else:
            tone = "gray"
        rows.append(ExperimentRow(
            experiment=row["name"] or row["experiment"], first=first,
            variant=row["variant_name"] or row["variant"], is_control=is_control,
            exposures=_count(row["exposures"]),
            retained=_percent(row["rate"]),
            interval=f"{_percent(row['rate_low'])}–{_percent(row['rate_high'])}",
            diff="—" if is_control else text["points"].format(value=_points(row["diff"])),
            diff_interval="" if is_control else (
                f"{_points(row['diff_low'])} to {_points(row['diff_high'])}"),
            p_value=_p_value(None if is_control else row["p_value"]),
            verdict=verdict, tone=tone,
        ))
    return rows


class DashboardState(ConsoleState):
    """The churn dashboard of the signed-in account."""

    labels: dict[str, str] = TEXT
    status: str = "loading"  # loading | empty | ready | error
    busy: bool = False  # recomputing after a filter change (the old numbers stay)
    range_key: str = DEFAULT_RANGE
    currency: str = ""
    product: str = ALL
    configuration: str = ALL
    range_options: list[Option] = [Option(key, TEXT[f"range_{key}"]) for key in RANGES]
    currency_options: list[Option] = []
    product_options: list[Option] = []
    configuration_options: list[Option] = []
    tiles: list[KpiTile] = []
    has_revenue: bool = False
    mrr_chart: go.Figure = _empty_figure()
    waterfall_chart: go.Figure = _empty_figure()
    movements_chart: go.Figure = _empty_figure()
    churn_chart: go.Figure = _empty_figure()
    reasons_chart: go.Figure = _empty_figure()
    reason_trend_chart: go.Figure = _empty_figure()
    cohort_chart: go.Figure = _empty_figure()
    offers: list[OfferRow] = []
    experiments: list[ExperimentRow] = []

    @rx.var
    def has_offers(self) -> bool:
        """Whether the offers table has rows."""
        return bool(self.offers)

    @rx.var
    def has_experiments(self) -> bool:
        """Whether the experiments table has rows."""
        return bool(self.experiments)

    def _filters(self, end: datetime) -> Filters:
        months = RANGES.get(self.range_key)
        return Filters(
            currency=self.currency, end=end,
            start=None if months is None else add_months(end, 1 - months),
            products=None if self.product == ALL else (self.product,),
            configurations=None if self.configuration == ALL else (self.configuration,),
        )

    def _dashboard(self) -> tuple[Dashboard | None, Any]:
        """Compute the dashboard for the current filters (None: the account has no history).

        Raises AuthenticationFailed and SQLAlchemyError.
        """
        uow = unit_of_work()
        identity = self._identity(uow)
        account = identity.account_id
        history = analytics_source.load_history(account, uow=uow)
        names = analytics_source.names(account, uow=uow)
        subscriptions, flows = history.subscriptions.lazy(), history.flows.lazy()
        if history.subscriptions.is_empty():
            return None, names
        end = uow.clock()
        currencies = currencies_by_mrr(subscriptions, at=end)
        self.currency_options = [Option(c, c.upper()) for c in currencies]
        if self.currency not in currencies:
            self.currency = currencies[0]
        product_ids = history_products(subscriptions)
        self.product_options = [Option(ALL, TEXT["all_products"])] + sorted(
            (Option(p, names.products.get(p, p)) for p in product_ids),
            key=lambda o: o.label.lower())
        if self.product not in product_ids:
            self.product = ALL
        configuration_ids = sorted(set(flow_configurations(flows)) | set(names.configurations))
        self.configuration_options = [Option(ALL, TEXT["all_configurations"])] + [
            Option(c, names.configurations.get(c)
                   or (TEXT["default_configuration"] if c == names.default_configuration else c))
            for c in configuration_ids]
        if self.configuration not in configuration_ids:
            self.configuration = ALL
        designs = analytics_source.experiment_designs(account, uow=uow)
        return build_dashboard(subscriptions, flows, filters=self._filters(end),
                               designs=designs), names

    def _show(self, dashboard: Dashboard, names: Any) -> None:
        money = partial(_money, currency=self.currency)
        exponent = i18n.minor_exponent(self.currency)
        labels = TEXT
        self.tiles = [kpi_tile(k, money=money, text=TEXT) for k in dashboard.kpis]
        self.has_revenue = not dashboard.is_empty
        self.mrr_chart = figures.mrr_figure(dashboard.mrr, money=money, exponent=exponent,
                                            labels=labels)
        self.waterfall_chart = figures.waterfall_figure(dashboard.mrr, money=money,
                                                        exponent=exponent, labels=labels)
        self.movements_chart = figures.movements_figure(dashboard.mrr, money=money,
                                                        exponent=exponent, labels=labels)
        self.churn_chart = figures.churn_figure(dashboard.churn, labels=labels)
        self.reasons_chart = figures.reasons_figure(dashboard.reasons, money=money,
                                                    labels=labels)
        self.reason_trend_chart = figures.reason_trend_figure(dashboard.reason_trend,
                                                              labels=labels)
        self.cohort_chart = figures.cohort_figure(dashboard.cohorts, labels=labels)
        self.offers = offer_rows(dashboard.offers, money=money, names=names.offers, text=TEXT)
        self.experiments = experiment_rows(dashboard.experiments, text=TEXT)

    def _refresh(self) -> EventSpec | None:
        try:
            dashboard, names = self._dashboard()
        except AuthenticationFailed:
            return self._to_login()
        except SQLAlchemyError:
            self.status = "error"
            return None
        finally:
            self.busy = False
        if dashboard is None:
            self.status = "empty"
            return None
        self._show(dashboard, names)
        self.status = "ready"
        return None

    @rx.event
    def load(self):
        """The page's on_load: compute with the current filters."""
        if self.status != "ready":
            self.status = "loading"
        yield
        yield self._refresh()

    @rx.event
    def retry(self):
        """Compute again after an error."""
        self.status = "loading"
        yield
        yield self._refresh()

    def _changed(self):
        self.busy = True
        yield
        yield self._refresh()

    @rx.event
    def set_range(self, value: str):
        """Show the last N months (or all time)."""
        self.range_key = value if value in RANGES else DEFAULT_RANGE
        yield from self._changed()

    @rx.event
    def set_currency(self, value: str):
        """Show one currency (MRR of different currencies is never added up)."""
        self.currency = str(value)
        yield from self._changed()

    @rx.event
    def set_product(self, value: str):
        """Narrow to one product (or all)."""
        self.product = str(value)
        yield from self._changed()

    @rx.event
    def set_configuration(self, value: str):
        """Narrow cancel flows to one portal configuration (or all)."""
        self.configuration = str(value)
        yield from self._changed()

    @rx.event
    def download(self, table: str) -> EventSpec | None:
        """One table of the dashboard as CSV, computed again for the current filters."""
        if table not in Dashboard.TABLES:
            return None
        try:
            dashboard, _ = self._dashboard()
        except AuthenticationFailed:
            return self._to_login()
        except SQLAlchemyError:
            return rx.toast.error(TEXT["error_lead"])
        if dashboard is None:
            return None
        frame = dashboard.table(table)
        return rx.download(data=csv_text(frame), filename=f"{table}-{self.currency}.csv",
                           mime_type="text/csv")


def _money(amount: int, *, currency: str) -> str:
    return i18n.format_money(amount, currency, CONSOLE_LOCALE)


def csv_text(frame: pl.DataFrame) -> str:
    """A frame as CSV; datetimes as ISO 8601 UTC, money in minor units as computed."""
    return frame.write_csv(datetime_format="%Y-%m-%dT%H:%M:%SZ")
