"""The event log's parts: filters, the table (cards on phones), states, the JSON dialog."""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal_app.components.console_widgets import DESKTOP_ONLY, MONO, PHONE_ONLY, ct_var
from portal_app.console.event_views import EventRow
from portal_app.state.console import ALL_TYPES, EventsState


def type_badge(row: EventRow) -> rx.Component:
    """An event type as a colored badge."""
    return rx.badge(row.type, color_scheme=row.tone, variant="soft", radius="full",
                    font_family=MONO, size="1", white_space="nowrap")


def _mono(value: Any, **props: Any) -> rx.Component:
    return rx.text(value, font_family=MONO, size="1", white_space="nowrap", **props)


def filters() -> rx.Component:
    """Type select and customer id field."""
    return rx.flex(
        rx.vstack(
            rx.text(ct_var("Type"), size="1", weight="medium", color=rx.color("gray", 11)),
            rx.select.root(
                rx.select.trigger(min_width="220px", width="100%",
                                  custom_attrs={"data-testid": "type-filter"}),
                rx.select.content(
                    rx.select.item(ct_var("All types"), value=ALL_TYPES),
                    rx.select.separator(),
                    rx.foreach(EventsState.types,
                               lambda t: rx.select.item(t, value=t, font_family=MONO)),
                ),
                value=EventsState.type_filter,
                on_change=EventsState.set_type,
            ),
            spacing="1", width=["100%", "auto"],
        ),
        rx.form(
            rx.vstack(
                rx.text(ct_var("Customer"), size="1", weight="medium",
                        color=rx.color("gray", 11)),
                rx.hstack(
                    rx.input(
                        rx.input.slot(rx.icon("search", size=14)),
                        name="customer",
                        default_value=EventsState.customer_filter,
                        key=EventsState.customer_filter,
                        placeholder=ct_var("cus_…"),
                        font_family=MONO, width=["100%", "240px"],
                        custom_attrs={"data-testid": "customer-filter",
                                      "autocomplete": "off", "spellcheck": "false"},
                    ),
                    rx.button(ct_var("Filter"), type="submit", variant="soft"),
                    spacing="2", width="100%",
                ),
                spacing="1", width="100%",
            ),
            on_submit=EventsState.filter_customer,
            width=["100%", "auto"],
        ),
        rx.cond(
            EventsState.filtered,
            rx.button(rx.icon("x", size=14), ct_var("Clear"), variant="ghost", color_scheme="gray",
                      on_click=EventsState.clear_filters, margin_bottom="2px"),
        ),
        gap="12px", align="end", wrap="wrap", margin_bottom="16px",
    )


def _row(row: EventRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(type_badge(row)),
        rx.table.cell(rx.text(row.created, size="2", white_space="nowrap",
                              color=rx.color("gray", 11))),
        rx.table.cell(_mono(row.object_id)),
        rx.table.cell(rx.cond(row.customer != "", _mono(row.customer),
                              rx.text("—", color=rx.color("gray", 8)))),
        on_click=EventsState.open_event(row.id),
        cursor="pointer",
        _hover={"background": rx.color("gray", 2)},
        custom_attrs={"data-testid": "event-row", "data-event-id": row.id, "tabindex": "0",
                      "role": "button"},
    )


def _table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(ct_var("Type")),
                    rx.table.column_header_cell(ct_var("Created (UTC)")),
                    rx.table.column_header_cell(ct_var("Object")),
                    rx.table.column_header_cell(ct_var("Customer")),
                ),
            ),
            rx.table.body(rx.foreach(EventsState.events, _row)),
            variant="surface", size="2", width="100%",
        ),
        display=DESKTOP_ONLY, width="100%", overflow_x="auto",
    )


def _card(row: EventRow) -> rx.Component:
    return rx.box(
        rx.hstack(type_badge(row), rx.spacer(),
                  rx.text(row.created, size="1", color=rx.color("gray", 10)),
                  align="center", width="100%", spacing="2"),
        rx.vstack(
            _mono(row.object_id, color=rx.color("gray", 12), truncate=True),
            rx.cond(row.customer != "",
                    _mono(row.customer, color=rx.color("gray", 10), truncate=True)),
            spacing="1", margin_top="8px", width="100%",
        ),
        on_click=EventsState.open_event(row.id),
        cursor="pointer", padding="12px 14px", width="100%",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        _hover={"background": rx.color("gray", 2)},
        custom_attrs={"data-testid": "event-card", "data-event-id": row.id, "role": "button"},
    )


