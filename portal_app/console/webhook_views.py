"""What the webhooks pages show: endpoint rows, the deliveries log, an attempt's detail.

Two halves. Reads, each scoped to one account (an endpoint or delivery id that
arrives from a browser never reaches another merchant's rows): the endpoints
with their last 24 hours of attempts, a page of an endpoint's deliveries with
the log's filters, a delivery's attempts. Then pure functions from those rows to
what the page shows as it is, every word from the console catalog and every
time formatted for the console's locale. Changes (create, roll the secret,
disable, resend) are the webhook services' (``portal_app/webhooks/``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case
from sqlmodel import col, func, select

from portal_app import i18n
from portal_app.console.event_views import event_tone
from portal_app.console.strings import CONSOLE_LOCALE, ct
from portal_app.console.wording import count, percent
from portal_app.db import UnitOfWork
from portal_app.routes import console_webhook
from portal_app.webhooks import endpoints
from portal_app.webhooks.models import (
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    DELIVERY_SUCCEEDED,
    ENDPOINT_DISABLED,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal_app.webhooks.outbox import ALL_EVENTS
from portal_app.webhooks.worker import DISABLED_REASON_FAILING

STATS_WINDOW = timedelta(hours=24)  # the success rate shown beside each endpoint
DELIVERY_PAGE_SIZE = 25
DELIVERY_STATUSES = (DELIVERY_PENDING, DELIVERY_SUCCEEDED, DELIVERY_FAILED)


# --- reads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptStats:
    """An endpoint's attempts in the stats window: how many, how many succeeded."""

    total: int = 0
    succeeded: int = 0


def attempt_succeeded(status: int | None) -> bool:
    """Whether an attempt's HTTP status is a success (2xx), as Stripe counts it."""
    return status is not None and 200 <= status < 300


def list_endpoints(account_id: str, *, uow: UnitOfWork) -> list[WebhookEndpoint]:
    """The account's endpoints, newest first."""
    with uow:
        return list(uow.session.exec(
            select(WebhookEndpoint).where(WebhookEndpoint.account_id == account_id)
            .order_by(col(WebhookEndpoint.created).desc(), col(WebhookEndpoint.id).desc())))


def attempt_stats(account_id: str, *, uow: UnitOfWork, since: datetime
                  ) -> dict[str, AttemptStats]:
    """Per endpoint id of the account: its attempts since ``since`` and the 2xx among them."""
    ok = (col(WebhookAttempt.http_status) >= 200) & (col(WebhookAttempt.http_status) < 300)
    query = (
        select(WebhookDelivery.endpoint_id, func.count(),
               func.sum(case((ok, 1), else_=0)))
        .join(WebhookDelivery, col(WebhookDelivery.id) == col(WebhookAttempt.delivery_id))
        .where(WebhookAttempt.account_id == account_id,
               col(WebhookAttempt.started_at) >= since)
        .group_by(WebhookDelivery.endpoint_id)
    )
    with uow:
        return {endpoint: AttemptStats(total=int(total), succeeded=int(good or 0))
                for endpoint, total, good in uow.session.exec(query)}


@dataclass(frozen=True)
class DeliveryFilters:
    """The deliveries log's filters: status, event type, created since (None: any)."""

    status: str | None = None
    event_type: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class DeliveryPage:
    """A page of deliveries, newest first, and whether older ones follow."""

    deliveries: list[WebhookDelivery]
    has_more: bool


