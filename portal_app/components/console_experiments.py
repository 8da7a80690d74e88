"""The experiment pages' parts: the list and its draft dialog; one experiment's facts,
lifecycle buttons and live read-out.

Every word comes from the console catalog (``ct_var``); every value, every number
of a read-out, arrives formatted from the States.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal_app.components.console_widgets import (
    BORDER,
    FAINT,
    MONO,
    MUTED,
    NEED_CONFIGURATION,
    check_list,
    ct_var,
    empty,
    field,
    form_dialog,
    form_section,
    hint,
    label,
    load_error,
    loading,
    problem,
    rows_shown,
    select,
    text_input,
)
from portal_app.console.experiment_forms import VariantDraft
from portal_app.console.experiment_views import ExperimentRow, VariantReadoutRow
from portal_app.console.wording import REASON_KEYS
from portal_app.routes import CONSOLE_EXPERIMENTS
from portal_app.state.console_experiments import ExperimentsState, ExperimentState

E = ExperimentsState
X = ExperimentState
TITLE = ct_var("Experiments")
LEAD = ct_var("A/B tests of offers in the cancel flow, with an honest read-out.")


def new_experiment_button() -> rx.Component:
    """Open the create dialog (a configuration is needed)."""
    return rx.button(rx.icon("plus", size=14), ct_var("New experiment"), on_click=E.open_new,
                     disabled=~E.has_configurations,
                     custom_attrs={"data-testid": "new-experiment"})


def status_badge(text: Any, tone: Any, status: Any) -> rx.Component:
    """An experiment's status: a pulsing dot while it runs."""
    return rx.badge(
        rx.cond(status == "running",
                rx.box(width="7px", height="7px", border_radius="50%",
                       background=rx.color("green", 9),
                       box_shadow=f"0 0 0 3px {rx.color('green', 5)}"),
                rx.match(status,
                         ("draft", rx.icon("pencil-line", size=12)),
                         ("shipped", rx.icon("rocket", size=12)),
                         rx.icon("circle-stop", size=12))),
        text, color_scheme=tone, variant="soft", radius="full", white_space="nowrap",
        size="2", custom_attrs={"data-testid": "experiment-status"},
    )


def _experiment_row(row: ExperimentRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.name, href=row.href, weight="bold", size="2")),
        rx.table.cell(status_badge(row.status_label, row.tone, row.status)),
        rx.table.cell(rx.text(row.variants, size="2", color=MUTED)),
        rx.table.cell(rx.text(row.configuration, size="1", font_family=MONO, color=MUTED)),
        rx.table.cell(rx.text(row.started, size="2", color=MUTED, white_space="nowrap")),
        rx.table.cell(rx.link(rx.button(ct_var("Open"), rx.icon("arrow-right", size=13),
                                        size="1", variant="soft", color_scheme="gray"),
                              href=row.href)),
        align="center",
        custom_attrs={"data-testid": "experiment-row", "data-experiment-id": row.id},
    )


def _experiment_card(row: ExperimentRow) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.hstack(rx.text(row.name, size="3", weight="bold", flex="1", min_width="0"),
                      status_badge(row.status_label, row.tone, row.status),
                      width="100%", align="center"),
            rx.text(row.variants, size="2", color=MUTED),
            rx.hstack(rx.text(row.configuration, size="1", font_family=MONO, color=FAINT,
                              truncate=True, flex="1"),
                      rx.text(row.started, size="1", color=FAINT), width="100%"),
            spacing="1", width="100%", padding="14px", border_bottom=BORDER,
        ),
        href=row.href, underline="none", color="inherit",
        custom_attrs={"data-testid": "experiment-card", "data-experiment-id": row.id},
    )


