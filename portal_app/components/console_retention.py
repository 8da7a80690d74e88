"""The retention pages' parts: offer list and dialog, policy, experiment list, dialog and
read-out. Every string comes from the page's State ``text`` (``RETENTION_TEXT``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from portal_app.components.console_frame import DESKTOP_ONLY, MONO, PHONE_ONLY
from portal_app.routes import CONSOLE_EXPERIMENTS, CONSOLE_OFFERS
from portal_app.state.console_retention import (
    REASON_KEYS,
    ExperimentRow,
    ExperimentsState,
    ExperimentState,
    OfferRow,
    OffersState,
    PolicyRow,
    RetentionState,
    VariantDraft,
    VariantReadoutRow,
)

Form = type[OffersState] | type[ExperimentsState]
MUTED = rx.color("gray", 11)
FAINT = rx.color("gray", 10)
BORDER = f"1px solid {rx.color('gray', 5)}"


def _t(state: type[RetentionState], key: str) -> Any:
    return state.text[key]


# --- shared -------------------------------------------------------------------------------


def section_tabs(state: type[RetentionState], active: str) -> rx.Component:
    """Offers | Experiments, as links (each is its own page)."""

    def tab(key: str, href: str, icon: str) -> rx.Component:
        is_active = href == active
        return rx.link(
            rx.hstack(rx.icon(icon, size=14), rx.text(_t(state, key), size="2",
                                                      weight="medium"),
                      align="center", spacing="2"),
            href=href, underline="none",
            color=rx.color("gray", 12) if is_active else MUTED,
            background=rx.color("gray", 1) if is_active else "transparent",
            box_shadow=f"0 1px 2px {rx.color('gray', 6)}" if is_active else "none",
            padding="6px 14px", border_radius="6px",
            custom_attrs={"aria-current": "page"} if is_active else {},
        )

    return rx.hstack(
        tab("tab_offers", CONSOLE_OFFERS, "gift"),
        tab("tab_experiments", CONSOLE_EXPERIMENTS, "flask-conical"),
        spacing="1", padding="3px", border_radius="8px", background=rx.color("gray", 3),
        width="fit-content", margin_bottom="20px", as_="nav",
    )


def header(state: type[RetentionState], title: str, lead: str,
           action: rx.Component | None = None) -> rx.Component:
    """A page's title, one line about it, and its main button."""
    return rx.flex(
        rx.vstack(
            rx.heading(_t(state, title), size="6", weight="bold", letter_spacing="-0.02em"),
            rx.text(_t(state, lead), size="2", color=MUTED),
            spacing="1", flex="1", min_width="240px",
        ),
        action or rx.fragment(),
        gap="12px", align="end", wrap="wrap", justify="between", margin_bottom="20px",
        width="100%",
    )


def loading(state: type[RetentionState], key: str, testid: str) -> rx.Component:
    """A spinner line and skeleton rows."""
    return rx.vstack(
        rx.hstack(rx.spinner(size="2"), rx.text(_t(state, key), size="2", color=MUTED),
                  align="center", spacing="2"),
        *[rx.skeleton(rx.box(height="52px", width="100%"), loading=True, width="100%")
          for _ in range(4)],
        spacing="2", width="100%", custom_attrs={"data-testid": testid},
    )


def load_error(state: type[RetentionState], retry: Any) -> rx.Component:
    """The page could not be read: say so, offer a retry."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.callout.text(rx.hstack(
            rx.text(_t(state, "load_error")),
            rx.button(_t(state, "retry"), size="1", variant="soft", color_scheme="red",
                      on_click=retry),
            align="center", spacing="3", wrap="wrap")),
        color_scheme="red", role="alert",
    )


def empty(state: type[RetentionState], icon: str, title: str, lead: str,
          action: rx.Component, testid: str) -> rx.Component:
    """Nothing here yet, and the button that makes the first one."""
    return rx.center(
        rx.vstack(
            rx.center(rx.icon(icon, size=24, color=FAINT), width="48px", height="48px",
                      border_radius="12px", background=rx.color("gray", 3)),
            rx.text(_t(state, title), size="4", weight="bold", text_align="center"),
            rx.text(_t(state, lead), size="2", color=MUTED, text_align="center",
                    max_width="420px"),
            action,
            align="center", spacing="3",
        ),
        padding="56px 24px", border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px", background=rx.color("gray", 2),
        custom_attrs={"data-testid": testid},
    )


def _label(state: type[RetentionState], key: str) -> rx.Component:
    return rx.text(_t(state, key), size="2", weight="medium", as_="label")


def _hint(state: type[RetentionState], key: str) -> rx.Component:
    return rx.text(_t(state, key), size="1", color=FAINT)


def _problem(state: Form, name: Any) -> rx.Component:
    return rx.cond(
        state.error_field == name,
        rx.hstack(rx.icon("circle-alert", size=13, flex_shrink="0"),
                  rx.text(state.form_error, size="1"),
                  color=rx.color("red", 11), spacing="1", align="center",
                  custom_attrs={"data-testid": "field-error"}),
    )


def field(state: Form, label_key: str, control: rx.Component, name: Any,
          hint_key: str | None = None, **props: Any) -> rx.Component:
    """A labelled control, its hint, and the service's message when it is about it."""
    return rx.vstack(
        _label(state, label_key),
        control,
        _hint(state, hint_key) if hint_key else rx.fragment(),
        _problem(state, name),
        spacing="1", width="100%", **props,
    )


