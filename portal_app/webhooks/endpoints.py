"""Webhook endpoints: create, retrieve, update, list, delete, roll the signing secret.

An endpoint is one merchant URL with the event types it listens to (``["*"]``
for all). Its ``whsec_`` secret is shown once, on create (and on a roll, a
Portico extension for the console); it is stored sealed
(:mod:`portal_app.webhooks.signing`). The URL rules, and the refusal of private
networks for live-mode endpoints, are :mod:`portal_app.webhooks.addresses`.
Deleting an endpoint deletes its deliveries and their attempts with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import stripe
from sqlalchemy import delete
from sqlmodel import col, func, select

from portal_app.clock import to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.ids import random_id
from portal_app.stripe_shapes import complete
from portal_app.webhooks.addresses import check_destination, check_url
from portal_app.webhooks.models import (
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    ENDPOINT_DISABLED,
    ENDPOINT_ENABLED,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal_app.webhooks.outbox import ALL_EVENTS
from portal_app.webhooks.signing import new_secret, open_secret, seal_secret

MAX_ENDPOINTS = 16  # per account, as Stripe's
MAX_DESCRIPTION_LENGTH = 5000
EVENT_TYPE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_*]+)+$|^\*$")
API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")


@dataclass(frozen=True)
class CreatedEndpoint:
    """A new (or re-keyed) endpoint and its secret in plaintext, shown this once."""

    endpoint: WebhookEndpoint
    secret: str


def render_webhook_endpoint(endpoint: WebhookEndpoint, *, secret: str | None = None
                            ) -> dict[str, Any]:
    """Stripe's ``webhook_endpoint`` object; ``secret`` only when just created or rolled."""
    return complete(stripe.WebhookEndpoint, {
        "id": endpoint.id,
        "api_version": endpoint.api_version,
        "created": to_unix(endpoint.created),
        "description": endpoint.description,
        "enabled_events": list(endpoint.enabled_events),
        "livemode": endpoint.livemode,
        "metadata": dict(endpoint.metadata_),
        "secret": secret,
        "status": endpoint.status,
        "url": endpoint.url,
    })


def render_deleted_webhook_endpoint(endpoint_id: str) -> dict[str, Any]:
    """Stripe's answer to a delete."""
    return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}


def check_enabled_events(events: list[str], *, param: str = "enabled_events") -> list[str]:
    """The event types, de-duplicated in order. Raises InvalidRequest."""
    if not events:
        raise InvalidRequest(f"Missing required param: {param}.", param=param,
                             code="parameter_missing")
    out: list[str] = []
    for i, name in enumerate(events):
        if not isinstance(name, str) or not EVENT_TYPE.fullmatch(name):
            raise InvalidRequest(f"Invalid {param}[{i}]: {str(name)[:100]!r} is not an event "
                                 "type", param=f"{param}[{i}]")
        if name not in out:
            out.append(name)
    if ALL_EVENTS in out and len(out) > 1:
        raise InvalidRequest("If you specify '*' in enabled_events, it must be the only "
                             "value.", param=param)
    return out


def _check_description(description: str | None) -> str | None:
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidRequest(f"Invalid description: must be at most {MAX_DESCRIPTION_LENGTH} "
                             "characters", param="description")
    return description or None


def _check_destination(url: str, *, livemode: bool) -> None:
    # Test mode: the URL's form only (a developer's localhost, a name not yet in DNS).
    # Live mode: resolved now, and refused if any answer is not public.
    if livemode:
        check_destination(url, livemode=True)
    else:
        check_url(url, livemode=False)


def create_endpoint(
    *,
    account_id: str,
    uow: UnitOfWork,
    url: str,
    enabled_events: list[str],
    livemode: bool = False,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    api_version: str | None = None,
) -> CreatedEndpoint:
    """A new enabled endpoint and its ``whsec_`` secret. Raises InvalidRequest."""
    _check_destination(url, livemode=livemode)
    events = check_enabled_events(enabled_events)
    if api_version is not None and not API_VERSION.fullmatch(api_version):
        raise InvalidRequest(f"Invalid api_version: {api_version[:40]}", param="api_version")
    secret = new_secret()
    endpoint_id = random_id("we")
    with uow:
        count = uow.session.exec(select(func.count()).select_from(WebhookEndpoint).where(
            WebhookEndpoint.account_id == account_id)).one()
        if count >= MAX_ENDPOINTS:
            raise InvalidRequest(f"You have reached the maximum of {MAX_ENDPOINTS} webhook "
                                 "endpoints.")
        endpoint = WebhookEndpoint(
            id=endpoint_id, account_id=account_id, url=url, enabled_events=events,
            description=_check_description(description), metadata_=dict(metadata or {}),
            api_version=api_version, status=ENDPOINT_ENABLED,
            secret_sealed=seal_secret(secret, endpoint_id=endpoint_id), livemode=livemode,
            created=uow.clock())
        uow.add(endpoint)
        uow.commit()
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