def experiments_list() -> rx.Component:
    """Loading, error, empty, or the experiments (a table on desktop, cards on phones)."""
    headers = [ct_var("Experiment"), ct_var("Status"), ct_var("Variants"),
               ct_var("Configuration"), ct_var("Started")]
    first = rx.cond(
        E.has_configurations,
        rx.vstack(rx.cond(~E.has_offers,
                          rx.text(ct_var("Create an offer first: variants show offers."),
                                  size="1", color=FAINT)),
                  new_experiment_button(), align="center", spacing="2"),
        rx.text(NEED_CONFIGURATION, size="2", color=MUTED, text_align="center",
                max_width="420px"),
    )
    return rx.match(
        E.status,
        ("loading", loading(ct_var("Loading experiments…"), "experiments-loading")),
        ("error", load_error(E.retry)),
        rx.cond(E.has_experiments,
                rows_shown(headers, E.experiments, _experiment_row, _experiment_card),
                empty("flask-conical", ct_var("No experiments yet — create your first"),
                      ct_var("Split cancelling customers between variants of offers (or no "
                             "offer at all) and see which keeps more of them."),
                      first, "experiments-empty")),
    )


def _variant_offer_select(v: VariantDraft, reason: str) -> rx.Component:
    return select(v.offers[reason],
                  lambda value: E.set_variant_offer(v.key, reason, value),
                  choices=E.offer_choices, testid=f"variant-offer-{reason}")


def _variant_editor(v: VariantDraft, index: Any) -> rx.Component:
    name_field = "vname_" + v.key
    weight_field = "vweight_" + v.key
    per_reason = rx.vstack(
        *[rx.flex(rx.text(E.reason_labels[reason], size="1", color=MUTED,
                          min_width="130px"),
                  rx.box(_variant_offer_select(v, reason), flex="1", min_width="0",
                         width="100%"),
                  gap="8px", align="center", width="100%",
                  direction=rx.breakpoints(initial="column", sm="row"))
          for reason in REASON_KEYS[1:]],
        spacing="2", width="100%", padding_left="12px",
        border_left=f"2px solid {rx.color('gray', 4)}",
    )
    return rx.vstack(
        rx.hstack(
            rx.badge(ct_var("Variant"), " ", index + 1, variant="surface", color_scheme="gray"),
            rx.cond(v.control, rx.badge(rx.icon("shield", size=12), ct_var("Control"),
                                        color_scheme="gray", variant="soft")),
            rx.spacer(),
            rx.cond(E.can_remove_variant, rx.button(
                rx.icon("trash-2", size=13), ct_var("Remove"), size="1",
                variant="ghost", color_scheme="red", type="button",
                on_click=E.remove_variant(v.key))),
            width="100%", align="center",
        ),
        rx.flex(
            rx.vstack(label(ct_var("Name")),
                      rx.input(name=name_field, default_value=v.name, width="100%",
                               custom_attrs={"data-field": "variant-name",
                                             "autocomplete": "off"}),
                      problem(E, name_field), spacing="1", flex="3", min_width="0"),
            rx.vstack(label(ct_var("Weight")),
                      rx.input(name=weight_field, default_value=v.weight, type="number",
                               width="100%",
                               custom_attrs={"data-field": "variant-weight"}),
                      problem(E, weight_field), spacing="1", flex="1", min_width="80px"),
            gap="12px", width="100%",
        ),
        rx.vstack(
            rx.text(ct_var("Offer"), " · ", E.reason_labels["default"], size="2",
                    weight="medium"),
            _variant_offer_select(v, "default"),
            rx.cond(v.control, hint(ct_var("No offer: the baseline."))),
            spacing="1", width="100%",
        ),
        rx.el.label(
            rx.switch(checked=v.per_reason, size="1",
                      on_change=lambda value: E.set_per_reason(v.key, value)),
            rx.text(ct_var("Different offers per reason"), size="1", color=MUTED),
            style={"display": "flex", "gap": "8px", "align_items": "center"},
        ),
        rx.cond(v.per_reason, per_reason),
        problem(E, "voffers_" + v.key),
        spacing="3", width="100%", padding="14px", border=BORDER, border_radius="10px",
        background=rx.color("gray", 2),
        custom_attrs={"data-testid": "variant-editor"},
    )