def text_input(state: Form, name: str, *, placeholder: str = "", type_: str = "text",
               mono: bool = False, **props: Any) -> rx.Component:
    """An uncontrolled input read on submit, prefilled from ``state.defaults``."""
    return rx.input(
        name=name, default_value=state.defaults[name], type=type_,
        placeholder=placeholder, width="100%", font_family=MONO if mono else None,
        color_scheme=rx.cond(state.error_field == name, "red", "indigo"),
        variant=rx.cond(state.error_field == name, "soft", "surface"),
        custom_attrs={"data-field": name, "autocomplete": "off"}, **props,
    )


def select(value: Any, on_change: Callable, items: list[tuple[Any, Any]] | None = None,
           choices: Any = None, testid: Any = None, **props: Any) -> rx.Component:
    """A Radix select over fixed ``items`` (value, label) or a list var of ``Choice``."""
    content = (
        [rx.select.item(label, value=v) for v, label in items] if items is not None else
        [rx.foreach(choices, lambda c: rx.select.item(c.label, value=c.value))]
    )
    return rx.select.root(
        rx.select.trigger(width="100%",
                          custom_attrs={"data-testid": testid} if testid is not None else {}),
        rx.select.content(*content, position="popper"),
        value=value, on_change=on_change, **props,
    )


def check_list(choices: Any, selected: Any, on_toggle: Callable, testid: str) -> rx.Component:
    """Checkboxes over a list var of ``Choice``; ``selected`` is the list of ticked values."""
    return rx.flex(
        rx.foreach(choices, lambda c: rx.el.label(
            rx.checkbox(checked=selected.contains(c.value),
                        on_change=lambda checked: on_toggle(c.value, checked)),
            rx.text(c.label, size="2"),
            style={"display": "flex", "gap": "8px", "align_items": "center",
                   "padding": "6px 10px", "border_radius": "6px", "cursor": "pointer",
                   "border": BORDER, "background": rx.color("gray", 1)},
            custom_attrs={"data-value": c.value},
        )),
        gap="8px", wrap="wrap", custom_attrs={"data-testid": testid},
    )


def _form_problem(state: Form) -> rx.Component:
    return rx.cond(
        state.form_error != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("circle-alert", size=16)),
            rx.callout.text(rx.cond(state.error_field == "", state.form_error,
                                    _t(state, "fix_errors"))),
            color_scheme="red", size="1", role="alert", width="100%",
            custom_attrs={"data-testid": "form-error"},
        ),
    )


def _section(title: Any, *children: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(title, size="1", weight="bold", color=FAINT, text_transform="uppercase",
                letter_spacing="0.06em"),
        *children,
        spacing="3", width="100%", padding_top="16px", border_top=BORDER,
    )


def _dialog_buttons(state: Form) -> rx.Component:
    return rx.flex(
        _form_problem(state),
        rx.hstack(
            rx.dialog.close(rx.button(_t(state, "cancel"), variant="soft", color_scheme="gray",
                                      type="button")),
            rx.button(_t(state, "save"), type="submit",
                      custom_attrs={"data-testid": "dialog-save"}),
            spacing="2", justify="end", width="100%",
        ),
        direction="column", gap="12px", width="100%", padding_top="8px",
    )


def _kind_tone(kind: Any) -> Any:
    return rx.match(kind, ("coupon", "pink"), ("pause", "cyan"), ("price_change", "teal"),
                    ("trial_extension", "amber"), ("contact", "blue"), "gray")


def _kind_icon(kind: Any) -> rx.Component:
    return rx.match(kind,
                    ("coupon", rx.icon("ticket-percent", size=14)),
                    ("pause", rx.icon("circle-pause", size=14)),
                    ("price_change", rx.icon("arrow-down-wide-narrow", size=14)),
                    ("trial_extension", rx.icon("calendar-plus", size=14)),
                    rx.icon("message-circle", size=14))


