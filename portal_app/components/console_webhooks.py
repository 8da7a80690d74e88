"""The webhooks pages' parts: the endpoint list, the endpoint form and its events picker,
the secret shown once, the deliveries log, an attempt's detail, resends.

Every word comes from the console catalog (``ct_var``); every value arrives
formatted from :mod:`portal_app.state.console_webhooks`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal_app.components.console_widgets import (
    BORDER,
    FAINT,
    MONO,
    MUTED,
    ct_var,
    empty,
    load_error,
    loading,
    rows_shown,
)
from portal_app.console.webhook_forms import ALL_EVENTS, EVENT_GROUPS
from portal_app.console.webhook_views import AttemptRow, DeliveryRow, EndpointRow
from portal_app.routes import CONSOLE_WEBHOOKS
from portal_app.state.console_webhooks import (
    ALL,
    WebhookEndpointState,
    WebhookNoticeState,
    WebhooksState,
)

W = WebhooksState
E = WebhookEndpointState
TITLE = ct_var("Webhooks")
LEAD = ct_var("Endpoints on your servers that receive your account's events, signed as "
              "Stripe signs them.")


def _mono(value: Any, **props: Any) -> rx.Component:
    return rx.text(value, font_family=MONO, **{"size": "1", **props})


def _badge(text: Any, tone: Any, **props: Any) -> rx.Component:
    return rx.badge(text, color_scheme=tone, variant="soft", radius="full",
                    white_space="nowrap", **props)


# --- the notice ------------------------------------------------------------------------


def disabled_notice(urls: Any) -> rx.Component:
    """A callout naming the endpoints disabled after days of failures (if any)."""
    return rx.cond(
        urls.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert")),
            rx.callout.text(rx.vstack(
                rx.text(ct_var("Webhook endpoints were disabled after failing for 3 days"),
                        weight="bold"),
                rx.foreach(urls, lambda url: _mono(url, word_break="break_all")),
                rx.link(ct_var("Review webhooks"), href=CONSOLE_WEBHOOKS, size="2"),
                spacing="1")),
            color_scheme="red", role="alert", margin_bottom="20px",
            custom_attrs={"data-testid": "webhooks-disabled-notice"},
        ),
    )


def console_notice() -> rx.Component:
    """The notice for the console's overview page (``WebhookNoticeState``)."""
    return disabled_notice(WebhookNoticeState.disabled_urls)


# --- the endpoint form -------------------------------------------------------------------


def _problem(state: Any, name: str) -> rx.Component:
    return rx.cond(
        state.error_field == name,
        rx.hstack(rx.icon("circle-alert", size=13, flex_shrink="0"),
                  rx.text(state.form_error, size="1"),
                  color=rx.color("red", 11), spacing="1", align="center",
                  custom_attrs={"data-testid": "field-error"}),
    )


def _input(state: Any, name: str, label: Any, placeholder: str, default: Any,
           mono: bool = False) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium", as_="label"),
        rx.input(name=name, default_value=default, placeholder=placeholder, width="100%",
                 font_family=MONO if mono else None,
                 color_scheme=rx.cond(state.error_field == name, "red", "indigo"),
                 variant=rx.cond(state.error_field == name, "soft", "surface"),
                 custom_attrs={"data-field": name, "autocomplete": "off",
                               "spellcheck": "false"}),
        _problem(state, name),
        spacing="1", width="100%",
    )


def _event_box(state: Any, event_type: str) -> rx.Component:
    return rx.el.label(
        rx.checkbox(checked=state.draft_events.contains(event_type),
                    on_change=lambda checked: state.toggle_event(event_type, checked)),
        _mono(event_type, word_break="break_all"),
        style={"display": "flex", "gap": "8px", "align_items": "center", "cursor": "pointer",
               "padding": "3px 0"},
        custom_attrs={"data-event-type": event_type},
    )