def _targeting_fields() -> rx.Component:
    return form_section(
        ct_var("Who is in it"),
        field(E, ct_var("Only these reasons"), check_list(
            E.reason_choices, E.target_reasons, E.toggle_reason, "experiment-reasons"),
            "reasons", ct_var("None ticked: any reason.")),
        rx.cond(E.product_choices.length() > 0, field(
            E, ct_var("Only subscribers of"), check_list(
                E.product_choices, E.segment_products, E.toggle_product,
                "experiment-products"), "segment_products",
            ct_var("None ticked: every product."))),
        rx.grid(
            field(E, ct_var("Subscribed at least (days)"),
                  text_input(E, "tenure_min", type_="number"), "tenure_min"),
            field(E, ct_var("Subscribed at most (days)"),
                  text_input(E, "tenure_max", type_="number"), "tenure_max"),
            field(E, ct_var("Holdout (%)"), text_input(E, "holdout", type_="number"),
                  "holdout",
                  ct_var("Customers held out of every variant (no offer, not counted).")),
            columns=rx.breakpoints(initial="1", sm="3"), gap="12px",
            width="100%", align_items="start",
        ),
    )


def experiment_dialog() -> rx.Component:
    """Create or edit a draft: configuration, targeting, holdout, variants."""
    return form_dialog(
        E, rx.cond(E.editing, ct_var("Edit draft"), ct_var("Create experiment")), LEAD,
        field(E, ct_var("Name"), text_input(E, "name"), "name"),
        field(E, ct_var("Portal configuration"), select(
            E.configuration, E.set_configuration, choices=E.configuration_choices,
            disabled=E.editing, testid="experiment-configuration"), "configuration"),
        _targeting_fields(),
        form_section(
            ct_var("Variants"),
            rx.text(ct_var("Customers are split by weight. A variant with no offer is a "
                           "control."), size="2", color=MUTED),
            rx.foreach(E.variants, _variant_editor),
            problem(E, "variants"),
            rx.button(rx.icon("plus", size=14), ct_var("Add variant"), variant="soft",
                      color_scheme="gray", type="button", on_click=E.add_variant,
                      custom_attrs={"data-testid": "add-variant"}),
        ),
        testid="experiment-form", max_width="720px",
    )


# --- one experiment -----------------------------------------------------------------------


def _meta(text: Any, value: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(text, size="1", color=FAINT, weight="medium"),
                     value, spacing="1", min_width="0")


def experiment_header() -> rx.Component:
    """Back link, name, status, lifecycle buttons."""
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14),
                          rx.text(ct_var("All experiments"), size="2"),
                          align="center", spacing="1"),
                href=CONSOLE_EXPERIMENTS, color=MUTED, underline="none"),
        rx.flex(
            rx.hstack(rx.heading(X.name, size="6", weight="bold", letter_spacing="-0.02em"),
                      status_badge(X.status_label, X.tone, X.exp_status),
                      align="center", spacing="3", wrap="wrap", flex="1", min_width="0"),
            rx.hstack(
                rx.cond(X.is_draft, rx.fragment(
                    rx.link(rx.button(rx.icon("pencil", size=14), ct_var("Edit"),
                                      variant="soft", color_scheme="gray"),
                            href=CONSOLE_EXPERIMENTS + "?edit=" + X.experiment_id),
                    rx.button(rx.icon("play", size=14), ct_var("Start"), color_scheme="green",
                              on_click=X.ask("start", ""),
                              custom_attrs={"data-testid": "start-experiment"}),
                )),
                rx.cond(X.is_running, rx.button(
                    rx.icon("square", size=14), ct_var("Stop"), color_scheme="red",
                    variant="soft", on_click=X.ask("stop", ""),
                    custom_attrs={"data-testid": "stop-experiment"})),
                spacing="2", wrap="wrap",
            ),
            gap="12px", align="center", wrap="wrap", width="100%",
        ),
        spacing="3", width="100%", margin_bottom="20px",
    )


def experiment_facts() -> rx.Component:
    """Configuration, targeting, holdout, dates."""
    return rx.card(
        rx.grid(
            _meta(ct_var("Configuration"), rx.text(X.configuration, size="2", font_family=MONO,
                                                  word_break="break-all")),
            _meta(ct_var("Targeting"), rx.vstack(rx.foreach(X.targeting,
                                                            lambda t: rx.text(t, size="2")),
                                                 spacing="0")),
            _meta(ct_var("Holdout"), rx.text(X.holdout, size="2")),
            _meta(ct_var("Started"), rx.vstack(
                rx.text(rx.cond(X.started != "", X.started, "—"), size="2"),
                rx.cond(X.stopped != "", rx.text("→ ", X.stopped, size="1", color=FAINT)),
                spacing="0")),
            columns=rx.breakpoints(initial="1", xs="2", md="4"), gap="16px", width="100%",
        ),
        size="2", width="100%", margin_bottom="20px",
    )