# --- offers -------------------------------------------------------------------------------

S = OffersState


def new_offer_button() -> rx.Component:
    """Open the create dialog."""
    return rx.button(rx.icon("plus", size=14), _t(S, "new_offer"), on_click=S.open_new,
                     custom_attrs={"data-testid": "new-offer"})


def _status_badge(row: OfferRow) -> rx.Component:
    return rx.badge(rx.cond(row.active, rx.icon("circle-check", size=12),
                            rx.icon("circle-slash", size=12)),
                    row.status_label, color_scheme=rx.cond(row.active, "green", "gray"),
                    variant="soft", radius="full", white_space="nowrap")


def _kind_badge(row: OfferRow) -> rx.Component:
    return rx.badge(_kind_icon(row.kind), row.kind_label, color_scheme=_kind_tone(row.kind),
                    variant="soft", radius="full", white_space="nowrap")


def _offer_actions(row: OfferRow) -> rx.Component:
    return rx.hstack(
        rx.button(rx.icon("pencil", size=13), _t(S, "edit"), size="1", variant="soft",
                  color_scheme="gray", on_click=S.open_edit(row.id),
                  custom_attrs={"data-testid": "edit-offer"}),
        rx.cond(
            row.active,
            rx.button(_t(S, "deactivate"), size="1", variant="ghost", color_scheme="red",
                      on_click=S.set_active(row.id, False),
                      custom_attrs={"data-testid": "deactivate-offer"}),
            rx.button(_t(S, "activate"), size="1", variant="ghost", color_scheme="green",
                      on_click=S.set_active(row.id, True),
                      custom_attrs={"data-testid": "activate-offer"}),
        ),
        spacing="2", justify="end", align="center",
    )


def _eligibility(row: OfferRow) -> rx.Component:
    return rx.vstack(rx.foreach(row.eligibility,
                                lambda line: rx.text(line, size="1", color=MUTED)),
                     spacing="0")


def _offer_name(row: OfferRow) -> rx.Component:
    return rx.vstack(
        rx.text(row.name, size="2", weight="bold"),
        rx.cond(row.headline != "", rx.text("“", row.headline, "”", size="1", color=FAINT,
                                            font_style="italic")),
        spacing="0", min_width="0",
    )


def _offer_row(row: OfferRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(_offer_name(row)),
        rx.table.cell(_kind_badge(row)),
        rx.table.cell(rx.text(row.summary, size="2")),
        rx.table.cell(rx.text(row.reasons, size="2", color=MUTED)),
        rx.table.cell(_eligibility(row)),
        rx.table.cell(_status_badge(row)),
        rx.table.cell(_offer_actions(row)),
        opacity=rx.cond(row.active, "1", "0.65"), align="center",
        custom_attrs={"data-testid": "offer-row", "data-offer-id": row.id},
    )


def _offer_card(row: OfferRow) -> rx.Component:
    return rx.vstack(
        rx.hstack(_kind_badge(row), rx.spacer(), _status_badge(row), width="100%",
                  align="center"),
        _offer_name(row),
        rx.text(row.summary, size="2"),
        rx.hstack(rx.icon("message-square-quote", size=13, color=FAINT, flex_shrink="0"),
                  rx.text(row.reasons, size="1", color=MUTED), spacing="2", align="center"),
        _eligibility(row),
        rx.box(_offer_actions(row), width="100%", padding_top="4px"),
        spacing="2", width="100%", padding="14px", border_bottom=BORDER,
        opacity=rx.cond(row.active, "1", "0.7"),
        custom_attrs={"data-testid": "offer-card", "data-offer-id": row.id},
    )


def offers_list() -> rx.Component:
    """Loading, error, empty, or the offers (a table on desktop, cards on phones)."""
    table = rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                *[rx.table.column_header_cell(_t(S, key)) for key in
                  ("col_offer", "col_kind", "col_terms", "col_reasons", "col_eligibility",
                   "col_status")],
                rx.table.column_header_cell(""),
            )),
            rx.table.body(rx.foreach(S.offers, _offer_row)),
            variant="surface", size="2", width="100%",
        ),
        display=DESKTOP_ONLY, width="100%", overflow_x="auto",
    )
    cards = rx.box(rx.foreach(S.offers, _offer_card), display=PHONE_ONLY,
                   flex_direction="column", width="100%", border=BORDER,
                   border_radius="10px", overflow="hidden", background=rx.color("gray", 1))
    return rx.match(
        S.status,
        ("loading", loading(S, "loading_offers", "offers-loading")),
        ("error", load_error(S, S.retry)),
        rx.cond(S.has_offers, rx.box(table, cards, width="100%"),
                empty(S, "gift", "no_offers", "no_offers_lead", new_offer_button(),
                      "offers-empty")),
    )


