"""What every part of the Stripe-backed provider shares: the calls, the account, the clock,
and turning the SDK's objects into the contract's plain dicts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import stripe
from stripe._object_classes import get_object_class  # the SDK's own name → class map

from portal_app.billing.provider import StripeObject
from portal_app.billing.providers.stripe.client import StripeCalls
from portal_app.db import UnitOfWork, UnitOfWorkFactory
from portal_app.errors import ResourceMissing
from portal_app.stripe_shapes import complete


class StripeProviderBase:
    """State shared by the provider's parts (one mixin per area of the contract).

    Parameters
    ----------
    account_id
        The Portico account whose Stripe account this is.
    calls
        Its Stripe calls (:class:`~portal_app.billing.providers.stripe.client.StripeCalls`).
    clock
        Portico's clock (what the portal calls "now"); Stripe keeps its own time, and a
        Stripe test clock moves it (:meth:`advance_clock`).
    uow_factory
        Units of work on Portico's database, for what Portico itself remembers about
        this account's Stripe objects (none of them holds billing state).
    test_clock
        A Stripe test clock (``clock_…``) new customers are created on, for tests and
        demos; None in production.
    """

    def __init__(self, *, account_id: str, calls: StripeCalls, clock: Callable[[], datetime],
                 uow_factory: UnitOfWorkFactory | None = None,
                 test_clock: str | None = None) -> None:
        self.account_id = account_id
        self.calls = calls
        self.v1 = calls.v1
        self.clock = clock
        self.uow_factory = uow_factory or (lambda: UnitOfWork(clock=clock))
        self.test_clock = test_clock

    def live_customer(self, customer_id: str) -> StripeObject:
        """The account's customer (customers.retrieve); a deleted one is ResourceMissing."""
        customer = plain(self.calls.read(
            lambda options: self.v1.customers.retrieve(customer_id, options=options)))
        if customer.get("deleted"):
            raise ResourceMissing(f"No such customer: '{customer_id}'", param="id")
        return customer

    def read_all(self, call: Callable[[stripe.RequestOptions], stripe.ListObject[Any]]
                 ) -> list[StripeObject]:
        """Every object of a list call, page after page (``auto_paging_iter``), as plain
        dicts; the whole walk is one read, so a transient failure retries it whole."""
        return self.calls.read(lambda options: plain_list(call(options).auto_paging_iter()))


def plain(obj: stripe.StripeObject, cls: type | None = None) -> StripeObject:
    """The SDK object as the contract's plain dict, every field of ``cls`` present.

    ``cls`` defaults to the SDK class Stripe's ``object`` name maps to; fields Stripe
    (or an older Stripe-compatible server) left out come back as None, so portal code
    never meets a missing key.
    """
    values = obj.to_dict()
    cls = cls or stripe_class(values.get("object"))
    return complete(cls, values) if cls is not None else values


def plain_list(objects: Iterable[stripe.StripeObject], cls: type | None = None
               ) -> list[StripeObject]:
    """:func:`plain` of each object (a list page's ``auto_paging_iter()``, say)."""
    return [plain(obj, cls) for obj in objects]


def stripe_class(object_name: Any) -> type | None:
    """The SDK class of a Stripe ``object`` name (``customer`` → :class:`stripe.Customer`)."""
    if not isinstance(object_name, str):
        return None
    cls = get_object_class("V1", object_name)
    return None if cls is stripe.StripeObject else cls


def owned_by(obj: StripeObject, customer_id: str | None, *, label: str,
             field: str = "customer") -> StripeObject:
    """``obj`` when it belongs to ``customer_id`` (None: any customer of the account).

    Another customer's object is missing, exactly like one that does not exist, so a
    portal session never reaches past its own customer (the contract's rule).
    """
    owner = obj.get(field)
    if isinstance(owner, dict):
        owner = owner.get("id")
    if customer_id is not None and owner != customer_id:
        raise ResourceMissing(f"No such {label}: '{obj.get('id')}'", param="id")
    return obj
