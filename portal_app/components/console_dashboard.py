"""The churn dashboard's parts: filters, KPI tiles, chart cards, tables, states.

Every word comes from the console catalog (``ct_var``); every number arrives formatted.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal_app.components.console_widgets import DESKTOP_ONLY, PHONE_ONLY, ct_var
from portal_app.console.dashboard_views import ExperimentRow, KpiTile, OfferRow
from portal_app.state.console_dashboard import DashboardState

PLOTLY_CONFIG = {"displayModeBar": False, "responsive": True}
EXPOSED = ct_var("Exposed")  # a column, and (lower case) a unit on phones


def _select(text: Any, options: Any, value: Any, on_change: Any,
            test_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(text, size="1", weight="medium", color=rx.color("gray", 11)),
        rx.select.root(
            rx.select.trigger(width="100%", custom_attrs={"data-testid": test_id}),
            rx.select.content(
                rx.foreach(options, lambda o: rx.select.item(o.label, value=o.value)),
            ),
            value=value,
            on_change=on_change,
            disabled=DashboardState.busy,
        ),
        spacing="1", min_width="0",
    )


def _date_field(text: Any, name: str, value: Any) -> rx.Component:
    return rx.vstack(
        rx.text(text, as_="label", html_for=name.replace("_", "-"), size="1",
                weight="medium", color=rx.color("gray", 11)),
        rx.input(type="date", name=name, id=name.replace("_", "-"), default_value=value,
                 max=DashboardState.today, required=True, disabled=DashboardState.busy,
                 width="100%", custom_attrs={"data-testid": name.replace("_", "-")}),
        spacing="1", min_width="0", width="100%",
    )


def custom_range() -> rx.Component:
    """From and to dates, applied together; a refused range says why and changes nothing."""
    return rx.form(
        rx.vstack(
            rx.grid(
                _date_field(ct_var("From"), "range_from", DashboardState.range_from),
                _date_field(ct_var("To"), "range_to", DashboardState.range_to),
                rx.button(ct_var("Apply"), type="submit", variant="soft",
                          disabled=DashboardState.busy,
                          custom_attrs={"data-testid": "apply-range"}),
                columns="minmax(0, 1fr) minmax(0, 1fr) auto", spacing="3", align="end",
                width="100%", max_width="480px",
            ),
            rx.cond(
                DashboardState.has_range_error,
                rx.callout.root(
                    rx.callout.icon(rx.icon("triangle-alert", size=16)),
                    rx.callout.text(DashboardState.range_error),
                    color_scheme="red", size="1", role="alert",
                    custom_attrs={"data-testid": "range-error"},
                ),
            ),
            rx.text(ct_var("Charts and tables show every month the range touches; the tiles "
                           "describe its last month."), size="1", color=rx.color("gray", 10)),
            spacing="2", width="100%",
        ),
        on_submit=DashboardState.apply_range, reset_on_submit=False, no_validate=True,
        width="100%", margin_top="12px",
        custom_attrs={"data-testid": "custom-range"},
    )


def filters() -> rx.Component:
    """Period (a preset or custom dates), currency, product and configuration."""
    return rx.box(
        rx.grid(
            _select(ct_var("Period"), DashboardState.range_options, DashboardState.range_key,
                    DashboardState.set_range, "range-filter"),
            _select(ct_var("Currency"), DashboardState.currency_options, DashboardState.currency,
                    DashboardState.set_currency, "currency-filter"),
            _select(ct_var("Product"), DashboardState.product_options, DashboardState.product,
                    DashboardState.set_product, "product-filter"),
            _select(ct_var("Portal configuration"), DashboardState.configuration_options,
                    DashboardState.configuration, DashboardState.set_configuration,
                    "configuration-filter"),
            columns=rx.breakpoints(initial="2", md="4"), spacing="3", width="100%",
        ),
        rx.cond(DashboardState.is_custom, custom_range()),
        rx.hstack(
            rx.cond(DashboardState.busy, rx.spinner(size="1")),
            rx.text(ct_var("The configuration filter applies to cancel flows: offers, "
                           "experiments and the save rate."), size="1",
                    color=rx.color("gray", 10)),
            spacing="2", align="center", margin_top="8px",
        ),
        margin_bottom="20px", custom_attrs={"data-testid": "dashboard-filters"},
    )


def _tile(tile: KpiTile) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(tile.label, size="2", weight="medium", color=rx.color("gray", 11),
                    truncate=True, width="100%"),
            rx.text(tile.value, size="5", weight="bold",
                    letter_spacing="-0.02em", white_space="nowrap",
                    custom_attrs={"data-testid": "kpi-value"}),
            rx.hstack(
                rx.icon(tile.icon, size=14, flex_shrink="0"),
                rx.text(tile.change, size="2", weight="medium", truncate=True),
                color=rx.color(tile.tone, 11), spacing="1", align="center", width="100%",
            ),
            rx.text(tile.caption, size="1", color=rx.color("gray", 10), truncate=True,
                    width="100%"),
            spacing="1", width="100%",
        ),
        size="2", min_width="0",
        custom_attrs={"data-testid": f"kpi-{tile.key}", "data-kpi": tile.key},
    )


def _skeleton_tile() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.skeleton(rx.text("MRR", size="2"), width="60%"),
            rx.skeleton(rx.text("$0.00", size="7"), width="80%"),
            rx.skeleton(rx.text("+0", size="2"), width="50%"),
            spacing="2", width="100%",
        ),
        size="2", custom_attrs={"data-testid": "kpi-skeleton"},
    )


TILE_COLUMNS = rx.breakpoints(initial="2", sm="3", lg="5")


def tiles() -> rx.Component:
    """The five KPI tiles."""
    return rx.grid(
        rx.foreach(DashboardState.tiles, _tile),
        columns=TILE_COLUMNS, spacing="3", width="100%", margin_bottom="16px",
        custom_attrs={"data-testid": "kpi-tiles"},
    )


def skeleton() -> rx.Component:
    """What the page shows while the first computation runs."""
    return rx.vstack(
        rx.grid(*[_skeleton_tile() for _ in range(5)], columns=TILE_COLUMNS, spacing="3",
                width="100%"),
        rx.grid(
            rx.card(rx.skeleton(rx.box(height="260px")), size="2"),
            rx.card(rx.skeleton(rx.box(height="260px")), size="2"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="3", width="100%",
        ),
        rx.hstack(rx.spinner(size="2"), rx.text(ct_var("Computing your dashboard…"), size="2",
                                                 color=rx.color("gray", 11)),
                  spacing="2", align="center"),
        spacing="3", width="100%", custom_attrs={"data-testid": "dashboard-loading"},
    )


def download_button(table: str) -> rx.Component:
    """A small button that downloads one table as CSV."""
    return rx.button(
        rx.icon("download", size=14), ct_var("CSV"),
        on_click=DashboardState.download(table),
        variant="ghost", color_scheme="gray", size="1",
        custom_attrs={"data-testid": f"download-{table}"},
    )


def card(title: Any, lead: Any, body: rx.Component, *, table: str | None = None,
         test_id: str = "") -> rx.Component:
    """A titled card around a chart or a table, with its CSV download."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.text(title, size="3", weight="bold"),
                    rx.text(lead, size="1", color=rx.color("gray", 10)),
                    spacing="0", flex="1", min_width="0",
                ),
                download_button(table) if table else rx.fragment(),
                align="start", width="100%", spacing="2",
            ),
            body,
            spacing="3", width="100%",
        ),
        size="2", min_width="0", width="100%",
        custom_attrs={"data-testid": test_id} if test_id else {},
    )