def _coupon_fields() -> rx.Component:
    percent = field(S, "field_percent", rx.input(
        rx.input.slot("%", side="right"), name="percent",
        default_value=S.defaults["percent"], type="number", width="100%",
        disabled=S.coupon_locked,
        custom_attrs={"data-field": "percent"}), "percent")
    amount = rx.flex(
        field(S, "field_amount", text_input(S, "amount", type_="number",
                                            disabled=S.coupon_locked), "amount",
              flex="2"),
        field(S, "field_currency", text_input(S, "currency", mono=True, max_length=3,
                                              disabled=S.coupon_locked), "currency", flex="1"),
        gap="12px", width="100%",
    )
    return rx.vstack(
        rx.cond(S.coupon_locked, rx.callout.root(
            rx.callout.icon(rx.icon("lock", size=16)), rx.callout.text(_t(S, "coupon_locked")),
            size="1", color_scheme="gray", width="100%")),
        field(S, "field_discount", rx.segmented_control.root(
            rx.segmented_control.item(_t(S, "percent_off"), value="percent"),
            rx.segmented_control.item(_t(S, "amount_off"), value="amount"),
            value=S.coupon_mode, on_change=S.set_coupon_mode, disabled=S.coupon_locked,
            width="100%"), "coupon_mode"),
        rx.cond(S.coupon_mode == "percent", percent, amount),
        rx.flex(
            field(S, "field_duration", select(
                S.coupon_duration, S.set_coupon_duration, disabled=S.coupon_locked,
                items=[("once", _t(S, "duration_once")),
                       ("repeating", _t(S, "duration_repeating")),
                       ("forever", _t(S, "duration_forever"))],
                testid="coupon-duration"), "duration", flex="2"),
            rx.cond(S.coupon_duration == "repeating",
                    field(S, "field_months", text_input(S, "months", type_="number",
                                                        disabled=S.coupon_locked),
                          "months", flex="1")),
            gap="12px", width="100%", wrap="wrap",
        ),
        spacing="3", width="100%",
    )


def _pause_fields() -> rx.Component:
    return field(S, "field_pause_count", rx.flex(
        text_input(S, "pause_count", type_="number", flex="1"),
        rx.box(select(S.pause_interval, S.set_pause_interval,
                      items=[(k, _t(S, f"pause_{k}")) for k in ("period", "month", "week",
                                                                "day")],
                      testid="pause-interval"), flex="2"),
        gap="8px", width="100%"), "pause_count")


def _price_change_fields() -> rx.Component:
    return rx.vstack(
        field(S, "field_target_price", rx.cond(
            S.price_choices.length() > 0,
            select(S.target_price, S.set_target_price, choices=S.price_choices,
                   placeholder=_t(S, "choose_price"), testid="target-price"),
            rx.text(_t(S, "no_prices"), size="2", color=MUTED)), "target_price"),
        field(S, "field_timing", select(
            S.timing, S.set_timing, items=[("period_end", _t(S, "timing_period_end")),
                                           ("now", _t(S, "timing_now"))],
            testid="price-timing"), "timing"),
        spacing="3", width="100%",
    )


def _contact_fields() -> rx.Component:
    return rx.vstack(
        field(S, "field_contact_url", text_input(S, "contact_url", type_="url",
                                                 placeholder="https://"), "contact_url"),
        field(S, "field_contact_email", text_input(S, "contact_email", type_="email",
                                                   placeholder="success@…"),
              "contact_email"),
        spacing="3", width="100%",
    )


