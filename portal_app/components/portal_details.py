"""Building blocks of the billing details page and the overview's "Billing information".

Texts come from the catalog through :func:`tr`; field labels, country and subdivision
names arrive translated (and in the country's own words) from the view models.
"""

from __future__ import annotations

import reflex as rx

from portal_app.components.portal_widgets import (
    buttons,
    card,
    flow_page,
    form_error,
    outcome_banner,
    page_heading,
    primary,
    secondary,
    tr,
)
from portal_app.i18n import _
from portal_app.routes import PORTAL, PORTAL_DETAILS
from portal_app.state.portal_details import DetailsState
from portal_app.views.billing_details import Choice, DetailField, TaxIdRow

SELECT_STYLE = {
    "width": "100%", "height": "40px", "padding": "0 12px", "border_radius": "8px",
    "border": "1px solid var(--gray-a7)", "background": "var(--color-surface)",
    "font_size": "16px", "color": "var(--gray-12)",
}


def option(choice: Choice) -> rx.Component:
    return rx.el.option(choice.label, value=choice.value)


def field_row(field: DetailField) -> rx.Component:
    """A labelled input or select, its error under it."""
    field_id = "details-" + field.key.replace(".", "-")
    invalid = rx.cond(field.error != "", "true", "false")
    return rx.flex(
        rx.el.label(field.label, rx.cond(field.required, rx.text.span(" *",
                                                                       color="var(--red-10)")),
                    html_for=field_id, font_size="14px", font_weight="500"),
        rx.cond(
            field.kind == "select",
            rx.el.select(rx.foreach(field.options, option), id=field_id, name=field.key,
                         value=field.value, auto_complete=field.autocomplete,
                         on_change=lambda value: DetailsState.set_field(field.key, value),
                         custom_attrs={"aria-invalid": invalid},
                         style={**SELECT_STYLE, "border_color": rx.cond(
                             field.error != "", "var(--red-8)", "var(--gray-a7)")},
                         class_name="portal-details-select"),
            rx.input(id=field_id, name=field.key, value=field.value, type=field.kind,
                     on_change=lambda value: DetailsState.set_field(field.key, value),
                     auto_complete=field.autocomplete, size="3", radius="large",
                     color_scheme=rx.cond(field.error != "", "red", "gray"),
                     custom_attrs={"aria-invalid": invalid},
                     class_name="portal-details-input", debounce_timeout=150),
        ),
        rx.cond(field.error != "",
                rx.text(field.error, size="2", color="var(--red-11)",
                        class_name="portal-field-error")),
        direction="column", spacing="2", width="100%", data_field=field.key,
    )


def group(title: str, fields: rx.Var) -> rx.Component:
    """A titled group of fields in a card."""
    return rx.cond(
        fields.length() > 0,  # type: ignore[attr-defined]
        rx.flex(
            rx.text(tr(title), size="2", weight="bold", color="var(--gray-11)",
                    letter_spacing="0.04em", text_transform="uppercase"),
            card(rx.flex(rx.foreach(fields, field_row), direction="column", spacing="4")),
            direction="column", spacing="3", width="100%",
        ),
    )


def tax_id_row(row: TaxIdRow) -> rx.Component:
    """One tax ID with its removal (asked twice)."""
    return rx.flex(
        rx.flex(
            rx.text(row.value, size="3", weight="bold", font_family="var(--code-font-family)",
                    class_name="portal-tax-id-value"),
            rx.text(row.label, size="2", color="var(--gray-11)"),
            direction="column", spacing="1", min_width="0",
        ),
        rx.spacer(),
        rx.cond(
            DetailsState.removing_tax_id == row.id,
            rx.flex(
                rx.button(tr("Keep"), on_click=DetailsState.keep_tax_id, size="2",
                          variant="soft", color_scheme="gray", radius="large"),
                rx.button(tr("Remove"),
                          on_click=DetailsState.remove_tax_id(row.id, DetailsState.action_nonce),
                          size="2", color_scheme="red", radius="large",
                          class_name="portal-confirm-remove-tax-id"),
                spacing="2",
            ),
            rx.button(rx.icon("trash_2", size=14), tr("Remove"), size="2", variant="ghost",
                      color_scheme="red", radius="large", class_name="portal-remove-tax-id",
                      on_click=DetailsState.ask_remove_tax_id(row.id)),
        ),
        align="center", spacing="3", wrap="wrap", padding_y="12px",
        border_bottom="1px solid var(--gray-a3)", class_name="portal-tax-id",
        data_tax_id=row.id,
    )


