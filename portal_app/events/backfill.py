"""Build a Stripe-backed account's event store and snapshots from Stripe's API.

``portico stripe-backfill --account acct_…`` runs :func:`backfill`: it lists the
merchant's customers, subscriptions (every status), invoices and the events of the last
30 days (the most Stripe keeps listable), a page of 100 at a time, each page stored with
its list's cursor in one transaction — so an interrupted run, run again, continues
after the last stored page, and events already stored are skipped. Stripe's rate limits
(429) are waited out with backoff by :class:`StripeCalls`.

Stripe keeps 30 days of events; a merchant's subscriptions are older. So that the churn
dashboard reaches back to the first subscription, each subscription without a stored
``customer.subscription.created`` gets one synthesized at its ``created`` (and a canceled
one without a ``customer.subscription.deleted``, that one at its ``ended_at``), marked
``{"synthesized": "stripe_backfill"}`` in ``origin``; their MRR is the subscription's
items as they are now (the best Stripe still tells).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel import col, delete, select

from portal_app.accounts.models import Account
from portal_app.accounts.stripe_link import stripe_credentials
from portal_app.billing.providers import StripeCalls, open_client
from portal_app.clock import Clock, utc_now
from portal_app.db import UnitOfWork, UnitOfWorkFactory
from portal_app.errors import InvalidRequest
from portal_app.events.importer import event_values
from portal_app.events.inbound import Incoming, store_events
from portal_app.events.models import Event, StripeBackfillCursor, StripeObject
from portal_app.events.snapshots import (
    read_json,
    refetch_stale,
    retrieve_snapshot,
    store_fetched,
)

EVENT_WINDOW = timedelta(days=30)
PAGE_SIZE = 100
# The lists, in order; the events come last so that their snapshots meet the fetched ones.
LISTS: dict[str, tuple[str, dict[str, Any]]] = {
    "customers": ("/v1/customers", {}),
    "subscriptions": ("/v1/subscriptions", {"status": "all"}),
    "invoices": ("/v1/invoices", {}),
    "events": ("/v1/events", {}),
}
SYNTHESIZED = {"synthesized": "stripe_backfill"}
CREATED, DELETED = "customer.subscription.created", "customer.subscription.deleted"
ENDED = ("canceled", "incomplete_expired")

Progress = Callable[[str, int], None]  # (list name, objects stored by this page)


@dataclass
class BackfillResult:
    """What a run stored: objects per list, events new and skipped, events synthesized."""

    objects: dict[str, int] = field(default_factory=dict)
    events_inserted: int = 0
    events_skipped: int = 0
    synthesized: int = 0
    refetched: int = 0
    resumed: bool = False


def backfill(
    account_id: str,
    *,
    uow_factory: UnitOfWorkFactory,
    calls: StripeCalls | None = None,
    clock: Clock = utc_now,
    progress: Progress | None = None,
    page_size: int = PAGE_SIZE,
) -> BackfillResult:
    """Backfill ``account_id`` from its Stripe account (see the module docstring).

    Raises ResourceMissing (no such account), InvalidRequest (the account does not bill
    with Stripe), and the BillingError of a Stripe call that failed after its retries
    (what was stored stays; run again to continue).
    """
    with uow_factory() as uow:
        uow.get(Account, account_id, account_id=account_id, label="account")
    if calls is None:
        credentials = stripe_credentials(account_id, uow=uow_factory())
        if credentials is None:
            raise InvalidRequest(
                f"{account_id} does not bill with Stripe: there is nothing to backfill.",
                param="account",
            )
        calls = StripeCalls(open_client(credentials), account_id=account_id)
    result = BackfillResult()
    since = int((clock() - EVENT_WINDOW).timestamp())
    for name, (path, params) in LISTS.items():
        cursor = _cursor(account_id, name, uow_factory=uow_factory, clock=clock)
        result.resumed = result.resumed or cursor.starting_after is not None or cursor.done
        extra = {**params, "created[gte]": since} if name == "events" else params
        while not cursor.done:
            query: dict[str, Any] = {**extra, "limit": page_size}
            if cursor.starting_after:
                query["starting_after"] = cursor.starting_after
            page = read_json(calls, path, query)  # a list: {"data": [...], "has_more": ...}
            objects = page.get("data") or []
            cursor = _store_page(
                account_id,
                name,
                objects,
                has_more=bool(page.get("has_more")),
                uow=uow_factory(),
                clock=clock,
                result=result,
            )
            result.objects[name] = result.objects.get(name, 0) + len(objects)
            if progress is not None:
                progress(name, len(objects))
    result.synthesized = synthesize_subscription_events(account_id, uow_factory=uow_factory)
    result.refetched = refetch_stale(account_id, uow_factory=uow_factory, calls=calls, clock=clock)
    with uow_factory() as uow:  # finished: the next run starts afresh (and skips what it has)
        uow.session.exec(
            delete(StripeBackfillCursor).where(  # type: ignore[call-overload]
                col(StripeBackfillCursor.account_id) == account_id
            )
        )
        uow.commit()
    return result


def _cursor(
    account_id: str, name: str, *, uow_factory: UnitOfWorkFactory, clock: Clock
) -> StripeBackfillCursor:
    with uow_factory() as uow:
        cursor = uow.session.get(StripeBackfillCursor, (account_id, name))
        if cursor is None:
            cursor = StripeBackfillCursor(account_id=account_id, list_name=name, updated=clock())
            uow.session.add(cursor)
            uow.commit()
        return cursor


def _store_page(
    account_id: str,
    name: str,
    objects: list[dict[str, Any]],
    *,
    has_more: bool,
    uow: UnitOfWork,
    clock: Clock,
    result: BackfillResult,
) -> StripeBackfillCursor:
    # The page and the cursor past it commit together: a rerun never skips nor repeats it.
    with uow:
        if name == "events":
            items = [
                Incoming(values=event_values(event, account_id=account_id)) for event in objects
            ]
            stored = store_events(items, uow=uow)
            fresh = sum(not s.duplicate for s in stored)
            result.events_inserted += fresh
            result.events_skipped += len(stored) - fresh
        else:
            store_fetched(uow.session, objects, account_id=account_id, fetched=clock())
        cursor = uow.session.get(StripeBackfillCursor, (account_id, name))
        assert cursor is not None  # made by _cursor before the first page
        if objects:
            cursor.starting_after = str(objects[-1]["id"])
        cursor.done = not has_more or not objects
        cursor.count += len(objects)
        cursor.updated = clock()
        uow.session.add(cursor)
        uow.commit()
        return cursor


def synthesize_subscription_events(account_id: str, *, uow_factory: UnitOfWorkFactory) -> int:
    """Store the created/deleted events Stripe no longer lists for the account's subscriptions.

    For every subscription snapshot without a stored ``customer.subscription.created``
    (and, once it has ended, ``.deleted``); ids are derived from the subscription, so a
    second run synthesizes nothing twice. Returns how many were stored.
    """
    with uow_factory() as uow:
        ids = list(
            uow.session.exec(
                select(StripeObject.id).where(
                    StripeObject.account_id == account_id, StripeObject.type == "subscription"
                )
            )
        )
        have = (
            set(
                uow.session.exec(
                    select(Event.object_id, Event.type).where(
                        Event.account_id == account_id,
                        col(Event.type).in_([CREATED, DELETED]),
                        col(Event.object_id).in_(ids),
                    )
                )
            )
            if ids
            else set()
        )
    items: list[Incoming] = []
    for sub_id in ids:
        sub = retrieve_snapshot(account_id, sub_id, uow=uow_factory())
        if not sub or not isinstance(sub.get("created"), int):
            continue
        if (sub_id, CREATED) not in have:
            trialing = isinstance(sub.get("trial_end"), int) and sub["trial_end"] > sub["created"]
            start = {
                **sub,
                "status": "trialing" if trialing else "active",
                "canceled_at": None,
                "ended_at": None,
                "cancel_at_period_end": False,
            }
            items.append(_synthesized(account_id, CREATED, start, at=sub["created"]))
        ended = sub.get("ended_at") or sub.get("canceled_at")
        if sub.get("status") in ENDED and (sub_id, DELETED) not in have and isinstance(ended, int):
            items.append(_synthesized(account_id, DELETED, sub, at=ended))
    if not items:
        return 0
    stored = store_events(items, uow=uow_factory())
    return sum(not s.duplicate for s in stored)


def _synthesized(account_id: str, type: str, obj: dict[str, Any], *, at: int) -> Incoming:
    digest = hashlib.sha256(f"{account_id}:{obj['id']}:{type}".encode()).hexdigest()[:24]
    event = {
        "id": f"evt_synth_{digest}",
        "type": type,
        "created": at,
        "data": {"object": obj},
        "origin": SYNTHESIZED,
    }
    return Incoming(values=event_values(event, account_id=account_id))