def events_picker(state: Any) -> rx.Component:
    """``*`` (every event) or single types, grouped by the object they are about."""
    every = rx.el.label(
        rx.checkbox(checked=state.draft_events.contains(ALL_EVENTS),
                    on_change=lambda checked: state.toggle_event(ALL_EVENTS, checked)),
        rx.text(ct_var("All events"), size="2", weight="medium"),
        _mono("*", color=FAINT),
        style={"display": "flex", "gap": "8px", "align_items": "center", "cursor": "pointer",
               "padding": "8px 10px", "border": BORDER, "border_radius": "6px"},
        custom_attrs={"data-event-type": ALL_EVENTS},
    )
    groups = rx.box(
        *[rx.box(rx.text(group, size="1", weight="bold", color=FAINT,
                         text_transform="uppercase", letter_spacing="0.06em"),
                 *[_event_box(state, t) for t in types], padding_bottom="10px")
          for group, types in EVENT_GROUPS],
        max_height="240px", overflow_y="auto", padding="8px 10px", border=BORDER,
        border_radius="6px", width="100%", background=rx.color("gray", 2),
        opacity=rx.cond(state.draft_events.contains(ALL_EVENTS), "0.5", "1"),
    )
    return rx.vstack(
        rx.text(ct_var("Events to send"), size="2", weight="medium"),
        every, groups, _problem(state, "events"),
        spacing="2", width="100%", custom_attrs={"data-testid": "events-picker"},
    )


def _form_error(state: Any) -> rx.Component:
    return rx.cond(
        (state.form_error != "") & (state.error_field == ""),
        rx.callout.root(rx.callout.icon(rx.icon("circle-alert", size=16)),
                        rx.callout.text(state.form_error), color_scheme="red", size="1",
                        width="100%", custom_attrs={"data-testid": "form-error"}),
    )


def _endpoint_dialog(state: Any, title: Any, defaults: tuple[Any, Any],
                     *extra: rx.Component) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title, size="5"),
            rx.dialog.description(LEAD, size="2", color=MUTED, margin_bottom="16px"),
            rx.form(
                rx.vstack(
                    _input(state, "url", ct_var("Endpoint URL"),
                           "https://example.com/webhooks", defaults[0], mono=True),
                    _input(state, "description", ct_var("Description"), "", defaults[1]),
                    *extra,
                    events_picker(state),
                    _form_error(state),
                    rx.hstack(
                        rx.dialog.close(rx.button(ct_var("Cancel"), variant="soft",
                                                  color_scheme="gray", type="button")),
                        rx.button(ct_var("Save"), type="submit",
                                  custom_attrs={"data-testid": "dialog-save"}),
                        spacing="2", justify="end", width="100%",
                    ),
                    spacing="4", width="100%",
                ),
                on_submit=state.save, key=state.form_key, width="100%",
                custom_attrs={"data-testid": "endpoint-form"},
            ),
            max_width="560px", width="calc(100vw - 24px)", max_height="92vh",
        ),
        open=state.dialog_open, on_open_change=state.set_dialog_open,
    )


def add_dialog() -> rx.Component:
    """The dialog that adds an endpoint (test or live mode)."""
    mode = rx.vstack(
        rx.text(ct_var("Mode"), size="2", weight="medium"),
        rx.segmented_control.root(
            rx.segmented_control.item(ct_var("Test"), value="test"),
            rx.segmented_control.item(ct_var("Live"), value="live"),
            value=rx.cond(W.livemode, "live", "test"), on_change=W.set_livemode,
        ),
        rx.text(ct_var("A live endpoint may only call public addresses; a test endpoint may "
                       "also call http://localhost."), size="1", color=FAINT),
        spacing="1", width="100%",
    )
    return _endpoint_dialog(W, ct_var("Add an endpoint"), ("", ""), mode)


def edit_dialog() -> rx.Component:
    """The dialog that changes an endpoint's URL, description and events."""
    return _endpoint_dialog(E, ct_var("Edit the endpoint"),
                            (E.defaults["url"], E.defaults["description"]))