def chart(figure: Any, test_id: str, *, min_width: str = "0") -> rx.Component:
    """A Plotly figure that fills its card (and scrolls sideways below ``min_width``)."""
    return rx.box(
        rx.box(
            rx.plotly(data=figure, config=PLOTLY_CONFIG, use_resize_handler=True,
                      width="100%"),
            min_width=min_width, width="100%",
        ),
        width="100%", min_width="0", overflow_x="auto",
        custom_attrs={"data-testid": test_id},
    )


def _grid(*children: rx.Component, columns: Any = None) -> rx.Component:
    return rx.grid(*children, columns=columns or rx.breakpoints(initial="1", md="2"),
                   spacing="3", width="100%", margin_bottom="12px")


def charts() -> rx.Component:
    """MRR, its movements, churn, reasons and cohorts."""
    return rx.fragment(
        _grid(
            card(ct_var("MRR over time"),
                 ct_var("Monthly recurring revenue at each month's end."),
                 chart(DashboardState.mrr_chart, "mrr-chart"), table="mrr"),
            card(ct_var("Where MRR came from"),
                 ct_var("From the period's start to now: gains, losses and the result."),
                 chart(DashboardState.waterfall_chart, "waterfall-chart"), table="mrr"),
        ),
        _grid(
            card(ct_var("MRR movements by month"),
                 ct_var("New, expansion and reactivation above the line; contraction and "
                        "churn below."),
                 chart(DashboardState.movements_chart, "movements-chart"), table="mrr"),
            card(ct_var("Churn rates"), ct_var("Share of customers and of MRR lost each month."),
                 chart(DashboardState.churn_chart, "churn-chart"), table="churn"),
        ),
        _grid(
            card(ct_var("Why customers cancel"),
                 ct_var("Paid cancellations in the period by the reason given."),
                 chart(DashboardState.reasons_chart, "reasons-chart"), table="reasons"),
            card(ct_var("Cancellation reasons by month"), ct_var("How the reasons move over time."),
                 chart(DashboardState.reason_trend_chart, "reason-trend-chart"),
                 table="reason_trend"),
        ),
        _grid(
            card(ct_var("Cohort retention"),
                 ct_var("Share of each signup month's customers still paying, month by month."),
                 chart(DashboardState.cohort_chart, "cohort-chart", min_width="640px"),
                 table="cohorts"),
            columns="1",
        ),
    )


