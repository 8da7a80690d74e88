"""The churn dashboard's parts: filters, KPI tiles, chart cards, tables, states.

Every string comes from ``DashboardState.labels``; every number arrives formatted.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal_app.components.console_frame import DESKTOP_ONLY, PHONE_ONLY
from portal_app.state.console_dashboard import (
    DashboardState,
    ExperimentRow,
    KpiTile,
    OfferRow,
)

PLOTLY_CONFIG = {"displayModeBar": False, "responsive": True}


def _t(key: str) -> Any:  # a Var of the dashboard's text mapping
    return DashboardState.labels[key]


def _select(label_key: str, options: Any, value: Any, on_change: Any,
            test_id: str) -> rx.Component:
    return rx.vstack(
        rx.text(_t(label_key), size="1", weight="medium", color=rx.color("gray", 11)),
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


def _date_field(label_key: str, name: str, value: Any) -> rx.Component:
    return rx.vstack(
        rx.text(_t(label_key), as_="label", html_for=name.replace("_", "-"), size="1",
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
                _date_field("range_from", "range_from", DashboardState.range_from),
                _date_field("range_to", "range_to", DashboardState.range_to),
                rx.button(_t("apply_range"), type="submit", variant="soft",
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
            rx.text(_t("custom_note"), size="1", color=rx.color("gray", 10)),
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
            _select("range", DashboardState.range_options, DashboardState.range_key,
                    DashboardState.set_range, "range-filter"),
            _select("currency", DashboardState.currency_options, DashboardState.currency,
                    DashboardState.set_currency, "currency-filter"),
            _select("product", DashboardState.product_options, DashboardState.product,
                    DashboardState.set_product, "product-filter"),
            _select("configuration", DashboardState.configuration_options,
                    DashboardState.configuration, DashboardState.set_configuration,
                    "configuration-filter"),
            columns=rx.breakpoints(initial="2", md="4"), spacing="3", width="100%",
        ),
        rx.cond(DashboardState.is_custom, custom_range()),
        rx.hstack(
            rx.cond(DashboardState.busy, rx.spinner(size="1")),
            rx.text(_t("configuration_note"), size="1", color=rx.color("gray", 10)),
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
        rx.hstack(rx.spinner(size="2"), rx.text(_t("loading"), size="2",
                                                 color=rx.color("gray", 11)),
                  spacing="2", align="center"),
        spacing="3", width="100%", custom_attrs={"data-testid": "dashboard-loading"},
    )


def download_button(table: str) -> rx.Component:
    """A small button that downloads one table as CSV."""
    return rx.button(
        rx.icon("download", size=14), _t("download_csv"),
        on_click=DashboardState.download(table),
        variant="ghost", color_scheme="gray", size="1",
        custom_attrs={"data-testid": f"download-{table}"},
    )


def card(title_key: str, lead_key: str, body: rx.Component, *, table: str | None = None,
         test_id: str = "") -> rx.Component:
    """A titled card around a chart or a table, with its CSV download."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.text(_t(title_key), size="3", weight="bold"),
                    rx.text(_t(lead_key), size="1", color=rx.color("gray", 10)),
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
            card("mrr_title", "mrr_lead", chart(DashboardState.mrr_chart, "mrr-chart"),
                 table="mrr"),
            card("waterfall_title", "waterfall_lead",
                 chart(DashboardState.waterfall_chart, "waterfall-chart"), table="mrr"),
        ),
        _grid(
            card("movements_title", "movements_lead",
                 chart(DashboardState.movements_chart, "movements-chart"), table="mrr"),
            card("churn_title", "churn_lead", chart(DashboardState.churn_chart, "churn-chart"),
                 table="churn"),
        ),
        _grid(
            card("reasons_title", "reasons_lead",
                 chart(DashboardState.reasons_chart, "reasons-chart"), table="reasons"),
            card("reason_trend_title", "reason_trend_lead",
                 chart(DashboardState.reason_trend_chart, "reason-trend-chart"),
                 table="reason_trend"),
        ),
        _grid(
            card("cohorts_title", "cohorts_lead",
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


def _header(*keys: str) -> rx.Component:
    return rx.table.header(rx.table.row(*[
        rx.table.column_header_cell(rx.text(_t(k), size="1", white_space="nowrap"),
                                    justify="start" if i < 2 else "end")
        for i, k in enumerate(keys)
    ]))


def _empty_note(key: str) -> rx.Component:
    return rx.center(rx.text(_t(key), size="2", color=rx.color("gray", 10)),
                     padding="24px", width="100%")


def _stat(label_key: str, value: Any, detail: Any = None) -> rx.Component:
    return rx.vstack(
        rx.text(_t(label_key), size="1", color=rx.color("gray", 10)),
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
            _stat("col_save_rate", row.save_rate,
                  _num(row.interval, size="1", color=rx.color("gray", 10))),
            _stat("col_accepted", row.accepted + " / " + row.shown),
            _stat("col_mrr_saved", row.mrr_saved),
            _stat("col_revenue_saved", row.revenue_saved),
            columns="2", spacing="3", width="100%", margin_top="8px",
        ),
        padding="12px 0", border_bottom=f"1px solid {rx.color('gray', 4)}", width="100%",
        custom_attrs={"data-testid": "offer-card"},
    )


def offers_table() -> rx.Component:
    """Offers shown, accepted, save rate with its interval, MRR and revenue saved."""
    return card(
        "offers_title", "offers_lead",
        rx.cond(
            DashboardState.has_offers,
            rx.fragment(rx.box(
                rx.table.root(
                    _header("col_offer", "col_type", "col_shown", "col_accepted",
                            "col_save_rate", "col_mrr_saved", "col_revenue_saved",
                            "col_later_churn"),
                    rx.table.body(rx.foreach(DashboardState.offers, _offer_row)),
                    variant="ghost", size="1", width="100%",
                ),
                width="100%", overflow_x="auto", display=DESKTOP_ONLY,
            ), rx.vstack(rx.foreach(DashboardState.offers, _offer_card), spacing="0",
                         width="100%", display=PHONE_ONLY)),
            _empty_note("no_offers"),
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
            rx.cond(row.is_control, rx.badge(_t("control"), variant="outline",
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
                rx.cond(row.is_control, rx.badge(_t("control"), variant="outline",
                                                 color_scheme="gray", size="1")),
                rx.spacer(),
                _num(row.exposures + " " + _t("col_exposures").lower(), size="1",
                     color=rx.color("gray", 10)),
                align="center", width="100%", spacing="2",
            ),
            rx.grid(
                _stat("col_retained", row.retained,
                      _num(row.interval, size="1", color=rx.color("gray", 10))),
                _stat("col_diff", row.diff,
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
        "experiments_title", "experiments_lead",
        rx.cond(
            DashboardState.has_experiments,
            rx.fragment(rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(
                        *[rx.table.column_header_cell(rx.text(_t(k), size="1",
                                                              white_space="nowrap"),
                                                      justify=j)
                          for k, j in (("col_variant", "start"),
                                       ("col_exposures", "end"), ("col_retained", "end"),
                                       ("col_diff", "end"), ("col_p", "end"),
                                       ("col_verdict", "start"))])),
                    rx.table.body(rx.foreach(DashboardState.experiments, _experiment_rows)),
                    variant="ghost", size="1", width="100%",
                ),
                width="100%", overflow_x="auto", display=DESKTOP_ONLY,
            ), rx.vstack(rx.foreach(DashboardState.experiments, _experiment_card), spacing="0",
                         width="100%", display=PHONE_ONLY)),
            _empty_note("no_experiments"),
        ),
        table="experiments", test_id="experiments-table",
    )


def empty_state() -> rx.Component:
    """No events at all yet."""
    return rx.center(
        rx.vstack(
            rx.icon("chart-no-axes-combined", size=32, color=rx.color("gray", 9)),
            rx.text(_t("empty_title"), size="4", weight="bold"),
            rx.text(_t("empty_lead"), size="2", color=rx.color("gray", 11), text_align="center",
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
            rx.text(_t("error_title"), weight="bold", size="2"),
            rx.text(_t("error_lead"), size="2"),
            rx.button(_t("retry"), on_click=DashboardState.retry, size="2", variant="soft",
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

