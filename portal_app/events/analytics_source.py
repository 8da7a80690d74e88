"""One account's event store as the analytics frames, and the names the dashboard shows.

The dashboard reads the flattened frames of :mod:`analytics.ingest` for the signed-in
account only. Flattening is the expensive step, so the frames are kept per account
and read again only when the account's events change (a new ``seq`` or count).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import polars as pl
from sqlalchemy import func
from sqlmodel import col, select

from analytics.dashboard import ExperimentDesign
from analytics.events import scan_events
from analytics.ingest import flow_frame, subscription_frame
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.events.models import Event
from portal_app.portal.models import PortalConfiguration
from portal_app.retention.assignment import ordered_variants
from portal_app.retention.models import Experiment, Offer

CACHED_ACCOUNTS = 8


@dataclass(frozen=True)
class AccountHistory:
    """The account's flattened events: subscription and cancellation-flow frames."""

    subscriptions: pl.DataFrame
    flows: pl.DataFrame
    event_count: int


@dataclass(frozen=True)
class Names:
    """Display names of the ids the dashboard shows (missing ids show as themselves)."""

    products: dict[str, str]
    configurations: dict[str, str]  # "" when the configuration has no name
    default_configuration: str | None
    offers: dict[str, str]


_cache: OrderedDict[tuple[str, str], tuple[tuple[int, int], AccountHistory]] = OrderedDict()
_lock = threading.Lock()


def load_history(account_id: str, *, uow: UnitOfWork) -> AccountHistory:
    """The account's subscription and flow frames (cached until its events change)."""
    with uow:
        count, last = uow.session.exec(
            select(func.count(), func.max(Event.seq)).where(Event.account_id == account_id)
        ).one()
    url = uow.engine.url.render_as_string(hide_password=False)
    key, version = (url, account_id), (int(count or 0), int(last or 0))
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == version:
            _cache.move_to_end(key)
            return hit[1]
    raw = scan_events(url, account_id=account_id)
    subscriptions, flows = pl.collect_all([subscription_frame(raw), flow_frame(raw)])
    history = AccountHistory(subscriptions=subscriptions, flows=flows, event_count=version[0])
    with _lock:
        _cache[key] = (version, history)
        _cache.move_to_end(key)
        while len(_cache) > CACHED_ACCOUNTS:
            _cache.popitem(last=False)
    return history


def experiment_designs(account_id: str, *, uow: UnitOfWork) -> list[ExperimentDesign]:
    """The account's experiments with their configured weights and control, newest first.

    The control is the variant without offers (else the first one); an experiment
    without variants is left out.
    """
    with uow:
        found = uow.session.exec(
            select(Experiment).where(Experiment.account_id == account_id)
            .order_by(col(Experiment.created).desc(), col(Experiment.id).desc())).all()
        designs = []
        for experiment in found:
            variants = ordered_variants(experiment.id, uow=uow)
            if not variants:
                continue
            control = next((v for v in variants if not v.offers), variants[0])
            designs.append(ExperimentDesign(
                experiment=experiment.id, name=experiment.name,
                weights={v.id: float(v.weight) for v in variants}, control=control.id,
                variant_names={v.id: v.name for v in variants},
            ))
        return designs


def names(account_id: str, *, uow: UnitOfWork) -> Names:
    """The account's product, portal configuration and offer names by id."""
    with uow:
        products = [(p["id"], p["name"])
                    for p in billing_provider(account_id, uow=uow).list_products()]
        configurations = uow.session.exec(
            select(PortalConfiguration.id, PortalConfiguration.name, PortalConfiguration.is_default)
            .where(PortalConfiguration.account_id == account_id)).all()
        offers = uow.session.exec(
            select(Offer.id, Offer.name).where(Offer.account_id == account_id)).all()
    return Names(
        products=dict(products),
        configurations={cid: name or "" for cid, name, _ in configurations},
        default_configuration=next((cid for cid, _, default in configurations if default), None),
        offers=dict(offers),
    )