def list_deliveries(endpoint_id: str, *, account_id: str, uow: UnitOfWork,
                    filters: DeliveryFilters = DeliveryFilters(),
                    limit: int = DELIVERY_PAGE_SIZE, offset: int = 0) -> DeliveryPage:
    """One of the account's endpoints' deliveries, newest first, filtered.

    Raises ResourceMissing when the endpoint is not the account's.
    """
    with uow:
        endpoint = endpoints.retrieve_endpoint(str(endpoint_id), account_id=account_id,
                                               uow=uow)
        query = select(WebhookDelivery).where(WebhookDelivery.account_id == account_id,
                                              WebhookDelivery.endpoint_id == endpoint.id)
        if filters.status is not None:
            query = query.where(WebhookDelivery.status == filters.status)
        if filters.event_type is not None:
            query = query.where(WebhookDelivery.event_type == filters.event_type)
        if filters.since is not None:
            query = query.where(col(WebhookDelivery.created) >= filters.since)
        rows = list(uow.session.exec(
            query.order_by(col(WebhookDelivery.created).desc(), col(WebhookDelivery.id).desc())
            .offset(offset).limit(limit + 1)))
    return DeliveryPage(deliveries=rows[:limit], has_more=len(rows) > limit)


def delivery_event_types(endpoint_id: str, *, account_id: str, uow: UnitOfWork) -> list[str]:
    """The event types among an endpoint's deliveries (the log's type filter), sorted."""
    with uow:
        return sorted(uow.session.exec(
            select(WebhookDelivery.event_type).distinct()
            .where(WebhookDelivery.account_id == account_id,
                   WebhookDelivery.endpoint_id == str(endpoint_id))))


def retrieve_delivery(delivery_id: str, *, account_id: str, uow: UnitOfWork
                      ) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    """One of the account's deliveries and its attempts, newest first.

    Raises ResourceMissing for any other id.
    """
    with uow:
        delivery = uow.get(WebhookDelivery, str(delivery_id), account_id=account_id,
                           param="delivery", label="webhook delivery")
        attempts = list(uow.session.exec(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id,
                                         WebhookAttempt.account_id == account_id)
            .order_by(col(WebhookAttempt.started_at).desc(), col(WebhookAttempt.id).desc())))
        return delivery, attempts


# --- rows ---------------------------------------------------------------------------------


@dataclass
class EndpointRow:
    """One endpoint as the list (and the endpoint page's header) shows it."""

    id: str = ""
    href: str = ""  # the endpoint's console page
    url: str = ""
    description: str = ""
    events: str = ""  # "All events", "customer.created", "3 events"
    enabled: bool = False
    status_label: str = ""
    tone: str = "gray"  # a Radix color for the status badge
    mode: str = ""  # "Live" or "Test"
    success_rate: str = ""  # "97.5%" of the last 24 h, "—" without attempts
    attempts: str = ""  # "40 attempts in 24 h"
    notice: str = ""  # why it is disabled, or since when it fails ("" when neither)
    created: str = ""


@dataclass
class DeliveryRow:
    """One delivery of the log."""

    id: str = ""
    event_id: str = ""
    event_type: str = ""
    event_tone: str = "gray"
    status: str = ""
    status_label: str = ""
    tone: str = "gray"
    attempts: str = ""
    created: str = ""
    result: str = ""  # the last attempt: "HTTP 500", "timeout", "" before the first
    next_attempt: str = ""  # when a pending delivery is tried again ("" otherwise)
    can_resend: bool = False


@dataclass
class AttemptRow:
    """One HTTP attempt of a delivery."""

    id: str
    started: str
    ok: bool
    result: str  # "HTTP 200" or the error ("timeout", "connection refused")
    latency: str
    excerpt: str


def _when(value: datetime | None) -> str:
    return i18n.format_datetime(value, CONSOLE_LOCALE) if value is not None else ""


def events_label(enabled_events: Sequence[str]) -> str:
    """An endpoint's enabled events in words."""
    if ALL_EVENTS in enabled_events:
        return ct("All events")
    if len(enabled_events) == 1:
        return enabled_events[0]
    return ct("{count} events", count=len(enabled_events))


def success_rate(stats: AttemptStats) -> str:
    """The share of 2xx attempts, "—" without attempts."""
    return percent(stats.succeeded / stats.total) if stats.total else "—"


