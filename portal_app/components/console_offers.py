"""The offers page's parts: the offer list, the create/edit dialog, the policy per reason.

Every word comes from the console catalog (``ct_var``); every value arrives
formatted from :class:`OffersState`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal_app.components.console_widgets import (
    BORDER,
    FAINT,
    MUTED,
    NEED_CONFIGURATION,
    check_list,
    ct_var,
    empty,
    field,
    form_dialog,
    form_section,
    load_error,
    loading,
    rows_shown,
    select,
    text_input,
)
from portal_app.console.offer_views import OfferRow, PolicyRow
from portal_app.state.console_offers import OffersState

S = OffersState
TITLE = ct_var("Offers")
LEAD = ct_var("What a cancelling customer may be offered instead of leaving, and who may "
              "get it.")
BLANK_UNLIMITED = ct_var("Blank: no limit.")


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


def new_offer_button() -> rx.Component:
    """Open the create dialog."""
    return rx.button(rx.icon("plus", size=14), ct_var("New offer"), on_click=S.open_new,
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
        rx.button(rx.icon("pencil", size=13), ct_var("Edit"), size="1", variant="soft",
                  color_scheme="gray", on_click=S.open_edit(row.id),
                  custom_attrs={"data-testid": "edit-offer"}),
        rx.cond(
            row.active,
            rx.button(ct_var("Deactivate"), size="1", variant="ghost", color_scheme="red",
                      on_click=S.set_active(row.id, False),
                      custom_attrs={"data-testid": "deactivate-offer"}),
            rx.button(ct_var("Activate"), size="1", variant="ghost", color_scheme="green",
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
    headers = [ct_var("Offer"), ct_var("Kind"), ct_var("Terms"), ct_var("Reasons"),
               ct_var("Eligibility"), ct_var("Status")]
    return rx.match(
        S.status,
        ("loading", loading(ct_var("Loading offers…"), "offers-loading")),
        ("error", load_error(S.retry)),
        rx.cond(S.has_offers, rows_shown(headers, S.offers, _offer_row, _offer_card),
                empty("gift", ct_var("No offers yet — create your first"),
                      ct_var("A coupon, a pause, a cheaper plan, free days or a way to talk "
                             "to you: shown when a customer is about to cancel."),
                      new_offer_button(), "offers-empty")),
    )


def _coupon_fields() -> rx.Component:
    percent = field(S, ct_var("Percent"), rx.input(
        rx.input.slot("%", side="right"), name="percent",
        default_value=S.defaults["percent"], type="number", width="100%",
        disabled=S.coupon_locked,
        custom_attrs={"data-field": "percent"}), "percent")
    amount = rx.flex(
        field(S, ct_var("Amount"), text_input(S, "amount", type_="number",
                                              disabled=S.coupon_locked), "amount",
              flex="2"),
        field(S, ct_var("Currency"), text_input(S, "currency", mono=True, max_length=3,
                                                disabled=S.coupon_locked), "currency",
              flex="1"),
        gap="12px", width="100%",
    )
    return rx.vstack(
        rx.cond(S.coupon_locked, rx.callout.root(
            rx.callout.icon(rx.icon("lock", size=16)),
            rx.callout.text(ct_var("A coupon's terms cannot change once customers may have "
                                   "it: create a new offer for other terms.")),
            size="1", color_scheme="gray", width="100%")),
        field(S, ct_var("Discount"), rx.segmented_control.root(
            rx.segmented_control.item(ct_var("Percent off"), value="percent"),
            rx.segmented_control.item(ct_var("Amount off"), value="amount"),
            value=S.coupon_mode, on_change=S.set_coupon_mode, disabled=S.coupon_locked,
            width="100%"), "coupon_mode"),
        rx.cond(S.coupon_mode == "percent", percent, amount),
        rx.flex(
            field(S, ct_var("Duration"), select(
                S.coupon_duration, S.set_coupon_duration, disabled=S.coupon_locked,
                items=[("once", ct_var("Once (next invoice)")),
                       ("repeating", ct_var("Several months")),
                       ("forever", ct_var("Forever"))],
                testid="coupon-duration"), "duration", flex="2"),
            rx.cond(S.coupon_duration == "repeating",
                    field(S, ct_var("Months"), text_input(S, "months", type_="number",
                                                          disabled=S.coupon_locked),
                          "months", flex="1")),
            gap="12px", width="100%", wrap="wrap",
        ),
        spacing="3", width="100%",
    )


def _pause_fields() -> rx.Component:
    return field(S, ct_var("Pause for"), rx.flex(
        text_input(S, "pause_count", type_="number", flex="1"),
        rx.box(select(S.pause_interval, S.set_pause_interval,
                      items=[("period", ct_var("billing periods")),
                             ("month", ct_var("months")), ("week", ct_var("weeks")),
                             ("day", ct_var("days"))],
                      testid="pause-interval"), flex="2"),
        gap="8px", width="100%"), "pause_count")


def _price_change_fields() -> rx.Component:
    return rx.vstack(
        field(S, ct_var("Cheaper price"), rx.cond(
            S.price_choices.length() > 0,
            select(S.target_price, S.set_target_price, choices=S.price_choices,
                   placeholder=ct_var("Choose a price…"), testid="target-price"),
            rx.text(ct_var("No recurring prices yet."), size="2", color=MUTED)),
            "target_price"),
        field(S, ct_var("Switch"), select(
            S.timing, S.set_timing,
            items=[("period_end", ct_var("At the end of the current period")),
                   ("now", ct_var("Now (unused time credited)"))],
            testid="price-timing"), "timing"),
        spacing="3", width="100%",
    )


def _contact_fields() -> rx.Component:
    return rx.vstack(
        field(S, ct_var("Contact link"), text_input(S, "contact_url", type_="url",
                                                    placeholder="https://"), "contact_url"),
        field(S, ct_var("Contact email"), text_input(S, "contact_email", type_="email",
                                                     placeholder="success@…"),
              "contact_email"),
        spacing="3", width="100%",
    )


def _eligibility_fields() -> rx.Component:
    return form_section(
        ct_var("Who may get it"),
        field(S, ct_var("Cancellation reasons"),
              check_list(S.reason_choices, S.draft_reasons, S.toggle_reason, "offer-reasons"),
              "reasons", ct_var("None ticked: any reason.")),
        rx.cond(S.product_choices.length() > 0, field(
            S, ct_var("Products"), check_list(S.product_choices, S.draft_products,
                                              S.toggle_product, "offer-products"),
            "products", ct_var("None ticked: every product."))),
        rx.grid(
            field(S, ct_var("Minimum subscription age (days)"),
                  text_input(S, "min_age", type_="number", placeholder="0"), "min_age"),
            field(S, ct_var("Not again within (days)"),
                  text_input(S, "cooldown", type_="number"), "cooldown", BLANK_UNLIMITED),
            field(S, ct_var("At most per customer"),
                  text_input(S, "max_redemptions", type_="number"), "max_redemptions",
                  BLANK_UNLIMITED),
            columns=rx.breakpoints(initial="1", sm="3"), gap="12px",
            width="100%", align_items="start",
        ),
        rx.text(ct_var("None if the customer accepted any offer this recently. "
                       "Blank: no limit."), size="1", color=FAINT),
    )


def offer_dialog() -> rx.Component:
    """Create or edit an offer: its kind's terms, then who may get it."""
    return form_dialog(
        S, rx.cond(S.editing, ct_var("Edit offer"), ct_var("Create offer")), LEAD,
        field(S, ct_var("Kind"), select(S.kind, S.set_kind, choices=S.kind_choices,
                                        disabled=S.editing, testid="offer-kind"), "kind"),
        field(S, ct_var("Name"), text_input(S, "name"), "name",
              ct_var("For you and your team; customers see the headline.")),
        field(S, ct_var("Headline (optional)"), text_input(S, "headline"), "headline",
              ct_var("Shown above the offer, e.g. “Stay and save 50%”.")),
        rx.match(S.kind,
                 ("coupon", _coupon_fields()),
                 ("pause", _pause_fields()),
                 ("price_change", _price_change_fields()),
                 ("trial_extension", field(S, ct_var("Free days"),
                                           text_input(S, "days", type_="number"), "days")),
                 _contact_fields()),
        _eligibility_fields(),
        testid="offer-form", max_width="640px",
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


def _policy_form() -> rx.Component:
    return rx.vstack(
        rx.cond(S.configuration_choices.length() > 1, rx.box(field(
            S, ct_var("Portal configuration"),
            select(S.policy_configuration, S.select_configuration,
                   choices=S.configuration_choices, testid="policy-configuration"),
            "configuration"), width="100%", max_width="420px")),
        rx.box(rx.foreach(S.policy_rows, _policy_row), width="100%"),
        rx.flex(
            rx.el.label(
                rx.switch(checked=S.policy_comment_required,
                          on_change=S.set_comment_required),
                rx.text(ct_var("Require a comment"), size="2"),
                style={"display": "flex", "gap": "8px", "align_items": "center"}),
            rx.spacer(),
            rx.button(rx.icon("save", size=14), ct_var("Save policy"),
                      on_click=S.save_policy, custom_attrs={"data-testid": "save-policy"}),
            align="center", gap="12px", wrap="wrap", width="100%", padding_top="8px",
        ),
        spacing="3", width="100%",
    )


def policy_card() -> rx.Component:
    """The configuration's offer per reason, and whether a comment is required (once there
    is an offer to choose)."""
    return rx.cond(
        (S.status == "ready") & S.has_offers,
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("route", size=18, color=rx.color("accent", 10)),
                          rx.heading(ct_var("Offer per cancellation reason"), size="4"),
                          align="center", spacing="2"),
                rx.text(ct_var("Which offer the cancel flow shows for each reason, when no "
                               "experiment decides. “Any reason” answers the reasons without "
                               "an offer of their own."), size="2", color=MUTED),
                rx.cond(
                    S.has_configurations,
                    _policy_form(),
                    rx.callout.root(rx.callout.icon(rx.icon("info", size=16)),
                                    rx.callout.text(NEED_CONFIGURATION),
                                    color_scheme="gray", size="1"),
                ),
                spacing="3", width="100%",
            ),
            size=rx.breakpoints(initial="2", sm="3"), margin_top="28px", width="100%",
            custom_attrs={"data-testid": "policy-card"},
        ),
    )