def secret_dialog(state: Any) -> rx.Component:
    """The signing secret, shown this once (closing forgets it)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(ct_var("Signing secret"), size="5"),
            rx.dialog.description(
                ct_var("Copy it now: it is shown only once. Verify each delivery with "
                       "stripe.Webhook.construct_event(payload, header, secret)."),
                size="2", color=MUTED, margin_bottom="16px"),
            rx.hstack(
                rx.text(state.secret, font_family=MONO, size="2", word_break="break_all",
                        flex="1", min_width="0", padding="8px 10px", border_radius="6px",
                        background=rx.color("accent", 3), color=rx.color("accent", 11),
                        custom_attrs={"data-testid": "endpoint-secret"}),
                rx.icon_button(rx.icon("copy", size=16), variant="soft",
                               on_click=rx.set_clipboard(state.secret),
                               aria_label=ct_var("Copy")),
                align="center", spacing="2", width="100%",
            ),
            rx.hstack(rx.dialog.close(rx.button(ct_var("Done"),
                                                custom_attrs={"data-testid": "secret-done"})),
                      justify="end", margin_top="20px"),
            max_width="520px", width="calc(100vw - 24px)",
        ),
        open=state.secret_open, on_open_change=state.set_secret_open,
    )


# --- the endpoint list -------------------------------------------------------------------


def add_button() -> rx.Component:
    """Open the add dialog."""
    return rx.button(rx.icon("plus", size=14), ct_var("Add endpoint"), on_click=W.open_new,
                     custom_attrs={"data-testid": "add-endpoint"})


def _status(row: EndpointRow) -> rx.Component:
    return _badge(row.status_label, row.tone)


def _endpoint_cells(row: EndpointRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(
            rx.link(_mono(row.url, size="2", weight="medium", word_break="break_all"),
                    href=row.href),
            rx.cond(row.description != "", rx.text(row.description, size="1", color=FAINT)),
            spacing="1")),
        rx.table.cell(rx.hstack(_status(row), _badge(row.mode, "gray"), spacing="1")),
        rx.table.cell(rx.text(row.events, size="2")),
        rx.table.cell(rx.vstack(rx.text(row.success_rate, size="2", weight="medium"),
                                rx.text(row.attempts, size="1", color=FAINT), spacing="0")),
        rx.table.cell(rx.link(rx.button(ct_var("Open"), size="1", variant="soft"),
                              href=row.href)),
        custom_attrs={"data-testid": "endpoint-row", "data-endpoint-id": row.id},
    )


def _endpoint_card(row: EndpointRow) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.hstack(_status(row), _badge(row.mode, "gray"), rx.spacer(),
                      rx.text(row.success_rate, size="2", weight="medium"),
                      width="100%", align="center"),
            _mono(row.url, size="2", word_break="break_all", color=rx.color("gray", 12)),
            rx.text(row.events, " · ", row.attempts, size="1", color=FAINT),
            spacing="2", width="100%",
        ),
        href=row.href, underline="none", padding="12px 14px", width="100%",
        border_bottom=BORDER, custom_attrs={"data-testid": "endpoint-card"},
    )


def endpoints_list() -> rx.Component:
    """Loading, error, empty, or the endpoints."""
    none_yet = empty("webhook", ct_var("No webhook endpoints yet"),
                     ct_var("Add an endpoint to receive events as they happen: cancellations "
                            "and their reasons, saved customers, plan changes, invoices."),
                     add_button(), "endpoints-empty")
    return rx.match(
        W.status,
        ("loading", loading(ct_var("Loading endpoints…"), "endpoints-loading")),
        ("error", load_error(W.retry)),
        rx.cond(W.has_endpoints,
                rows_shown([ct_var("URL"), ct_var("Status"), ct_var("Events"),
                            ct_var("Success (24 h)")], W.endpoints, _endpoint_cells,
                           _endpoint_card),
                none_yet),
    )


# --- one endpoint ------------------------------------------------------------------------


def _fact(label: Any, value: Any, **props: Any) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color=FAINT), rx.text(value, size="2", **props),
                     spacing="0", min_width="120px")


def endpoint_header() -> rx.Component:
    """The endpoint's URL, status, facts, notice and actions."""
    row = E.shown
    actions = rx.flex(
        rx.button(rx.icon("pencil", size=13), ct_var("Edit"), variant="soft",
                  color_scheme="gray", on_click=E.open_edit,
                  custom_attrs={"data-testid": "edit-endpoint"}),
        rx.button(rx.icon("key-round", size=13), ct_var("Roll secret"), variant="soft",
                  color_scheme="gray", on_click=E.set_roll_open(True),
                  custom_attrs={"data-testid": "roll-secret"}),
        rx.cond(row.enabled,
                rx.button(ct_var("Disable"), variant="soft", color_scheme="red",
                          on_click=E.set_enabled(False),
                          custom_attrs={"data-testid": "disable-endpoint"}),
                rx.button(ct_var("Enable"), variant="solid", color_scheme="green",
                          on_click=E.set_enabled(True),
                          custom_attrs={"data-testid": "enable-endpoint"})),
        gap="8px", wrap="wrap",
    )
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text(ct_var("All endpoints"),
                                                                   size="2"),
                          align="center", spacing="1"),
                href=CONSOLE_WEBHOOKS, color=MUTED, underline="none"),
        rx.flex(
            rx.vstack(
                rx.hstack(_status(row), _badge(row.mode, "gray"), spacing="1"),
                rx.heading(row.url, size="5", font_family=MONO, word_break="break_all",
                           custom_attrs={"data-testid": "endpoint-url"}),
                rx.cond(row.description != "", rx.text(row.description, size="2",
                                                       color=MUTED)),
                spacing="2", flex="1", min_width="260px",
            ),
            actions,
            gap="16px", align="start", justify="between", wrap="wrap", width="100%",
        ),
        rx.cond(row.notice != "", rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert")), rx.callout.text(row.notice),
            color_scheme=rx.cond(row.enabled, "amber", "red"), role="alert", width="100%",
            custom_attrs={"data-testid": "endpoint-notice"})),
        rx.flex(
            _fact(ct_var("Events"), row.events),
            _fact(ct_var("Success (24 h)"), row.success_rate, weight="medium"),
            _fact(ct_var("Attempts"), row.attempts),
            _fact(ct_var("Created (UTC)"), row.created),
            _fact(ct_var("ID"), row.id, font_family=MONO),
            gap="24px", wrap="wrap", padding="14px 16px", border=BORDER, border_radius="10px",
            background=rx.color("gray", 2), width="100%",
        ),
        spacing="4", width="100%", margin_bottom="28px",
    )


