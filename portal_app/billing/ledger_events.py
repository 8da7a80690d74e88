"""The ledger's events: every change appends what changed, in the change's own transaction.

Snapshots are the objects as :mod:`portal_app.billing.objects` renders them, with
one addition: a subscription's discounts are expanded (as an ``expand[]=discounts``
request would return them), so that the event history alone says what the customer
really paid (analytics computes MRR net of discounts from it). ``previous_attributes``
keep Stripe's plain shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from portal_app.billing.models import Coupon, Discount, Subscription
from portal_app.billing.objects import render_discount, render_subscription
from portal_app.db import UnitOfWork, row_identity


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Stripe's ``previous_attributes``: the old value of every top-level field that changed."""
    return {key: before.get(key) for key in after if before.get(key) != after.get(key)}


def append_if_changed(type: str, before: Mapping[str, Any], after: dict[str, Any], *,
                      uow: UnitOfWork, account_id: str, customer_id: str | None = None,
                      ignore: tuple[str, ...] = ()) -> None:
    """Append ``type`` with ``after`` and the old values of what changed; nothing if nothing did.

    ``ignore`` names fields whose change alone is no change (an ``updated`` time).
    """
    previous = {key: value for key, value in diff(before, after).items() if key not in ignore}
    if previous:
        uow.events.append(type, after, account_id=account_id, previous_attributes=previous,
                          customer_id=customer_id)


def subscription_snapshot(rendered: dict[str, Any], session: Session) -> dict[str, Any]:
    """A rendered subscription as the event store keeps it: its discounts expanded.

    Ids of discounts that no longer exist stay ids.
    """
    if not rendered.get("discounts"):
        return rendered
    expanded: list[Any] = []
    for item in rendered["discounts"]:
        discount = session.get(Discount, item) if isinstance(item, str) else None
        coupon = session.get(Coupon, row_identity(Coupon, discount.coupon_id,
                                                  account_id=discount.account_id)
                             ) if discount else None
        expanded.append(render_discount(discount, coupon) if discount and coupon else item)
    return {**rendered, "discounts": expanded}


def append_subscription_event(type: str, sub: Subscription, *, uow: UnitOfWork,
                              before: Mapping[str, Any] | None = None) -> None:
    """Append ``type`` with the subscription as it is now (and what changed since ``before``)."""
    uow.add(sub)
    uow.flush()
    after = render_subscription(sub, uow.session)
    uow.events.append(type, subscription_snapshot(after, uow.session),
                      account_id=sub.account_id,
                      previous_attributes=diff(before, after) if before is not None else None)


def emit_subscription_updated(sub: Subscription, before: Mapping[str, Any], *,
                              uow: UnitOfWork) -> None:
    """``customer.subscription.updated`` with what changed since ``before``, if anything did."""
    uow.add(sub)
    uow.flush()
    after = render_subscription(sub, uow.session)
    previous = diff(before, after)
    if previous:
        uow.events.append("customer.subscription.updated",
                          subscription_snapshot(after, uow.session), account_id=sub.account_id,
                          previous_attributes=previous)