def _num(value: Any, *, size: str = "2", **props: Any) -> rx.Component:
    return rx.text(value, size=size, white_space="nowrap",
                   style={"font_variant_numeric": "tabular-nums"}, **props)


def _offer_row(row: OfferRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.name, size="2", weight="medium")),
        rx.table.cell(rx.badge(row.offer_type, color_scheme=row.tone, variant="soft",
                               radius="full")),
        rx.table.cell(_num(row.shown), justify="end"),
        rx.table.cell(_num(row.accepted), justify="end"),
        rx.table.cell(rx.vstack(_num(row.save_rate, weight="bold"),
                                _num(row.interval, color=rx.color("gray", 10), size="1"),
                                spacing="0", align="end"), justify="end"),
        rx.table.cell(_num(row.mrr_saved), justify="end"),
        rx.table.cell(_num(row.revenue_saved), justify="end"),
        rx.table.cell(_num(row.later_churn), justify="end"),
        custom_attrs={"data-testid": "offer-row"},
    )


def _header(*texts: Any) -> rx.Component:
    return rx.table.header(rx.table.row(*[
        rx.table.column_header_cell(rx.text(text, size="1", white_space="nowrap"),
                                    justify="start" if i < 2 else "end")
        for i, text in enumerate(texts)
    ]))


def _empty_note(text: Any) -> rx.Component:
    return rx.center(rx.text(text, size="2", color=rx.color("gray", 10)),
                     padding="24px", width="100%")


def _stat(text: Any, value: Any, detail: Any = None) -> rx.Component:
    return rx.vstack(
        rx.text(text, size="1", color=rx.color("gray", 10)),
        _num(value, weight="medium"),
        detail if detail is not None else rx.fragment(),
        spacing="0", min_width="0",
    )