def interval_bar(row: VariantReadoutRow) -> rx.Component:
    """The save rate as a dot on a 0–100% track, with its confidence interval as a band."""
    return rx.box(
        rx.box(position="absolute", top="0", bottom="0", left=row.bar_left,
               width=row.bar_width, min_width="2px", border_radius="999px",
               background=rx.cond(row.is_control, rx.color("gray", 7),
                                  rx.color("accent", 6))),
        rx.box(position="absolute", top="50%", left=row.dot_left, width="12px",
               height="12px", border_radius="50%", transform="translate(-50%, -50%)",
               background=rx.cond(row.is_control, rx.color("gray", 11),
                                  rx.color("accent", 10)),
               border=f"2px solid {rx.color('gray', 1)}"),
        position="relative", height="8px", width="100%", border_radius="999px",
        background=rx.color("gray", 4), margin="8px 0 2px",
        custom_attrs={"data-testid": "interval-bar", "role": "img",
                      "aria-label": row.rate + " (" + row.interval + ")"},
    )


def _scale() -> rx.Component:
    return rx.hstack(rx.text("0%", size="1", color=FAINT), rx.spacer(),
                     rx.text("50%", size="1", color=FAINT), rx.spacer(),
                     rx.text("100%", size="1", color=FAINT), width="100%",
                     custom_attrs={"aria-hidden": "true"})


def _stat(text: Any, value: Any, testid: str, **props: Any) -> rx.Component:
    return rx.vstack(rx.text(text, size="1", color=FAINT),
                     rx.text(value, size="5", weight="bold",
                             custom_attrs={"data-testid": testid}, **props),
                     spacing="0", min_width="0")


def _variant_readout(row: VariantReadoutRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.hstack(
                    rx.text(row.name, size="3", weight="bold"),
                    rx.cond(row.is_control, rx.badge(ct_var("Baseline"), color_scheme="gray",
                                                     variant="surface")),
                    rx.cond(row.shipped, rx.badge(rx.icon("rocket", size=12),
                                                  ct_var("Shipped"),
                                                  color_scheme="indigo")),
                    rx.badge(row.weight, variant="soft", color_scheme="gray"),
                    align="center", spacing="2", wrap="wrap", flex="1", min_width="0",
                ),
                rx.cond(X.can_ship & ~row.shipped, rx.button(
                    rx.icon("rocket", size=13), ct_var("Ship"), size="1", variant="soft",
                    on_click=X.ask("ship", row.id),
                    custom_attrs={"data-testid": "ship-variant"})),
                gap="8px", align="center", width="100%",
            ),
            rx.text(row.offers, size="2", color=MUTED),
            rx.grid(
                _stat(ct_var("Exposures"), row.exposures, "variant-exposures"),
                _stat(ct_var("Saves"), row.saves, "variant-saves"),
                rx.vstack(
                    rx.text(ct_var("Save rate"), size="1", color=FAINT),
                    rx.hstack(rx.text(row.rate, size="5", weight="bold",
                                      custom_attrs={"data-testid": "variant-rate"}),
                              rx.cond(row.has_rate, rx.text(row.interval, size="1",
                                                            color=FAINT)),
                              align="baseline", spacing="2", wrap="wrap"),
                    rx.cond(row.has_rate, rx.box(interval_bar(row), _scale(), width="100%")),
                    spacing="0", min_width="0", grid_column=rx.breakpoints(initial="span 2",
                                                                           md="span 1"),
                ),
                rx.cond(row.is_control, rx.fragment(), rx.vstack(
                    rx.text(ct_var("vs control"), size="1", color=FAINT),
                    rx.text(row.diff, size="5", weight="bold",
                            color=rx.match(row.diff_tone, ("green", rx.color("green", 11)),
                                           ("red", rx.color("red", 11)), rx.color("gray", 12)),
                            custom_attrs={"data-testid": "variant-diff"}),
                    rx.text(row.diff_interval, size="1", color=FAINT),
                    spacing="0", min_width="0")),
                columns=rx.breakpoints(initial="2", md="4"), gap="16px", width="100%",
            ),
            rx.hstack(
                rx.icon(rx.match(row.diff_tone, ("green", "trending-up"),
                                 ("red", "trending-down"), "info"),
                        size=14, flex_shrink="0", margin_top="2px"),
                rx.text(row.verdict, size="2", custom_attrs={"data-testid": "variant-verdict"}),
                spacing="2", align="start", padding="8px 10px", border_radius="8px",
                width="100%",
                background=rx.match(row.diff_tone, ("green", rx.color("green", 3)),
                                    ("red", rx.color("red", 3)), rx.color("gray", 3)),
                color=rx.match(row.diff_tone, ("green", rx.color("green", 11)),
                               ("red", rx.color("red", 11)), rx.color("gray", 11)),
            ),
            spacing="3", width="100%",
        ),
        size="2", width="100%",
        custom_attrs={"data-testid": "variant-readout", "data-variant-id": row.id},
    )