def retrieve_endpoint(endpoint_id: str, *, account_id: str, uow: UnitOfWork
                      ) -> WebhookEndpoint:
    """One of the account's endpoints. Raises ResourceMissing."""
    with uow:
        return uow.get(WebhookEndpoint, endpoint_id, account_id=account_id,
                       label="webhook_endpoint")


def endpoint_secret(endpoint: WebhookEndpoint) -> str:
    """The endpoint's signing secret in plaintext (the sender signs with it)."""
    return open_secret(endpoint.secret_sealed, endpoint_id=endpoint.id)


def update_endpoint(
    endpoint_id: str,
    *,
    account_id: str,
    uow: UnitOfWork,
    url: str | None = None,
    enabled_events: list[str] | None = None,
    description: str | None = None,
    clear_description: bool = False,
    metadata: dict[str, str] | None = None,
    disabled: bool | None = None,
) -> WebhookEndpoint:
    """Change what was given; ``disabled`` False re-enables a disabled endpoint.

    ``metadata`` merges (an empty value removes its key), as everywhere in Stripe.
    Disabling marks the endpoint's pending deliveries failed. Raises InvalidRequest,
    ResourceMissing.
    """
    with uow:
        endpoint = uow.get(WebhookEndpoint, endpoint_id, account_id=account_id,
                           label="webhook_endpoint")
        if url is not None:
            _check_destination(url, livemode=endpoint.livemode)
            endpoint.url = url
        if enabled_events is not None:
            endpoint.enabled_events = check_enabled_events(enabled_events)
        if clear_description:
            endpoint.description = None
        elif description is not None:
            endpoint.description = _check_description(description)
        if metadata is not None:
            merged = {**endpoint.metadata_, **metadata}
            endpoint.metadata_ = {k: v for k, v in merged.items() if v != ""}
        if disabled is True and endpoint.status != ENDPOINT_DISABLED:
            disable_endpoint(endpoint, uow=uow, reason=None)
        elif disabled is False and endpoint.status != ENDPOINT_ENABLED:
            endpoint.status = ENDPOINT_ENABLED
            endpoint.disabled_reason = None
            endpoint.failing_since = None
        uow.add(endpoint)
        uow.commit()
        return endpoint


def disable_endpoint(endpoint: WebhookEndpoint, *, uow: UnitOfWork, reason: str | None
                     ) -> int:
    """Disable ``endpoint`` (``reason`` e.g. "failing") and fail its pending deliveries.

    In the caller's transaction; returns how many deliveries it failed.
    """
    endpoint.status = ENDPOINT_DISABLED
    endpoint.disabled_reason = reason
    uow.add(endpoint)
    pending = uow.session.exec(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id,
        WebhookDelivery.status == DELIVERY_PENDING)).all()
    for delivery in pending:
        delivery.status = DELIVERY_FAILED
        delivery.next_attempt_at = None
        delivery.lease_until = None
        delivery.last_error = delivery.last_error or "endpoint disabled"
        uow.add(delivery)
    return len(pending)


def roll_secret(endpoint_id: str, *, account_id: str, uow: UnitOfWork) -> CreatedEndpoint:
    """A new signing secret for the endpoint; the old one stops signing at once.

    A Portico extension (Stripe rolls secrets in its dashboard only). Raises ResourceMissing.
    """
    secret = new_secret()
    with uow:
        endpoint = uow.get(WebhookEndpoint, endpoint_id, account_id=account_id,
                           label="webhook_endpoint")
        endpoint.secret_sealed = seal_secret(secret, endpoint_id=endpoint.id)
        uow.add(endpoint)
        uow.commit()
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


def delete_endpoint(endpoint_id: str, *, account_id: str, uow: UnitOfWork) -> str:
    """Delete the endpoint, its deliveries and their attempts; its id. Raises ResourceMissing."""
    with uow:
        endpoint = uow.get(WebhookEndpoint, endpoint_id, account_id=account_id,
                           label="webhook_endpoint")
        deliveries = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
        uow.session.execute(delete(WebhookAttempt).where(
            col(WebhookAttempt.delivery_id).in_(deliveries)))
        uow.session.execute(delete(WebhookDelivery).where(
            col(WebhookDelivery.endpoint_id) == endpoint.id))
        uow.session.delete(endpoint)
        uow.commit()
    return endpoint_id