def _filter_select(label: Any, value: Any, on_change: Any, items: list[rx.Component],
                   testid: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", weight="medium", color=MUTED),
        rx.select.root(
            rx.select.trigger(min_width="170px", width="100%",
                              custom_attrs={"data-testid": testid}),
            rx.select.content(*items, position="popper"),
            value=value, on_change=on_change,
        ),
        spacing="1", width=["100%", "auto"],
    )


def delivery_filters() -> rx.Component:
    """Status, event type and since, and resend all failed."""
    return rx.flex(
        _filter_select(ct_var("Status"), E.status_filter, E.set_status_filter, [
            rx.select.item(ct_var("All statuses"), value=ALL),
            rx.select.item(ct_var("Pending"), value="pending"),
            rx.select.item(ct_var("Succeeded"), value="succeeded"),
            rx.select.item(ct_var("Failed"), value="failed"),
        ], "status-filter"),
        _filter_select(ct_var("Event type"), E.type_filter, E.set_type_filter, [
            rx.select.item(ct_var("All types"), value=ALL),
            rx.foreach(E.types, lambda t: rx.select.item(t, value=t, font_family=MONO)),
        ], "event-type-filter"),
        rx.form(
            rx.vstack(
                rx.text(ct_var("Since"), size="1", weight="medium", color=MUTED),
                rx.hstack(
                    rx.input(name="since", type="date", default_value=E.since_filter,
                             key=E.since_filter, width=["100%", "160px"],
                             custom_attrs={"data-testid": "since-filter"}),
                    rx.button(ct_var("Filter"), type="submit", variant="soft"),
                    spacing="2", width="100%"),
                spacing="1", width="100%"),
            on_submit=E.filter_since, width=["100%", "auto"],
        ),
        rx.cond(E.filtered, rx.button(rx.icon("x", size=14), ct_var("Clear"), variant="ghost",
                                      color_scheme="gray", on_click=E.clear_filters)),
        rx.spacer(),
        rx.button(rx.icon("rotate-cw", size=14), ct_var("Resend failed…"), variant="soft",
                  on_click=E.set_resend_open(True),
                  custom_attrs={"data-testid": "resend-failed"}),
        gap="12px", align="end", wrap="wrap", margin_bottom="12px", width="100%",
    )


def _resend_button(row: DeliveryRow) -> rx.Component:
    return rx.cond(row.can_resend, rx.button(
        rx.icon("rotate-cw", size=12), ct_var("Resend"), size="1", variant="soft",
        on_click=E.resend(row.id).stop_propagation,
        custom_attrs={"data-testid": "resend-delivery"}))