def tax_ids_card() -> rx.Component:
    """The customer's tax IDs and the add row."""
    return rx.flex(
        rx.text(tr("Tax IDs"), size="2", weight="bold", color="var(--gray-11)",
                letter_spacing="0.04em", text_transform="uppercase"),
        card(
            rx.flex(
                rx.cond(DetailsState.tax_ids.length() > 0,
                        rx.flex(rx.foreach(DetailsState.tax_ids, tax_id_row),
                                direction="column", margin_top="-12px"),
                        rx.text(tr("No tax IDs yet."), size="2", color="var(--gray-11)")),
                rx.flex(
                    rx.flex(
                        rx.el.label(tr("Type"), html_for="details-tax-type", font_size="14px",
                                    font_weight="500"),
                        rx.el.select(rx.foreach(DetailsState.tax_types, option),
                                     id="details-tax-type", value=DetailsState.tax_type,
                                     on_change=DetailsState.choose_tax_type,
                                     style=SELECT_STYLE, class_name="portal-tax-type"),
                        direction="column", spacing="2",
                        width=rx.breakpoints(initial="100%", sm="45%"),
                    ),
                    rx.flex(
                        rx.el.label(tr("Number"), html_for="details-tax-value",
                                    font_size="14px", font_weight="500"),
                        rx.input(id="details-tax-value", value=DetailsState.tax_value,
                                 placeholder=DetailsState.tax_placeholder,
                                 on_change=DetailsState.set_tax_value, size="3",
                                 radius="large", class_name="portal-tax-value",
                                 color_scheme=rx.cond(DetailsState.tax_error != "", "red",
                                                      "gray")),
                        direction="column", spacing="2", flex="1", min_width="0",
                        width=rx.breakpoints(initial="100%", sm="auto"),
                    ),
                    spacing="3", width="100%", align="start",
                    direction=rx.breakpoints(initial="column", sm="row"),
                ),
                rx.cond(DetailsState.tax_error != "",
                        rx.text(DetailsState.tax_error, size="2", color="var(--red-11)",
                                class_name="portal-tax-error", role="alert")),
                rx.flex(
                    rx.button(rx.icon("plus", size=16), tr("Add tax ID"),
                              on_click=DetailsState.add_tax_id(DetailsState.action_nonce),
                              size="3", radius="large", variant="soft",
                              class_name="portal-add-tax-id",
                              width=rx.breakpoints(initial="100%", sm="auto")),
                    justify="end", width="100%",
                ),
                direction="column", spacing="4",
            ),
        ),
        direction="column", spacing="3", width="100%",
    )


def details_form() -> rx.Component:
    return rx.flex(
        rx.cond(DetailsState.can_save,
                rx.flex(
                    group(_("Contact"), DetailsState.contact),
                    group(_("Billing address"), DetailsState.address),
                    group(_("Shipping address"), DetailsState.shipping),
                    form_error(DetailsState.error),
                    buttons(
                        secondary(_("Cancel"), on_click=rx.redirect(PORTAL)),
                        primary(_("Save"), on_click=DetailsState.save(DetailsState.action_nonce),
                                loading=DetailsState.working, class_name="portal-save-details"),
                    ),
                    direction="column", spacing="5", width="100%",
                )),
        rx.cond(DetailsState.can_tax_ids, tax_ids_card()),
        direction="column", spacing="6", width="100%",
    )


def details_content() -> rx.Component:
    """The billing details page."""
    return flow_page(page_heading(_("Billing information")), outcome_banner(dismissible=False),
                     step=DetailsState.step, error=DetailsState.error, ready=details_form())


# --- the overview's section ------------------------------------------------------------------


def billing_info_card() -> rx.Component:
    """Name, email, address and tax IDs on file, and "Update information"."""
    return card(
        rx.cond(
            DetailsState.has_summary,
            rx.grid(
                rx.cond(DetailsState.summary_name != "",
                        rx.flex(rx.text(tr("Name"), size="1", color="var(--gray-10)"),
                                rx.text(DetailsState.summary_name, size="2", weight="medium",
                                        class_name="portal-info-name"),
                                direction="column", spacing="1")),
                rx.cond(DetailsState.summary_email != "",
                        rx.flex(rx.text(tr("Email"), size="1", color="var(--gray-10)"),
                                rx.text(DetailsState.summary_email, size="2", weight="medium",
                                        word_break="break-all"),
                                direction="column", spacing="1")),
                rx.cond(DetailsState.summary_address.length() > 0,
                        rx.flex(rx.text(tr("Billing address"), size="1",
                                        color="var(--gray-10)"),
                                rx.foreach(DetailsState.summary_address,
                                           lambda line: rx.text(line, size="2")),
                                direction="column", spacing="1",
                                class_name="portal-info-address")),
                rx.cond(DetailsState.summary_tax_ids.length() > 0,
                        rx.flex(rx.text(tr("Tax IDs"), size="1", color="var(--gray-10)"),
                                rx.foreach(DetailsState.summary_tax_ids,
                                           lambda line: rx.text(line, size="2")),
                                direction="column", spacing="1",
                                class_name="portal-info-tax-ids")),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%",
            ),
            rx.text(tr("No billing information on file."), size="2", color="var(--gray-11)"),
        ),
        rx.cond(DetailsState.can_update,
                rx.flex(rx.link(tr("Update information"), href=PORTAL_DETAILS, size="2",
                                weight="medium", underline="hover",
                                class_name="portal-update-details"),
                        justify="end", margin_top="12px")),
        on_mount=DetailsState.load_summary,
    )