def endpoint_notice(endpoint: WebhookEndpoint) -> str:
    """Why the endpoint is disabled, or since when its deliveries fail ("" if neither)."""
    if endpoint.status == ENDPOINT_DISABLED:
        if endpoint.disabled_reason == DISABLED_REASON_FAILING:
            return ct("Disabled automatically: every delivery failed for 3 days. Fix the "
                      "endpoint, enable it, then resend the failed deliveries.")
        return ct("Disabled: no events are sent to this endpoint.")
    if endpoint.failing_since is not None:
        return ct("Every delivery has failed since {when}. After 3 days of failures the "
                  "endpoint is disabled.", when=_when(endpoint.failing_since))
    return ""


def endpoint_row(endpoint: WebhookEndpoint, stats: AttemptStats) -> EndpointRow:
    """An endpoint and its last 24 hours of attempts as a row."""
    enabled = endpoint.status != ENDPOINT_DISABLED
    attempts = (ct("1 attempt in 24 h") if stats.total == 1 else
                ct("{count} attempts in 24 h", count=count(stats.total)))
    return EndpointRow(
        id=endpoint.id, href=console_webhook(endpoint.id), url=endpoint.url,
        description=endpoint.description or "",
        events=events_label(endpoint.enabled_events), enabled=enabled,
        status_label=ct("Enabled") if enabled else ct("Disabled"),
        tone=("amber" if endpoint.failing_since is not None else "green") if enabled
        else "red",
        mode=ct("Live") if endpoint.livemode else ct("Test"),
        success_rate=success_rate(stats), attempts=attempts,
        notice=endpoint_notice(endpoint), created=_when(endpoint.created))


def endpoint_rows(endpoints: Iterable[WebhookEndpoint], stats: Mapping[str, AttemptStats]
                  ) -> list[EndpointRow]:
    """The endpoint list's rows."""
    return [endpoint_row(e, stats.get(e.id, AttemptStats())) for e in endpoints]


def auto_disabled(endpoints: Iterable[WebhookEndpoint]) -> list[str]:
    """The URLs of the endpoints disabled for failing (the console's notice names them)."""
    return [e.url for e in endpoints
            if e.status == ENDPOINT_DISABLED and e.disabled_reason == DISABLED_REASON_FAILING]


def delivery_status_label(status: str) -> str:
    """A delivery's status in words."""
    return {DELIVERY_PENDING: ct("Pending"), DELIVERY_SUCCEEDED: ct("Succeeded"),
            DELIVERY_FAILED: ct("Failed")}.get(status, status)


def attempt_result(http_status: int | None, error: str | None) -> str:
    """An attempt's outcome in a few characters: "HTTP 500", or the error."""
    if http_status is not None:
        return ct("HTTP {status}", status=http_status)
    return error or ""


def delivery_row(delivery: WebhookDelivery) -> DeliveryRow:
    """A delivery as a row of the log."""
    pending = delivery.status == DELIVERY_PENDING
    return DeliveryRow(
        id=delivery.id, event_id=delivery.event_id, event_type=delivery.event_type,
        event_tone=event_tone(delivery.event_type), status=delivery.status,
        status_label=delivery_status_label(delivery.status),
        tone={DELIVERY_SUCCEEDED: "green", DELIVERY_FAILED: "red"}.get(delivery.status,
                                                                       "amber"),
        attempts=count(delivery.attempt_count), created=_when(delivery.created),
        result=attempt_result(delivery.last_http_status, delivery.last_error),
        next_attempt=_when(delivery.next_attempt_at) if pending else "",
        can_resend=not pending)


def attempt_row(attempt: WebhookAttempt) -> AttemptRow:
    """One attempt as its detail shows it."""
    return AttemptRow(
        id=attempt.id, started=_when(attempt.started_at),
        ok=attempt_succeeded(attempt.http_status),
        result=attempt_result(attempt.http_status, attempt.error),
        latency=ct("{ms} ms", ms=count(attempt.latency_ms)),
        excerpt=attempt.response_excerpt or "")