def _delivery_cells(row: DeliveryRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(_badge(row.status_label, row.tone)),
        rx.table.cell(rx.vstack(
            _badge(row.event_type, row.event_tone, font_family=MONO, size="1"),
            _mono(row.event_id, color=FAINT), spacing="1")),
        rx.table.cell(rx.text(row.created, size="2", white_space="nowrap", color=MUTED)),
        rx.table.cell(rx.vstack(
            rx.text(row.result, size="2"),
            rx.cond(row.next_attempt != "", rx.text(ct_var("Next try"), " ", row.next_attempt,
                                                    size="1", color=FAINT)),
            spacing="0")),
        rx.table.cell(rx.text(row.attempts, size="2")),
        rx.table.cell(_resend_button(row)),
        on_click=E.open_delivery(row.id), cursor="pointer",
        _hover={"background": rx.color("gray", 2)},
        custom_attrs={"data-testid": "delivery-row", "data-delivery-id": row.id,
                      "data-status": row.status, "role": "button", "tabindex": "0"},
    )


def _delivery_card(row: DeliveryRow) -> rx.Component:
    return rx.box(
        rx.hstack(_badge(row.status_label, row.tone), rx.spacer(),
                  rx.text(row.created, size="1", color=FAINT), align="center", width="100%"),
        rx.vstack(
            _mono(row.event_type, color=rx.color("gray", 12)),
            rx.hstack(rx.text(row.result, size="1", color=MUTED), rx.spacer(),
                      _resend_button(row), width="100%", align="center"),
            spacing="1", margin_top="6px", width="100%",
        ),
        on_click=E.open_delivery(row.id), cursor="pointer", padding="12px 14px",
        width="100%", border_bottom=BORDER,
        custom_attrs={"data-testid": "delivery-card", "data-delivery-id": row.id,
                      "role": "button"},
    )


def _deliveries_empty() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("inbox", size=24, color=FAINT),
            rx.text(rx.cond(E.filtered, ct_var("No deliveries match these filters"),
                            ct_var("No deliveries yet")), size="3", weight="bold"),
            rx.text(rx.cond(E.filtered, ct_var("Try another status, type or day."),
                            ct_var("Each event this endpoint listens to is delivered here.")),
                    size="2", color=MUTED, text_align="center"),
            align="center", spacing="2"),
        padding="40px 24px", border=f"1px dashed {rx.color('gray', 6)}", border_radius="12px",
        background=rx.color("gray", 2), custom_attrs={"data-testid": "deliveries-empty"},
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.text(ct_var("Page"), " ", E.page_number, size="2", color=MUTED),
        rx.spacer(),
        rx.button(rx.icon("chevron-left", size=14), ct_var("Newer"), variant="soft",
                  color_scheme="gray", disabled=~E.has_previous, on_click=E.newer),
        rx.button(ct_var("Older"), rx.icon("chevron-right", size=14), variant="soft",
                  color_scheme="gray", disabled=~E.has_more, on_click=E.older),
        align="center", width="100%", margin_top="12px", spacing="2",
    )


def deliveries_log() -> rx.Component:
    """The deliveries log: its filters, then loading, error, empty or a page of rows."""
    return rx.vstack(
        rx.heading(ct_var("Deliveries"), size="4"),
        delivery_filters(),
        rx.cond(E.filter_error != "", rx.text(E.filter_error, size="2",
                                              color=rx.color("red", 11))),
        rx.match(
            E.deliveries_status,
            ("loading", loading(ct_var("Loading deliveries…"), "deliveries-loading")),
            ("error", load_error(E.retry)),
            rx.cond(E.has_deliveries,
                    rx.vstack(rows_shown([ct_var("Status"), ct_var("Event"),
                                          ct_var("Created (UTC)"), ct_var("Last attempt"),
                                          ct_var("Attempts")],
                                         E.deliveries, _delivery_cells, _delivery_card),
                              _pager(), spacing="0", width="100%"),
                    _deliveries_empty()),
        ),
        spacing="3", width="100%",
    )


def _attempt(row: AttemptRow) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon(rx.cond(row.ok, "circle-check", "circle-x"), size=16,
                    color=rx.cond(row.ok, rx.color("green", 10), rx.color("red", 10))),
            rx.text(row.result, size="2", weight="bold"),
            rx.spacer(),
            rx.text(row.latency, size="1", color=FAINT),
            align="center", width="100%", spacing="2"),
        rx.text(row.started, size="1", color=MUTED),
        rx.cond(row.excerpt != "", rx.el.pre(
            row.excerpt,
            style={"font_family": MONO, "font_size": "12px", "margin": "0",
                   "padding": "8px 10px", "white_space": "pre-wrap", "word_break": "break-all",
                   "max_height": "160px", "overflow": "auto",
                   "background": rx.color("gray", 2), "border": BORDER,
                   "border_radius": "6px", "width": "100%"})),
        spacing="1", width="100%", padding="10px 0", border_bottom=BORDER,
        custom_attrs={"data-testid": "attempt"},
    )