def _offer_card(row: OfferRow) -> rx.Component:
    return rx.box(
        rx.hstack(rx.text(row.name, size="2", weight="bold", flex="1", min_width="0"),
                  rx.badge(row.offer_type, color_scheme=row.tone, variant="soft",
                           radius="full"),
                  align="center", width="100%", spacing="2"),
        rx.grid(
            _stat(ct_var("Save rate (95% CI)"), row.save_rate,
                  _num(row.interval, size="1", color=rx.color("gray", 10))),
            _stat(ct_var("Accepted"), row.accepted + " / " + row.shown),
            _stat(ct_var("MRR saved"), row.mrr_saved),
            _stat(ct_var("Revenue saved"), row.revenue_saved),
            columns="2", spacing="3", width="100%", margin_top="8px",
        ),
        padding="12px 0", border_bottom=f"1px solid {rx.color('gray', 4)}", width="100%",
        custom_attrs={"data-testid": "offer-card"},
    )


def offers_table() -> rx.Component:
    """Offers shown, accepted, save rate with its interval, MRR and revenue saved."""
    return card(
        ct_var("Retention offers"),
        ct_var("Offers shown in the cancel flow and how many customers they kept."),
        rx.cond(
            DashboardState.has_offers,
            rx.fragment(rx.box(
                rx.table.root(
                    _header(ct_var("Offer"), ct_var("Type"), ct_var("Shown"),
                            ct_var("Accepted"), ct_var("Save rate (95% CI)"),
                            ct_var("MRR saved"), ct_var("Revenue saved"),
                            ct_var("Churned within 30 days")),
                    rx.table.body(rx.foreach(DashboardState.offers, _offer_row)),
                    variant="ghost", size="1", width="100%",
                ),
                width="100%", overflow_x="auto", display=DESKTOP_ONLY,
            ), rx.vstack(rx.foreach(DashboardState.offers, _offer_card), spacing="0",
                         width="100%", display=PHONE_ONLY)),
            _empty_note(ct_var("No offers were shown in this period.")),
        ),
        table="offers", test_id="offers-table",
    )


def _experiment_rows(row: ExperimentRow) -> rx.Component:
    return rx.fragment(
        rx.cond(
            row.first,
            rx.table.row(
                rx.table.cell(rx.hstack(rx.icon("flask-conical", size=14),
                                        rx.text(row.experiment, size="2", weight="bold"),
                                        spacing="2", align="center"),
                              col_span=6, background=rx.color("gray", 2)),
            ),
        ),
        _experiment_row(row),
    )


def _experiment_row(row: ExperimentRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.hstack(
            rx.text(row.variant, size="2"),
            rx.cond(row.is_control, rx.badge(ct_var("control"), variant="outline",
                                             color_scheme="gray", size="1")),
            spacing="2", align="center")),
        rx.table.cell(_num(row.exposures), justify="end"),
        rx.table.cell(rx.vstack(_num(row.retained, weight="bold"),
                                _num(row.interval, color=rx.color("gray", 10), size="1"),
                                spacing="0", align="end"), justify="end"),
        rx.table.cell(rx.vstack(_num(row.diff, weight="bold"),
                                _num(row.diff_interval, color=rx.color("gray", 10), size="1"),
                                spacing="0", align="end"), justify="end"),
        rx.table.cell(_num(row.p_value), justify="end"),
        rx.table.cell(rx.text(row.verdict, size="1", color=rx.color(row.tone, 11),
                              min_width="220px")),
        custom_attrs={"data-testid": "experiment-row"},
    )


