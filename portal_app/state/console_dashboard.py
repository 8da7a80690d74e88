"""The churn dashboard's State: filters in, formatted tiles, figures and tables out.

Every number comes from :func:`analytics.dashboard.build_dashboard` (which calls
the metric and read-out functions with the filters) over the signed-in account's
events (:mod:`portal_app.events.analytics_source`); charts from
:mod:`analytics.figures`; tiles and tables are formatted by
``console/dashboard_views.py``. This State only chooses the filters and hands
CSVs out.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import plotly.graph_objects as go
import reflex as rx
from reflex.event import EventSpec

from analytics import figures
from analytics.dashboard import (
    Dashboard,
    Filters,
    add_months,
    build_dashboard,
    currencies_by_mrr,
)
from analytics.dashboard import configurations as flow_configurations
from analytics.dashboard import products as history_products
from portal_app import i18n
from portal_app.accounts.services import ConsoleIdentity
from portal_app.console.dashboard_views import (
    ALL,
    CUSTOM,
    DEFAULT_RANGE,
    RANGES,
    ExperimentRow,
    KpiTile,
    OfferRow,
    csv_text,
    experiment_rows,
    figure_labels,
    kpi_tile,
    offer_rows,
    range_label,
)
from portal_app.console.forms import Choice, FieldProblem, date_range
from portal_app.console.strings import CONSOLE_LOCALE, ct
from portal_app.db import UnitOfWork
from portal_app.events import analytics_source
from portal_app.state import console as console_state
from portal_app.state.console import ConsoleState, Refused


def unit_of_work() -> UnitOfWork:
    """A unit of work for one event (tests point this at their database and clock)."""
    return console_state.unit_of_work()


def _empty_figure() -> go.Figure:
    return figures.empty_figure("")


def _money(amount: int, *, currency: str) -> str:
    return i18n.format_money(amount, currency, CONSOLE_LOCALE)


class DashboardState(ConsoleState):
    """The churn dashboard of the signed-in account."""

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
    range_options: list[Choice] = [Choice(key, range_label(key)) for key in (*RANGES, CUSTOM)]
    currency_options: list[Choice] = []
    product_options: list[Choice] = []
    configuration_options: list[Choice] = []
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
                return date_range(self.range_from, self.range_to, now=now)
            except FieldProblem:  # only valid ranges are stored; be safe all the same
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

    def _dashboard(self, identity: ConsoleIdentity, uow: UnitOfWork
                   ) -> tuple[Dashboard | None, Any]:
        """Compute the dashboard for the current filters (None: the account has no history)."""
        account = identity.account_id
        history = analytics_source.load_history(account, uow=uow)
        names = analytics_source.names(account, uow=uow)
        subscriptions, flows = history.subscriptions.lazy(), history.flows.lazy()
        if history.subscriptions.is_empty():
            return None, names
        end = uow.clock()
        currencies = currencies_by_mrr(subscriptions, at=end)
        self.currency_options = [Choice(c, c.upper()) for c in currencies]
        if self.currency not in currencies:
            self.currency = currencies[0]
        product_ids = history_products(subscriptions)
        self.product_options = [Choice(ALL, ct("All products"))] + sorted(
            (Choice(p, names.products.get(p, p)) for p in product_ids),
            key=lambda o: o.label.lower())
        if self.product not in product_ids:
            self.product = ALL
        configuration_ids = sorted(set(flow_configurations(flows)) | set(names.configurations))
        self.configuration_options = [Choice(ALL, ct("All configurations"))] + [
            Choice(c, names.configurations.get(c)
                   or (ct("Default configuration") if c == names.default_configuration else c))
            for c in configuration_ids]
        if self.configuration not in configuration_ids:
            self.configuration = ALL
        designs = analytics_source.experiment_designs(account, uow=uow)
        return build_dashboard(subscriptions, flows, filters=self._filters(end),
                               designs=designs), names

    def _show(self, dashboard: Dashboard, names: Any) -> None:
        money = partial(_money, currency=self.currency)
        exponent = i18n.minor_exponent(self.currency)
        labels = figure_labels()
        self.tiles = [kpi_tile(k, money=money, current=self._ends_now) for k in dashboard.kpis]
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
        self.offers = offer_rows(dashboard.offers, money=money, names=names.offers)
        self.experiments = experiment_rows(dashboard.experiments)

    def _failed(self, error: Exception) -> None:
        self.status = "error"

    def _refresh(self) -> EventSpec | None:
        try:
            computed = self._call(self._dashboard, refused=self._failed)
        finally:
            self.busy = False
        if isinstance(computed, Refused):
            return computed.effect
        dashboard, names = computed
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
            date_range(start, end, now=unit_of_work().clock())
        except FieldProblem as refused:
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
        computed = self._call(self._dashboard, refused=self._toast(
            unavailable=ct("Reading your events failed. Please try again.")))
        if isinstance(computed, Refused):
            return computed.effect
        dashboard, _ = computed
        if dashboard is None:
            return None
        frame = dashboard.table(table)
        suffix = f"-{self.range_from}_{self.range_to}" if self.range_key == CUSTOM else ""
        return rx.download(data=csv_text(frame),
                           filename=f"{table}-{self.currency}{suffix}.csv",
                           mime_type="text/csv")