def readout_section() -> rx.Component:
    """The live read-out: SRM warning, per-variant numbers, verdicts."""
    return rx.vstack(
        rx.flex(
            rx.vstack(rx.heading(ct_var("Read-out"), size="4"),
                      rx.text(ct_var("A save is an exposed customer who did not cancel. "
                                     "Intervals are 95%."), size="2", color=MUTED),
                      spacing="1", flex="1", min_width="220px"),
            rx.hstack(
                rx.text(X.exposures, " ", ct_var("exposures in total"), size="1", color=FAINT,
                        custom_attrs={"data-testid": "total-exposures"}),
                rx.button(rx.icon("refresh-cw", size=13), ct_var("Refresh"), size="1",
                          variant="soft", color_scheme="gray", on_click=X.refresh,
                          custom_attrs={"data-testid": "refresh-readout"}),
                align="center", spacing="3",
            ),
            gap="12px", align="end", wrap="wrap", width="100%",
        ),
        rx.cond(X.srm_warning != "", rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert")),
            rx.callout.text(rx.text(ct_var("Sample ratio mismatch"), weight="bold"), X.srm_warning),
            color_scheme="red", role="alert", width="100%",
            custom_attrs={"data-testid": "srm-warning"})),
        rx.cond(X.is_draft, rx.callout.root(
            rx.callout.icon(rx.icon("pencil-line", size=16)),
            rx.callout.text(ct_var("A draft: edit it, then start it to assign customers.")),
            color_scheme="gray", size="1", width="100%"),
            rx.cond(~X.has_exposures, rx.callout.root(
                rx.callout.icon(rx.icon("hourglass", size=16)),
                rx.callout.text(ct_var("No exposures yet: numbers appear as customers reach "
                                       "the offer step.")),
                color_scheme="blue", size="1", width="100%",
                custom_attrs={"data-testid": "no-exposures"}))),
        rx.foreach(X.variants, _variant_readout),
        rx.text(ct_var("Updated"), " ", X.updated_at, size="1", color=FAINT),
        spacing="3", width="100%",
    )


def confirm_dialog() -> rx.Component:
    """Are you sure? for start, stop and ship."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(X.confirm_title),
            rx.alert_dialog.description(X.confirm_text, size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(ct_var("Cancel"), variant="soft",
                                                 color_scheme="gray")),
                rx.alert_dialog.action(rx.button(
                    ct_var("Confirm"), on_click=X.confirm,
                    color_scheme=rx.cond(X.confirm_action == "stop", "red", "indigo"),
                    custom_attrs={"data-testid": "confirm-action"})),
                spacing="3", justify="end", margin_top="16px",
            ),
            max_width="440px",
        ),
        open=X.confirm_open, on_open_change=X.set_confirm_open,
    )


def experiment_detail() -> rx.Component:
    """Loading, missing, error, or the experiment."""
    missing = empty("search-x", ct_var("This experiment does not exist."), LEAD,
                    rx.link(rx.button(ct_var("All experiments")), href=CONSOLE_EXPERIMENTS),
                    "experiment-missing")
    return rx.match(
        X.status,
        ("loading", loading(ct_var("Loading the experiment…"), "experiment-loading")),
        ("error", load_error(X.refresh)),
        ("missing", missing),
        rx.box(experiment_header(), experiment_facts(), readout_section(), confirm_dialog(),
               width="100%"),
    )

