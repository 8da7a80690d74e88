"""Resending webhooks: one delivery again, or every failed delivery of an endpoint since a time.

A resend never rewrites history: the delivery it resends keeps its status and
attempts, and a NEW pending delivery of the same event to the same endpoint is
due at once (the worker sends it like any other, with the usual retries). If
that event already has a pending delivery to the endpoint, that one is
returned instead (resending twice sends once). Only events of the last 30 days
can be resent (older ones are past the events API's window), and only to an
enabled endpoint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select

from portal_app.clock import to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.webhooks.events import EVENT_WINDOW
from portal_app.webhooks.models import (
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    DELIVERY_SUCCEEDED,
    ENDPOINT_ENABLED,
    WebhookDelivery,
    WebhookEndpoint,
)


def render_delivery(delivery: WebhookDelivery) -> dict[str, Any]:
    """A delivery as the API shows it (a Portico object: Stripe shows these only in its dashboard)."""
    return {
        "id": delivery.id,
        "object": "portico.webhook_delivery",
        "attempt_count": delivery.attempt_count,
        "created": to_unix(delivery.created),
        "delivered_at": to_unix(delivery.delivered_at),
        "endpoint": delivery.endpoint_id,
        "event": delivery.event_id,
        "event_type": delivery.event_type,
        "last_error": delivery.last_error,
        "last_http_status": delivery.last_http_status,
        "next_attempt": to_unix(delivery.next_attempt_at),
        "status": delivery.status,
    }


def _enabled_endpoint(endpoint_id: str, *, account_id: str, uow: UnitOfWork,
                      param: str = "id") -> WebhookEndpoint:
    endpoint = uow.get(WebhookEndpoint, endpoint_id, account_id=account_id, param=param,
                       label="webhook_endpoint")
    if endpoint.status != ENDPOINT_ENABLED:
        raise InvalidRequest(f"The webhook endpoint {endpoint.id} is disabled: enable it "
                             "before resending.", param=param)
    return endpoint


def _resend(delivery: WebhookDelivery, *, uow: UnitOfWork, now: datetime) -> WebhookDelivery:
    pending = uow.session.exec(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == delivery.endpoint_id,
        WebhookDelivery.event_id == delivery.event_id,
        WebhookDelivery.status == DELIVERY_PENDING)).first()
    if pending is not None:
        return pending
    again = WebhookDelivery(account_id=delivery.account_id, endpoint_id=delivery.endpoint_id,
                            event_id=delivery.event_id, event_type=delivery.event_type,
                            created=delivery.created, next_attempt_at=now)
    uow.add(again)
    return again


def resend_delivery(delivery_id: str, *, account_id: str, uow: UnitOfWork,
                    endpoint_id: str | None = None) -> WebhookDelivery:
    """A pending delivery of ``delivery_id``'s event to its endpoint, due now.

    ``endpoint_id``, when given, must be the delivery's endpoint. Raises
    ResourceMissing, InvalidRequest (endpoint disabled, event past 30 days).
    """
    with uow:
        now = uow.clock()
        delivery = uow.get(WebhookDelivery, delivery_id, account_id=account_id,
                           param="delivery", label="webhook delivery")
        if endpoint_id is not None and delivery.endpoint_id != endpoint_id:
            raise ResourceMissing(f"No such webhook delivery: '{delivery_id}'",
                                  param="delivery")
        _enabled_endpoint(delivery.endpoint_id, account_id=account_id, uow=uow)
        if delivery.created < now - EVENT_WINDOW:
            raise InvalidRequest("Only events of the last 30 days can be resent.",
                                 param="delivery")
        again = _resend(delivery, uow=uow, now=now)
        uow.commit()
        return again


def resend_failed(endpoint_id: str, *, account_id: str, uow: UnitOfWork, since: datetime
                  ) -> list[WebhookDelivery]:
    """Resend every failed delivery to the endpoint of events since ``since``, oldest first.

    ``since`` is clamped to the last 30 days. An event with several failed deliveries
    is resent once; one delivered successfully since is not resent. Raises ResourceMissing, InvalidRequest (endpoint disabled).
    """
    with uow:
        now = uow.clock()
        endpoint = _enabled_endpoint(endpoint_id, account_id=account_id, uow=uow)
        since = max(since, now - EVENT_WINDOW)
        failed = uow.session.exec(select(WebhookDelivery).where(
            WebhookDelivery.account_id == account_id,
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DELIVERY_FAILED,
            col(WebhookDelivery.created) >= since,
        ).order_by(col(WebhookDelivery.created), col(WebhookDelivery.id))).all()
        out: list[WebhookDelivery] = []
        # Events delivered since (an earlier resend succeeded) are not sent again.
        seen = set(uow.session.exec(select(WebhookDelivery.event_id).where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DELIVERY_SUCCEEDED,
            col(WebhookDelivery.created) >= since)).all())
        for delivery in failed:
            if delivery.event_id in seen:
                continue
            seen.add(delivery.event_id)
            again = _resend(delivery, uow=uow, now=now)
            uow.flush()  # the next event's pending check sees this one
            out.append(again)
        uow.commit()
        return out