def attempt_dialog() -> rx.Component:
    """One delivery: its event, status and every attempt (time, status, latency, response)."""
    row = E.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.hstack(
                rx.vstack(
                    rx.dialog.title(row.event_type, size="4", margin="0", font_family=MONO),
                    _mono(row.event_id, color=MUTED),
                    spacing="1", min_width="0"),
                rx.spacer(),
                rx.dialog.close(rx.icon_button(rx.icon("x", size=16), variant="ghost",
                                               color_scheme="gray",
                                               aria_label=ct_var("Close"))),
                align="start", width="100%"),
            rx.dialog.description(row.id, display="none"),
            rx.hstack(_badge(row.status_label, row.tone), rx.text(row.created, size="1",
                                                                  color=FAINT),
                      rx.spacer(), _resend_button(row), align="center", width="100%",
                      margin="12px 0"),
            rx.cond(E.attempts.length() > 0,
                    rx.box(rx.foreach(E.attempts, _attempt), width="100%"),
                    rx.text(ct_var("Not attempted yet."), size="2", color=MUTED)),
            max_width="640px", width="calc(100vw - 24px)", max_height="90vh",
            custom_attrs={"data-testid": "attempt-dialog"},
        ),
        open=E.detail_open, on_open_change=E.set_detail_open,
    )


def resend_dialog() -> rx.Component:
    """Resend every failed delivery of events since a day."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(ct_var("Resend failed deliveries"), size="4"),
            rx.dialog.description(
                ct_var("Every event whose delivery failed since this day is sent again "
                       "(events of the last 30 days)."), size="2", color=MUTED,
                margin_bottom="12px"),
            rx.form(
                rx.vstack(
                    rx.input(name="since", type="date", width="100%",
                             custom_attrs={"data-testid": "resend-since"}),
                    rx.cond(E.resend_error != "", rx.text(E.resend_error, size="2",
                                                          color=rx.color("red", 11))),
                    rx.hstack(
                        rx.dialog.close(rx.button(ct_var("Cancel"), variant="soft",
                                                  color_scheme="gray", type="button")),
                        rx.button(ct_var("Resend"), type="submit",
                                  custom_attrs={"data-testid": "resend-confirm"}),
                        spacing="2", justify="end", width="100%"),
                    spacing="3", width="100%"),
                on_submit=E.resend_failed, width="100%"),
            max_width="440px", width="calc(100vw - 24px)",
        ),
        open=E.resend_open, on_open_change=E.set_resend_open,
    )


def roll_dialog() -> rx.Component:
    """Are you sure? before a new secret replaces the current one."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(ct_var("Roll the signing secret?")),
            rx.alert_dialog.description(
                ct_var("The current secret stops signing at once: update your server with "
                       "the new one."), size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(ct_var("Cancel"), variant="soft",
                                                 color_scheme="gray")),
                rx.alert_dialog.action(rx.button(ct_var("Roll secret"), color_scheme="red",
                                                 on_click=E.roll_secret,
                                                 custom_attrs={"data-testid": "roll-confirm"})),
                spacing="3", justify="end", margin_top="16px"),
            max_width="440px",
        ),
        open=E.roll_open, on_open_change=E.set_roll_open,
    )


def endpoint_detail() -> rx.Component:
    """Loading, missing, error, or the endpoint with its log and dialogs."""
    missing = empty("search-x", ct_var("This webhook endpoint does not exist (any more)."),
                    LEAD, rx.link(rx.button(ct_var("All endpoints")), href=CONSOLE_WEBHOOKS),
                    "endpoint-missing")
    return rx.match(
        E.status,
        ("loading", loading(ct_var("Loading the endpoint…"), "endpoint-loading")),
        ("error", load_error(E.retry)),
        ("missing", missing),
        rx.box(endpoint_header(), deliveries_log(), edit_dialog(), secret_dialog(E),
               attempt_dialog(), resend_dialog(), roll_dialog(), width="100%"),
    )
