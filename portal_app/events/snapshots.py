"""The newest snapshot of every object of a merchant's Stripe account (``stripe_object``).

Stripe delivers webhooks at least once and in no particular order. Each stored event
offers its ``data.object`` as the object's snapshot; the snapshot changes only to a
strictly newer one (by the event's ``created``), so an old event delivered late never
goes back in time. Stripe's ``created`` is in whole seconds: two different events of one
object in the same second cannot be ordered, and a *thin* event carries no object at
all. Either way the snapshot is marked ``stale`` in the same transaction and fetched
again from Stripe (:func:`refetch_stale`) after the webhook has been answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import case, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from portal_app.accounts.stripe_link import stripe_credentials
from portal_app.billing.providers import StripeCalls, open_client
from portal_app.clock import Clock, utc_now
from portal_app.db import UnitOfWork, UnitOfWorkFactory
from portal_app.errors import BillingError, ResourceMissing
from portal_app.events.models import Event, StripeObject

# Where Stripe serves one object of each type (what a thin event's ``related_object``
# ``url`` would say); objects of other types keep their snapshot without a refetch.
OBJECT_PATHS = {
    "customer": "/v1/customers/{id}",
    "subscription": "/v1/subscriptions/{id}",
    "subscription_schedule": "/v1/subscription_schedules/{id}",
    "invoice": "/v1/invoices/{id}",
    "invoiceitem": "/v1/invoiceitems/{id}",
    "price": "/v1/prices/{id}",
    "product": "/v1/products/{id}",
    "coupon": "/v1/coupons/{id}",
    "promotion_code": "/v1/promotion_codes/{id}",
    "payment_method": "/v1/payment_methods/{id}",
    "payment_intent": "/v1/payment_intents/{id}",
    "setup_intent": "/v1/setup_intents/{id}",
    "charge": "/v1/charges/{id}",
    "billing.meter": "/v1/billing/meters/{id}",
    "test_helpers.test_clock": "/v1/test_helpers/test_clocks/{id}",
}


@dataclass(frozen=True)
class Offered:
    """A snapshot an event offers: the event's object, when it happened, and by which event.

    ``thin``: the event named the object without its content (refetch it).
    """

    account_id: str
    object_id: str
    data: dict[str, Any]
    created: datetime
    event_id: str | None
    thin: bool = False


def record_snapshots(session: Session, offered: Sequence[Offered]) -> set[tuple[str, str]]:
    """Keep the newest of ``offered`` and the stored snapshots; return the (account, id) in doubt.

    Runs inside the caller's transaction (the events' own). An offer older than the
    stored snapshot changes nothing; a newer one replaces it; one of the same second from
    another event (or a thin one) marks it stale. The returned keys must be refetched.
    """
    newest: dict[tuple[str, str], Offered] = {}
    tied: set[tuple[str, str]] = set()
    thin: dict[tuple[str, str], Offered] = {}
    for offer in offered:
        key = (offer.account_id, offer.object_id)
        if offer.thin:
            thin[key] = offer
            continue
        best = newest.get(key)
        if best is None or offer.created > best.created:
            newest[key] = offer
            tied.discard(key)
        elif offer.created == best.created and offer.event_id != best.event_id:
            tied.add(key)
    doubt: set[tuple[str, str]] = set()
    if newest:
        # Sorted: concurrent transactions take their row locks in one order (no deadlock).
        rows = [_row(newest[key], stale=key in tied) for key in sorted(newest)]
        doubt |= _upsert(session, rows, thin=False)
    if thin:
        doubt |= _upsert(session, [_row(thin[key], stale=True) for key in sorted(thin)], thin=True)
    return doubt


def store_fetched(
    session: Session, objects: Iterable[dict[str, Any]], *, account_id: str, fetched: datetime
) -> int:
    """Store objects read from Stripe's API now (``fetched``) as snapshots; returns how many.

    A fetched object is the state at ``fetched``: it replaces older snapshots, and an
    event of the same second is settled by a refetch later.
    """
    offers = [
        Offered(
            account_id=account_id,
            object_id=str(obj["id"]),
            data=obj,
            created=fetched,
            event_id=None,
        )
        for obj in objects
    ]
    record_snapshots(session, offers)
    return len(offers)


def _row(offer: Offered, *, stale: bool) -> dict[str, Any]:
    # An event's object is already in the event store: the snapshot points at it.
    return {
        "account_id": offer.account_id,
        "id": offer.object_id,
        "type": str(offer.data.get("object") or ""),
        "data": offer.data if offer.event_id is None else None,
        "created": offer.created,
        "event_id": offer.event_id,
        "stale": stale,
        "refetched": None,
    }


def retrieve_snapshot(account_id: str, object_id: str, *, uow: UnitOfWork) -> dict[str, Any] | None:
    """The newest known state of a Stripe object of the account, or None if none is stored."""
    with uow:
        row = uow.session.get(StripeObject, (account_id, object_id))
        if row is None:
            return None
        if row.data is not None or row.event_id is None:
            return row.data
        data = uow.session.exec(select(Event.data_object).where(Event.id == row.event_id)).first()
        return dict(data) if data is not None else None


def _upsert(session: Session, rows: list[dict[str, Any]], *, thin: bool) -> set[tuple[str, str]]:
    # One statement decides against the stored snapshot, in the database itself, so that
    # two writers racing on one object (PostgreSQL, several processes) still keep the
    # newer one: a newer offer replaces it, one of the same second from another event
    # marks it stale, an older one is not even returned. A thin offer (no content) only
    # marks a snapshot that is not newer stale (or inserts the stub when there is none).
    upsert = _upsert_statement(session.get_bind().dialect.name, thin=thin)
    returned = session.connection().execute(upsert, rows)
    return {(account, object_id) for account, object_id, stale in returned if stale}


@lru_cache
def _upsert_statement(dialect: str, *, thin: bool) -> Any:
    # Built once per dialect: statements are immutable, and building one costs more
    # than running it on a small batch.
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(StripeObject)
    new, old = statement.excluded, StripeObject.__table__.c  # type: ignore[attr-defined]
    if thin:
        changes: dict[str, Any] = {"stale": True}
        guard = old.created <= new.created
    else:
        newer = old.created < new.created
        changes = {
            name: case((newer, getattr(new, name)), else_=getattr(old, name))
            for name in ("type", "data", "event_id", "refetched")
        }
        changes["stale"] = case((newer, new.stale), else_=True)
        changes["created"] = new.created
        guard = newer | ((old.created == new.created) & old.event_id.is_distinct_from(new.event_id))
    return statement.on_conflict_do_update(
        index_elements=["account_id", "id"],
        set_=changes,
        where=guard,
    ).returning(old.account_id, old.id, old.stale)


def refetch_stale(
    account_id: str,
    *,
    uow_factory: UnitOfWorkFactory,
    object_ids: Sequence[str] | None = None,
    calls: StripeCalls | None = None,
    clock: Clock = utc_now,
) -> int:
    """Fetch the account's stale snapshots (or only ``object_ids``) from Stripe again.

    Returns how many were refreshed. An object Stripe no longer has keeps its last
    snapshot marked ``deleted``; one of a type Portico cannot fetch stays stale. Raises
    BillingError when Stripe cannot be reached (the snapshots stay stale: a later event
    or ``portico stripe-backfill`` tries again).
    """
    query = select(StripeObject).where(
        StripeObject.account_id == account_id, col(StripeObject.stale).is_(True)
    )
    if object_ids is not None:
        query = query.where(col(StripeObject.id).in_(list(object_ids)))
    with uow_factory() as uow:
        stale = list(uow.session.exec(query))
    if not stale:
        return 0
    if calls is None:
        credentials = stripe_credentials(account_id, uow=uow_factory())
        if credentials is None:
            return 0
        calls = StripeCalls(open_client(credentials), account_id=account_id)
    refreshed = 0
    for row in stale:
        known = retrieve_snapshot(account_id, row.id, uow=uow_factory()) or {}
        path = known.get("url") or OBJECT_PATHS.get(row.type)  # a thin event's stub has a url
        if not isinstance(path, str):
            continue
        data = fetch_object(calls, path.format(id=row.id), missing=known)
        with uow_factory() as uow:
            # Only if no newer event replaced it meanwhile (then that event decides).
            uow.session.execute(
                update(StripeObject)
                .where(
                    col(StripeObject.account_id) == account_id,
                    col(StripeObject.id) == row.id,
                    col(StripeObject.created) == row.created,
                )
                .values(
                    data=data,
                    stale=False,
                    refetched=clock(),
                    type=str(data.get("object") or row.type),
                )
            )
            uow.commit()
        refreshed += 1
    return refreshed


def fetch_object(calls: StripeCalls, path: str, *, missing: dict[str, Any]) -> dict[str, Any]:
    """The object at ``path`` of the Stripe API, or ``missing`` marked deleted if it is gone.

    Raises BillingError (other than ResourceMissing) when Stripe refuses or is unreachable.
    """
    try:
        return read_json(calls, path, {})
    except ResourceMissing:
        return {**missing, "deleted": True}


def read_json(calls: StripeCalls, path: str, params: dict[str, Any]) -> dict[str, Any]:
    """``GET path`` of the Stripe API with ``params``, as plain JSON, retried as reads are.

    Raises BillingError when Stripe refuses, stays unreachable or answers a non-object.
    """
    response = calls.read(
        lambda options: calls.client.raw_request("get", path, **params, **options)
    )
    if not isinstance(response.data, dict):
        raise BillingError("Stripe answered with something that is not an object.")
    return plain_json(response.data)


def plain_json(value: Any) -> Any:
    """``value`` with the SDK's OrderedDicts made plain dicts (stored as JSON all the same)."""
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    return value
