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
from datetime import UTC, date, datetime, time, timedelta
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
from portal_app.errors import AuthenticationFailed
from portal_app.events import analytics_source
from portal_app.state import console as console_state
from portal_app.state.console import CONSOLE_LOCALE, ConsoleState

ALL = "all"  # "no filter" (Radix selects refuse "")
DEFAULT_RANGE = "12m"
CUSTOM = "custom"
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
    "range_custom": "Custom range",
    "range_from": "From",
    "range_to": "To",
    "apply_range": "Apply",
    "custom_note": "Charts and tables show every month the range touches; the tiles "
                   "describe its last month.",
    "error_dates_missing": "Enter both dates of the range.",
    "error_date_invalid": "“{value}” is not a date. Use the date picker or YYYY-MM-DD.",
    "error_date_future": "The range can't go past today ({today}).",
    "error_dates_order": "The start date ({start}) is after the end date ({end}).",
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
    "end_of": "End of {period}",
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


class RangeInvalid(ValueError):
    """The custom range the merchant entered cannot be applied; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _day(value: date) -> str:
    return i18n.format_date(datetime.combine(value, time(), UTC), CONSOLE_LOCALE)


def custom_range(start: str, end: str, *, now: datetime,
                 text: dict[str, str] = TEXT) -> tuple[datetime, datetime]:
    """The ``Filters`` start and end of a range of two ISO dates (both days included).

    The end is the last instant of the ``end`` day, or ``now`` when that day is
    today. Raises RangeInvalid (with a message for the merchant) when a date is
    missing or malformed, lies after today, or the start follows the end.

    Examples
    --------
    >>> now = datetime(2026, 1, 31, 12, tzinfo=UTC)
    >>> [d.isoformat() for d in custom_range("2025-11-03", "2025-12-31", now=now)]
    ['2025-11-03T00:00:00+00:00', '2025-12-31T23:59:59.999999+00:00']
    """
    if not start.strip() or not end.strip():
        raise RangeInvalid(text["error_dates_missing"])
    days = []
    for value in (start.strip(), end.strip()):
        try:
            days.append(date.fromisoformat(value))
        except ValueError:
            raise RangeInvalid(text["error_date_invalid"].format(value=value)) from None
    first, last = days
    today = now.astimezone(UTC).date()
    if first > today or last > today:
        raise RangeInvalid(text["error_date_future"].format(today=_day(today)))
    if first > last:
        raise RangeInvalid(text["error_dates_order"].format(start=_day(first), end=_day(last)))
    begin = datetime.combine(first, time(), UTC)
    finish = min(now, datetime.combine(last + timedelta(days=1), time(), UTC)
                 - timedelta(microseconds=1))
    return begin, finish


GOOD_WHEN_UP = {"mrr": True, "customers": True, "logo_churn": False,
                "net_revenue_churn": False, "save_rate": True}


def kpi_tile(kpi: Kpi, *, money: Callable[[int], str], text: dict[str, str],
             current: bool = True) -> KpiTile:
    """Format one KPI: its value, its change since the previous period, and the change's tone.

    ``current`` is False when the range ends before this month: the levels then
    describe the end of the range's last month, not now.
    """
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
        caption = (text["now"] if current else text["end_of"].format(period=_month(kpi.period))
                   ) + " · " + text["vs_end_of"].format(
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
    range_from: str = ""  # the applied custom range, ISO dates (both days included)
    range_to: str = ""
    range_error: str = ""  # why the custom range just entered was not applied
    today: str = ""  # ISO date: the date inputs' maximum
    _shown_from: str = ""  # the first day of the months currently shown
    _ends_now: bool = True  # the range ends today (the tiles describe now)
    currency: str = ""
    product: str = ALL
    configuration: str = ALL
    range_options: list[Option] = [Option(key, TEXT[f"range_{key}"])
                                   for key in (*RANGES, CUSTOM)]
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

    @rx.var
    def is_custom(self) -> bool:
        """Whether the merchant chose their own dates."""
        return self.range_key == CUSTOM

    @rx.var
    def has_range_error(self) -> bool:
        """Whether the last custom range entered was refused."""
        return bool(self.range_error)

    def _span(self, now: datetime) -> tuple[datetime | None, datetime]:
        if self.range_key == CUSTOM:
            try:
                return custom_range(self.range_from, self.range_to, now=now)
            except RangeInvalid:  # only valid ranges are stored; be safe all the same
                self.range_key = DEFAULT_RANGE
        months = RANGES.get(self.range_key)
        return (None if months is None else add_months(now, 1 - months)), now

    def _filters(self, now: datetime) -> Filters:
        start, end = self._span(now)
        self.today = now.date().isoformat()
        self._ends_now = end.date() == now.date()
        self._shown_from = "" if start is None else start.date().isoformat()
        return Filters(
            currency=self.currency, end=end, start=start,
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
        self.tiles = [kpi_tile(k, money=money, text=TEXT, current=self._ends_now)
                      for k in dashboard.kpis]
        if not self._shown_from and not dashboard.mrr.is_empty():  # all time
            first: datetime = dashboard.mrr["period"].min()  # type: ignore[assignment]
            self._shown_from = first.date().isoformat()
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
        """Show the last N months (or all time); "custom" reveals the date inputs."""
        self.range_error = ""
        if value == CUSTOM:
            # start from the period on screen: the same numbers until the merchant applies
            self.range_key = CUSTOM
            self.range_from = self._shown_from or self.today
            self.range_to = self.today
            return
        self.range_key = value if value in RANGES else DEFAULT_RANGE
        yield from self._changed()

    @rx.event
    def apply_range(self, form: dict[str, Any]):
        """Show the custom range ``form["range_from"]`` to ``form["range_to"]`` if it is valid.

        An invalid range only sets :attr:`range_error`: the numbers on screen stay.
        """
        start, end = str(form.get("range_from", "")), str(form.get("range_to", ""))
        try:
            now = unit_of_work().clock()
            custom_range(start, end, now=now)
        except RangeInvalid as refused:
            self.range_error = refused.message
            return
        self.range_key, self.range_from, self.range_to = CUSTOM, start.strip(), end.strip()
        self.range_error = ""
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
        suffix = f"-{self.range_from}_{self.range_to}" if self.range_key == CUSTOM else ""
        return rx.download(data=csv_text(frame),
                           filename=f"{table}-{self.currency}{suffix}.csv",
                           mime_type="text/csv")


def _money(amount: int, *, currency: str) -> str:
    return i18n.format_money(amount, currency, CONSOLE_LOCALE)


def csv_text(frame: pl.DataFrame) -> str:
    """A frame as CSV; datetimes as ISO 8601 UTC, money in minor units as computed."""
    return frame.write_csv(datetime_format="%Y-%m-%dT%H:%M:%SZ")
