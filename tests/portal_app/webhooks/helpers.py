"""Shared by the webhook tests: endpoints, events and the rows they made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import col, select

from portal_app.db import UnitOfWork
from portal_app.events.models import Event
from portal_app.webhooks import endpoints
from portal_app.webhooks.models import WebhookDelivery, WebhookEndpoint

MakeUow = Callable[[], UnitOfWork]


def new_endpoint(make_uow: MakeUow, account_id: str, events: list[str] | None = None,
                 url: str = "https://hooks.example.com/stripe", **options: Any
                 ) -> WebhookEndpoint:
    return endpoints.create_endpoint(account_id=account_id, uow=make_uow(), url=url,
                                     enabled_events=events or ["*"], **options).endpoint


def append_event(make_uow: MakeUow, account_id: str, type: str = "customer.created",
                 object_id: str = "cus_test") -> Event:
    """One committed event of ``type`` (as a ledger service appends it)."""
    uow = make_uow()
    with uow:
        event = uow.events.append(type, {"id": object_id, "object": type.split(".")[0]},
                                  account_id=account_id)
        uow.commit()
    return event


def deliveries_of(make_uow: MakeUow, account_id: str) -> list[WebhookDelivery]:
    uow = make_uow()
    with uow:
        return list(uow.session.exec(select(WebhookDelivery).where(
            WebhookDelivery.account_id == account_id).order_by(
            col(WebhookDelivery.created), col(WebhookDelivery.id))).all())