def _cards() -> rx.Component:
    return rx.box(
        rx.foreach(EventsState.events, _card),
        display=PHONE_ONLY, flex_direction="column", width="100%",
        border=f"1px solid {rx.color('gray', 5)}", border_radius="10px", overflow="hidden",
        background=rx.color("gray", 1),
    )


def _loading() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.spinner(size="2"), rx.text(ct_var("Loading events…"), size="2",
                                                color=rx.color("gray", 11)),
                  align="center", spacing="2"),
        *[rx.skeleton(rx.box(height="36px", width="100%"), loading=True, width="100%")
          for _ in range(6)],
        spacing="2", width="100%", custom_attrs={"data-testid": "events-loading"},
    )


def _empty() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(rx.icon("inbox", size=24, color=rx.color("gray", 10)),
                      width="48px", height="48px", border_radius="12px",
                      background=rx.color("gray", 3)),
            rx.text(rx.cond(EventsState.filtered, ct_var("No events match these filters"),
                            ct_var("No events yet")),
                    size="4", weight="bold"),
            rx.text(rx.cond(EventsState.filtered,
                            ct_var("Try another type or customer, or clear the filters."),
                            ct_var("Events appear here as customers, subscriptions and "
                                   "invoices change.")),
                    size="2", color=rx.color("gray", 11), text_align="center",
                    max_width="360px"),
            rx.cond(EventsState.filtered,
                    rx.button(ct_var("Clear"), variant="soft", on_click=EventsState.clear_filters)),
            align="center", spacing="3",
        ),
        padding="56px 24px", border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px", background=rx.color("gray", 2),
        custom_attrs={"data-testid": "events-empty"},
    )


def _error() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.callout.text(
            rx.hstack(rx.text(ct_var("The events could not be loaded. Please try again.")),
                      rx.button(ct_var("Try again"), size="1", variant="soft", color_scheme="red",
                                on_click=EventsState.retry),
                      align="center", spacing="3", wrap="wrap"),
        ),
        color_scheme="red", role="alert",
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.text(ct_var("Page"), " ", EventsState.page_number, size="2",
                color=rx.color("gray", 11)),
        rx.spacer(),
        rx.button(rx.icon("chevron-left", size=14), ct_var("Newer"), variant="soft",
                  color_scheme="gray", disabled=~EventsState.has_previous,
                  on_click=EventsState.newer),
        rx.button(ct_var("Older"), rx.icon("chevron-right", size=14), variant="soft",
                  color_scheme="gray", disabled=~EventsState.has_more,
                  on_click=EventsState.older),
        align="center", width="100%", margin_top="16px", spacing="2",
    )


def events_list() -> rx.Component:
    """Loading, error, empty, or the page of events with its pager."""
    return rx.match(
        EventsState.status,
        ("loading", _loading()),
        ("error", _error()),
        rx.cond(
            EventsState.has_events,
            rx.vstack(_table(), _cards(), _pager(), spacing="0", width="100%"),
            _empty(),
        ),
    )


def event_dialog() -> rx.Component:
    """The selected event, as Stripe's event object, pretty-printed."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.hstack(
                rx.vstack(
                    rx.dialog.title(ct_var("Event"), size="4", margin="0"),
                    rx.text(EventsState.selected_id, font_family=MONO, size="1",
                            color=rx.color("gray", 11)),
                    spacing="1", min_width="0",
                ),
                rx.spacer(),
                rx.button(rx.icon("copy", size=14), ct_var("Copy JSON"), variant="soft",
                          color_scheme="gray", size="1",
                          on_click=rx.set_clipboard(EventsState.selected_json)),
                rx.dialog.close(
                    rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray",
                                   aria_label=ct_var("Close")),
                ),
                align="start", width="100%", spacing="2", margin_bottom="12px",
            ),
            rx.dialog.description(EventsState.selected_id, display="none"),
            rx.el.pre(
                EventsState.selected_json,
                style={"font_family": MONO, "font_size": "12px", "line_height": "1.55",
                       "margin": "0", "padding": "14px 16px", "white_space": "pre",
                       "overflow": "auto", "max_height": "65vh",
                       "background": rx.color("gray", 2), "color": rx.color("gray", 12),
                       "border": f"1px solid {rx.color('gray', 5)}", "border_radius": "8px"},
                custom_attrs={"data-testid": "event-json"},
            ),
            max_width="760px", width="calc(100vw - 24px)",
        ),
        open=EventsState.dialog_open,
        on_open_change=EventsState.set_dialog_open,
    )