def _experiment_card(row: ExperimentRow) -> rx.Component:
    return rx.fragment(
        rx.cond(row.first, rx.hstack(rx.icon("flask-conical", size=14),
                                     rx.text(row.experiment, size="2", weight="bold"),
                                     spacing="2", align="center", padding_top="8px")),
        rx.box(
            rx.hstack(
                rx.text(row.variant, size="2", weight="medium"),
                rx.cond(row.is_control, rx.badge(ct_var("control"), variant="outline",
                                                 color_scheme="gray", size="1")),
                rx.spacer(),
                _num(row.exposures + " " + EXPOSED.lower(), size="1",
                     color=rx.color("gray", 10)),
                align="center", width="100%", spacing="2",
            ),
            rx.grid(
                _stat(ct_var("Retained (95% CI)"), row.retained,
                      _num(row.interval, size="1", color=rx.color("gray", 10))),
                _stat(ct_var("vs control (95% CI)"), row.diff,
                      _num(row.diff_interval, size="1", color=rx.color("gray", 10))),
                columns="2", spacing="3", width="100%", margin_top="6px",
            ),
            rx.text(row.verdict, size="1", color=rx.color(row.tone, 11), margin_top="6px"),
            padding="10px 0", border_bottom=f"1px solid {rx.color('gray', 4)}", width="100%",
            custom_attrs={"data-testid": "experiment-card"},
        ),
    )


def experiments_table() -> rx.Component:
    """Experiment read-outs: retention per variant, difference to control, verdict."""
    return card(
        ct_var("Experiments"),
        ct_var("Retention per variant with 95% intervals, tested against control."),
        rx.cond(
            DashboardState.has_experiments,
            rx.fragment(rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(
                        *[rx.table.column_header_cell(rx.text(text, size="1",
                                                              white_space="nowrap"),
                                                      justify=j)
                          for text, j in ((ct_var("Variant"), "start"),
                                          (EXPOSED, "end"),
                                          (ct_var("Retained (95% CI)"), "end"),
                                          (ct_var("vs control (95% CI)"), "end"),
                                          (ct_var("p"), "end"),
                                          (ct_var("Verdict"), "start"))])),
                    rx.table.body(rx.foreach(DashboardState.experiments, _experiment_rows)),
                    variant="ghost", size="1", width="100%",
                ),
                width="100%", overflow_x="auto", display=DESKTOP_ONLY,
            ), rx.vstack(rx.foreach(DashboardState.experiments, _experiment_card), spacing="0",
                         width="100%", display=PHONE_ONLY)),
            _empty_note(ct_var("No experiment has exposures in this period.")),
        ),
        table="experiments", test_id="experiments-table",
    )


def empty_state() -> rx.Component:
    """No events at all yet."""
    return rx.center(
        rx.vstack(
            rx.icon("chart-no-axes-combined", size=32, color=rx.color("gray", 9)),
            rx.text(ct_var("No billing history yet"), size="4", weight="bold"),
            rx.text(ct_var("The dashboard fills in as customers subscribe, renew and cancel. "
                           "Import an existing Stripe history with "
                           "`portico import-events FILE`."),
                    size="2", color=rx.color("gray", 11), text_align="center",
                    max_width="440px"),
            align="center", spacing="2",
        ),
        padding="64px 24px", border=f"1px dashed {rx.color('gray', 6)}", border_radius="12px",
        background=rx.color("gray", 2), custom_attrs={"data-testid": "dashboard-empty"},
    )


def error_state() -> rx.Component:
    """The computation failed."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert", size=16)),
        rx.vstack(
            rx.text(ct_var("The dashboard could not be computed"), weight="bold", size="2"),
            rx.text(ct_var("Reading your events failed. Please try again."), size="2"),
            rx.button(ct_var("Try again"), on_click=DashboardState.retry, size="2", variant="soft",
                      color_scheme="red"),
            spacing="2", align="start",
        ),
        color_scheme="red", role="alert", custom_attrs={"data-testid": "dashboard-error"},
    )


def content() -> rx.Component:
    """The dashboard body for the current status."""
    ready = rx.box(
        filters(),
        tiles(),
        charts(),
        rx.vstack(offers_table(), experiments_table(), spacing="3", width="100%"),
        opacity=rx.cond(DashboardState.busy, "0.6", "1"),
        transition="opacity 120ms",
        width="100%",
    )
    return rx.match(
        DashboardState.status,
        ("ready", ready),
        ("empty", empty_state()),
        ("error", error_state()),
        skeleton(),
    )