def offer_dialog() -> rx.Component:
    """Create or edit an offer: its kind's terms, then who may get it."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.editing, _t(S, "edit_offer"), _t(S, "create_offer")),
                            size="5"),
            rx.dialog.description(_t(S, "offers_lead"), size="2", color=MUTED,
                                  margin_bottom="16px"),
            rx.form(
                rx.vstack(
                    field(S, "field_kind", select(S.kind, S.set_kind, choices=S.kind_choices,
                                                  disabled=S.editing, testid="offer-kind"),
                          "kind"),
                    field(S, "field_name", text_input(S, "name"), "name", "field_name_hint"),
                    field(S, "field_headline", text_input(S, "headline"), "headline",
                          "field_headline_hint"),
                    rx.match(S.kind,
                             ("coupon", _coupon_fields()),
                             ("pause", _pause_fields()),
                             ("price_change", _price_change_fields()),
                             ("trial_extension", field(S, "field_days", text_input(
                                 S, "days", type_="number"), "days")),
                             _contact_fields()),
                    _section(
                        _t(S, "section_eligibility"),
                        field(S, "field_reasons", check_list(S.reason_choices, S.draft_reasons,
                                                             S.toggle_reason, "offer-reasons"),
                              "reasons", "field_reasons_hint"),
                        rx.cond(S.product_choices.length() > 0, field(
                            S, "field_products", check_list(S.product_choices, S.draft_products,
                                                            S.toggle_product, "offer-products"),
                            "products", "field_products_hint")),
                        rx.grid(
                            field(S, "field_min_age", text_input(S, "min_age", type_="number",
                                                                 placeholder="0"),
                                  "min_age"),
                            field(S, "field_cooldown", text_input(S, "cooldown",
                                                                  type_="number"),
                                  "cooldown", "field_blank_unlimited"),
                            field(S, "field_max_redemptions", text_input(
                                S, "max_redemptions", type_="number"),
                                "max_redemptions", "field_blank_unlimited"),
                            columns=rx.breakpoints(initial="1", sm="3"), gap="12px",
                            width="100%", align_items="start",
                        ),
                        rx.text(_t(S, "field_cooldown_hint"), size="1", color=FAINT),
                    ),
                    _dialog_buttons(S),
                    spacing="4", width="100%",
                ),
                on_submit=S.save, key=S.form_key, width="100%",
                custom_attrs={"data-testid": "offer-form"},
            ),
            max_width="640px", width="calc(100vw - 24px)", max_height="92vh",
        ),
        open=S.dialog_open, on_open_change=S.set_dialog_open,
    )


def _policy_row(row: PolicyRow) -> rx.Component:
    return rx.flex(
        rx.text(row.label, size="2", weight="medium", min_width="160px",
                flex_shrink="0"),
        rx.box(select(row.offer_id, lambda value: S.set_policy_offer(row.reason, value),
                      choices=S.offer_choices, testid="policy-" + row.reason),
               flex="1", min_width="0", width="100%"),
        gap=rx.breakpoints(initial="4px", sm="16px"), align=rx.breakpoints(initial="start",
                                                                           sm="center"),
        direction=rx.breakpoints(initial="column", sm="row"), width="100%",
        padding="10px 0", border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def policy_card() -> rx.Component:
    """The configuration's offer per reason, and whether a comment is required (once there
    is an offer to choose)."""
    return rx.cond(
        (S.status == "ready") & S.has_offers,
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("route", size=18, color=rx.color("accent", 10)),
                          rx.heading(_t(S, "policy_title"), size="4"), align="center",
                          spacing="2"),
                rx.text(_t(S, "policy_lead"), size="2", color=MUTED),
                rx.cond(
                    S.has_configurations,
                    rx.vstack(
                        rx.cond(S.configuration_choices.length() > 1, rx.box(field(
                            S, "field_configuration",
                            select(S.policy_configuration, S.select_configuration,
                                   choices=S.configuration_choices,
                                   testid="policy-configuration"),
                            "configuration"), width="100%", max_width="420px")),
                        rx.box(rx.foreach(S.policy_rows, _policy_row), width="100%"),
                        rx.flex(
                            rx.el.label(
                                rx.switch(checked=S.policy_comment_required,
                                          on_change=S.set_comment_required),
                                rx.text(_t(S, "comment_required"), size="2"),
                                style={"display": "flex", "gap": "8px",
                                       "align_items": "center"}),
                            rx.spacer(),
                            rx.button(rx.icon("save", size=14), _t(S, "save_policy"),
                                      on_click=S.save_policy,
                                      custom_attrs={"data-testid": "save-policy"}),
                            align="center", gap="12px", wrap="wrap", width="100%",
                            padding_top="8px",
                        ),
                        spacing="3", width="100%",
                    ),
                    rx.callout.root(rx.callout.icon(rx.icon("info", size=16)),
                                    rx.callout.text(_t(S, "need_configuration")),
                                    color_scheme="gray", size="1"),
                ),
                spacing="3", width="100%",
            ),
            size=rx.breakpoints(initial="2", sm="3"), margin_top="28px", width="100%",
            custom_attrs={"data-testid": "policy-card"},
        ),
    )


# --- experiments --------------------------------------------------------------------------

E = ExperimentsState


def new_experiment_button() -> rx.Component:
    """Open the create dialog (a configuration is needed)."""
    return rx.button(rx.icon("plus", size=14), _t(E, "new_experiment"), on_click=E.open_new,
                     disabled=~E.has_configurations,
                     custom_attrs={"data-testid": "new-experiment"})


def status_badge(label: Any, tone: Any, status: Any) -> rx.Component:
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
        label, color_scheme=tone, variant="soft", radius="full", white_space="nowrap",
        size="2", custom_attrs={"data-testid": "experiment-status"},
    )


def _experiment_row(row: ExperimentRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.name, href=row.href, weight="bold", size="2")),
        rx.table.cell(status_badge(row.status_label, row.tone, row.status)),
        rx.table.cell(rx.text(row.variants, size="2", color=MUTED)),
        rx.table.cell(rx.text(row.configuration, size="1", font_family=MONO, color=MUTED)),
        rx.table.cell(rx.text(row.started, size="2", color=MUTED, white_space="nowrap")),
        rx.table.cell(rx.link(rx.button(_t(E, "open"), rx.icon("arrow-right", size=13),
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
    """Loading, error, empty, or the experiments."""
    table = rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                *[rx.table.column_header_cell(_t(E, key)) for key in
                  ("col_experiment", "col_status", "col_variants", "col_configuration",
                   "col_started")],
                rx.table.column_header_cell(""),
            )),
            rx.table.body(rx.foreach(E.experiments, _experiment_row)),
            variant="surface", size="2", width="100%",
        ),
        display=DESKTOP_ONLY, width="100%", overflow_x="auto",
    )
    cards = rx.box(rx.foreach(E.experiments, _experiment_card), display=PHONE_ONLY,
                   flex_direction="column", width="100%", border=BORDER,
                   border_radius="10px", overflow="hidden", background=rx.color("gray", 1))
    first = rx.cond(
        E.has_configurations,
        rx.vstack(rx.cond(~E.has_offers, rx.text(_t(E, "need_offers_first"), size="1",
                                                 color=FAINT)),
                  new_experiment_button(), align="center", spacing="2"),
        rx.text(_t(E, "need_configuration"), size="2", color=MUTED, text_align="center",
                max_width="420px"),
    )
    return rx.match(
        E.status,
        ("loading", loading(E, "loading_experiments", "experiments-loading")),
        ("error", load_error(E, E.retry)),
        rx.cond(E.has_experiments, rx.box(table, cards, width="100%"),
                empty(E, "flask-conical", "no_experiments", "no_experiments_lead", first,
                      "experiments-empty")),
    )


def _variant_offer_select(v: VariantDraft, reason: str) -> rx.Component:
    return select(v.offers[reason],
                  lambda value: E.set_variant_offer(v.key, reason, value),
                  choices=E.offer_choices, testid=f"variant-offer-{reason}")


def _variant_editor(v: VariantDraft, index: Any) -> rx.Component:
    name_field = "vname_" + v.key
    weight_field = "vweight_" + v.key
    per_reason = rx.vstack(
        *[rx.flex(rx.text(E.text[f"reason_{reason}"], size="1", color=MUTED,
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
            rx.badge(_t(E, "variant"), " ", index + 1, variant="surface", color_scheme="gray"),
            rx.cond(v.control, rx.badge(rx.icon("shield", size=12), _t(E, "control"),
                                        color_scheme="gray", variant="soft")),
            rx.spacer(),
            rx.cond(E.can_remove_variant, rx.button(
                rx.icon("trash-2", size=13), _t(E, "remove_variant"), size="1",
                variant="ghost", color_scheme="red", type="button",
                on_click=E.remove_variant(v.key))),
            width="100%", align="center",
        ),
        rx.flex(
            rx.vstack(_label(E, "field_variant_name"),
                      rx.input(name=name_field, default_value=v.name, width="100%",
                               custom_attrs={"data-field": "variant-name",
                                             "autocomplete": "off"}),
                      _problem(E, name_field), spacing="1", flex="3", min_width="0"),
            rx.vstack(_label(E, "field_weight"),
                      rx.input(name=weight_field, default_value=v.weight, type="number",
                               width="100%",
                               custom_attrs={"data-field": "variant-weight"}),
                      _problem(E, weight_field), spacing="1", flex="1", min_width="80px"),
            gap="12px", width="100%",
        ),
        rx.vstack(
            rx.text(_t(E, "offer_for"), " · ", E.text["reason_default"], size="2",
                    weight="medium"),
            _variant_offer_select(v, "default"),
            rx.cond(v.control, _hint(E, "control_hint")),
            spacing="1", width="100%",
        ),
        rx.el.label(
            rx.switch(checked=v.per_reason, size="1",
                      on_change=lambda value: E.set_per_reason(v.key, value)),
            rx.text(_t(E, "per_reason"), size="1", color=MUTED),
            style={"display": "flex", "gap": "8px", "align_items": "center"},
        ),
        rx.cond(v.per_reason, per_reason),
        _problem(E, "voffers_" + v.key),
        spacing="3", width="100%", padding="14px", border=BORDER, border_radius="10px",
        background=rx.color("gray", 2),
        custom_attrs={"data-testid": "variant-editor"},
    )


def experiment_dialog() -> rx.Component:
    """Create or edit a draft: configuration, targeting, holdout, variants."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(E.editing, _t(E, "edit_experiment"),
                                    _t(E, "create_experiment")), size="5"),
            rx.dialog.description(_t(E, "experiments_lead"), size="2", color=MUTED,
                                  margin_bottom="16px"),
            rx.form(
                rx.vstack(
                    field(E, "field_experiment_name", text_input(E, "name"), "name"),
                    field(E, "field_configuration", select(
                        E.configuration, E.set_configuration, choices=E.configuration_choices,
                        disabled=E.editing, testid="experiment-configuration"),
                        "configuration"),
                    _section(
                        _t(E, "section_targeting"),
                        field(E, "field_target_reasons", check_list(
                            E.reason_choices, E.target_reasons, E.toggle_reason,
                            "experiment-reasons"), "reasons", "field_reasons_hint"),
                        rx.cond(E.product_choices.length() > 0, field(
                            E, "field_segment_products", check_list(
                                E.product_choices, E.segment_products, E.toggle_product,
                                "experiment-products"), "segment_products",
                            "field_products_hint")),
                        rx.grid(
                            field(E, "field_tenure_min", text_input(E, "tenure_min",
                                                                    type_="number"),
                                  "tenure_min"),
                            field(E, "field_tenure_max", text_input(E, "tenure_max",
                                                                    type_="number"),
                                  "tenure_max"),
                            field(E, "field_holdout", text_input(E, "holdout", type_="number"),
                                  "holdout", "field_holdout_hint"),
                            columns=rx.breakpoints(initial="1", sm="3"), gap="12px",
                            width="100%", align_items="start",
                        ),
                    ),
                    _section(
                        _t(E, "section_variants"),
                        rx.text(_t(E, "variants_lead"), size="2", color=MUTED),
                        rx.foreach(E.variants, _variant_editor),
                        _problem(E, "variants"),
                        rx.button(rx.icon("plus", size=14), _t(E, "add_variant"),
                                  variant="soft", color_scheme="gray", type="button",
                                  on_click=E.add_variant,
                                  custom_attrs={"data-testid": "add-variant"}),
                    ),
                    _dialog_buttons(E),
                    spacing="4", width="100%",
                ),
                on_submit=E.save, key=E.form_key, width="100%",
                custom_attrs={"data-testid": "experiment-form"},
            ),
            max_width="720px", width="calc(100vw - 24px)", max_height="92vh",
        ),
        open=E.dialog_open, on_open_change=E.set_dialog_open,
    )


# --- one experiment -----------------------------------------------------------------------

X = ExperimentState


def _meta(label_key: str, value: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(_t(X, label_key), size="1", color=FAINT, weight="medium"),
                     value, spacing="1", min_width="0")


def experiment_header() -> rx.Component:
    """Back link, name, status, lifecycle buttons."""
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text(_t(X, "back"), size="2"),
                          align="center", spacing="1"),
                href=CONSOLE_EXPERIMENTS, color=MUTED, underline="none"),
        rx.flex(
            rx.hstack(rx.heading(X.name, size="6", weight="bold", letter_spacing="-0.02em"),
                      status_badge(X.status_label, X.tone, X.exp_status),
                      align="center", spacing="3", wrap="wrap", flex="1", min_width="0"),
            rx.hstack(
                rx.cond(X.is_draft, rx.fragment(
                    rx.link(rx.button(rx.icon("pencil", size=14), _t(X, "edit"),
                                      variant="soft", color_scheme="gray"),
                            href=CONSOLE_EXPERIMENTS + "?edit=" + X.experiment_id),
                    rx.button(rx.icon("play", size=14), _t(X, "start"), color_scheme="green",
                              on_click=X.ask("start", ""),
                              custom_attrs={"data-testid": "start-experiment"}),
                )),
                rx.cond(X.is_running, rx.button(
                    rx.icon("square", size=14), _t(X, "stop"), color_scheme="red",
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
            _meta("col_configuration", rx.text(X.configuration, size="2", font_family=MONO,
                                               word_break="break-all")),
            _meta("targeting_label", rx.vstack(rx.foreach(X.targeting,
                                                          lambda t: rx.text(t, size="2")),
                                               spacing="0")),
            _meta("holdout_label", rx.text(X.holdout, size="2")),
            _meta("col_started", rx.vstack(
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


def _stat(label_key: str, value: Any, testid: str, **props: Any) -> rx.Component:
    return rx.vstack(rx.text(_t(X, label_key), size="1", color=FAINT),
                     rx.text(value, size="5", weight="bold",
                             custom_attrs={"data-testid": testid}, **props),
                     spacing="0", min_width="0")


def _variant_readout(row: VariantReadoutRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.hstack(
                    rx.text(row.name, size="3", weight="bold"),
                    rx.cond(row.is_control, rx.badge(_t(X, "baseline"), color_scheme="gray",
                                                     variant="surface")),
                    rx.cond(row.shipped, rx.badge(rx.icon("rocket", size=12),
                                                  _t(X, "shipped_label"),
                                                  color_scheme="indigo")),
                    rx.badge(row.weight, variant="soft", color_scheme="gray"),
                    align="center", spacing="2", wrap="wrap", flex="1", min_width="0",
                ),
                rx.cond(X.can_ship & ~row.shipped, rx.button(
                    rx.icon("rocket", size=13), _t(X, "ship"), size="1", variant="soft",
                    on_click=X.ask("ship", row.id),
                    custom_attrs={"data-testid": "ship-variant"})),
                gap="8px", align="center", width="100%",
            ),
            rx.text(row.offers, size="2", color=MUTED),
            rx.grid(
                _stat("col_exposures", row.exposures, "variant-exposures"),
                _stat("col_saves", row.saves, "variant-saves"),
                rx.vstack(
                    rx.text(_t(X, "col_rate"), size="1", color=FAINT),
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
                    rx.text(_t(X, "col_diff"), size="1", color=FAINT),
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
            rx.vstack(rx.heading(_t(X, "readout_title"), size="4"),
                      rx.text(_t(X, "readout_lead"), size="2", color=MUTED),
                      spacing="1", flex="1", min_width="220px"),
            rx.hstack(
                rx.text(X.exposures, " ", _t(X, "of_exposures"), size="1", color=FAINT,
                        custom_attrs={"data-testid": "total-exposures"}),
                rx.button(rx.icon("refresh-cw", size=13), _t(X, "refresh"), size="1",
                          variant="soft", color_scheme="gray", on_click=X.refresh,
                          custom_attrs={"data-testid": "refresh-readout"}),
                align="center", spacing="3",
            ),
            gap="12px", align="end", wrap="wrap", width="100%",
        ),
        rx.cond(X.srm_warning != "", rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert")),
            rx.callout.text(rx.text(_t(X, "srm_title"), weight="bold"), X.srm_warning),
            color_scheme="red", role="alert", width="100%",
            custom_attrs={"data-testid": "srm-warning"})),
        rx.cond(X.is_draft, rx.callout.root(
            rx.callout.icon(rx.icon("pencil-line", size=16)), rx.callout.text(_t(X, "draft_hint")),
            color_scheme="gray", size="1", width="100%"),
            rx.cond(~X.has_exposures, rx.callout.root(
                rx.callout.icon(rx.icon("hourglass", size=16)),
                rx.callout.text(_t(X, "no_exposures")),
                color_scheme="blue", size="1", width="100%",
                custom_attrs={"data-testid": "no-exposures"}))),
        rx.foreach(X.variants, _variant_readout),
        rx.text(_t(X, "updated_at"), " ", X.updated_at, size="1", color=FAINT),
        spacing="3", width="100%",
    )


def confirm_dialog() -> rx.Component:
    """Are you sure? for start, stop and ship."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(X.confirm_title),
            rx.alert_dialog.description(X.confirm_text, size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(_t(X, "cancel"), variant="soft",
                                                 color_scheme="gray")),
                rx.alert_dialog.action(rx.button(
                    _t(X, "confirm"), on_click=X.confirm,
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
    missing = empty(X, "search-x", "experiment_missing", "experiments_lead",
                    rx.link(rx.button(_t(X, "back")), href=CONSOLE_EXPERIMENTS), "experiment-missing")
    return rx.match(
        X.status,
        ("loading", loading(X, "loading_experiment", "experiment-loading")),
        ("error", load_error(X, X.refresh)),
        ("missing", missing),
        rx.box(experiment_header(), experiment_facts(), readout_section(), confirm_dialog(),
               width="100%"),
    )

