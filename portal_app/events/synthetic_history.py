"""Load a synthetic 24-month merchant history into an account's event store.

The demo's ledger covers a year of about fifty customers: too little for a churn
dashboard to mean anything. :func:`import_synthetic_history` renders
:func:`analytics.synthetic.generate` as Stripe events, moves them so the history ends
at ``now``, points them at the account's own portal configuration, products, retention
offers and an experiment (created here once, marked in their metadata), and imports
them with :func:`portal_app.events.importer.import_events` — so running it again adds
nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from analytics import synthetic
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.events.importer import ImportResult, import_events
from portal_app.portal.models import PortalConfiguration
from portal_app.retention import experiments, offers
from portal_app.retention.models import Experiment, Offer

MARK = {"portico_demo": "synthetic_history"}
DEFAULT_EVENTS = 50_000  # enough flows for the experiment to reach a verdict
EXPERIMENT_NAME = "Coupon or pause in the cancel flow"


def import_synthetic_history(
    account_id: str,
    *,
    uow_factory: Callable[[], UnitOfWork],
    now: datetime,
    n_events: int = DEFAULT_EVENTS,
    seed: int = 0,
) -> ImportResult:
    """Import about ``n_events`` generated events ending at ``now`` into ``account_id``.

    Needs a portal configuration on the account. Raises ResourceMissing (no such
    account) and InvalidRequest (no configuration).
    """
    history = synthetic.generate(n_events=n_events, seed=seed)
    ids = _account_ids(account_id, uow_factory=uow_factory)
    shift = int(now.timestamp() - synthetic.END.timestamp())
    tag = account_id.removeprefix("acct_")[:10]
    events = (_moved(event, ids=ids, shift=shift, tag=tag)
              for event in synthetic.to_stripe_events(history))
    return import_events(events, account_id=account_id, uow_factory=uow_factory)


def has_synthetic_history(account_id: str, *, uow: UnitOfWork) -> bool:
    """Whether :func:`import_synthetic_history` already ran for the account."""
    with uow:
        found = uow.session.exec(
            select(Experiment).where(Experiment.account_id == account_id)).all()
        return any(e.metadata_.get("portico_demo") == MARK["portico_demo"] for e in found)


def _account_ids(account_id: str, *, uow_factory: Callable[[], UnitOfWork]) -> dict[str, str]:
    """Synthetic id -> the account's id, creating the offers and the experiment once."""
    with uow_factory() as uow:
        configuration = uow.session.exec(
            select(PortalConfiguration.id).where(PortalConfiguration.account_id == account_id)
            .order_by(col(PortalConfiguration.is_default).desc(),
                      col(PortalConfiguration.created))).first()
        # Oldest first (ties in id order), as the catalog was created.
        products = [p["id"] for p in sorted(
            billing_provider(account_id, uow=uow).list_products(),
            key=lambda p: (p["created"], p["id"]))]
        marked_offers = {o.name: o.id for o in uow.session.exec(
            select(Offer).where(Offer.account_id == account_id)).all()
            if o.metadata_.get("portico_demo") == MARK["portico_demo"]}
        experiment = next((e for e in uow.session.exec(
            select(Experiment).where(Experiment.account_id == account_id)).all()
            if e.metadata_.get("portico_demo") == MARK["portico_demo"]), None)
    if configuration is None:
        raise InvalidRequest("The account has no portal configuration to attach the history to.")
    ids: dict[str, str] = {synthetic.CONFIGURATION: configuration}
    # the generator's products are cheapest first, like a catalog created in price order
    ids.update(zip(synthetic.PRODUCTS, products, strict=False))
    specs: dict[str, dict[str, Any]] = {
        "offer_coupon_30": dict(type="coupon", name="30% off for 3 months",
                                headline="Stay and save 30% for the next three months",
                                new_coupon={"percent_off": synthetic.COUPON_PERCENT_OFF,
                                            "duration": "repeating",
                                            "duration_in_months": synthetic.COUPON_MONTHS}),
        "offer_pause_2": dict(type="pause", name="Pause for 2 months",
                              headline="Take a break instead: pause for up to two months",
                              pause_interval="month",
                              pause_interval_count=synthetic.PAUSE_MONTHS),
    }
    for synthetic_id, spec in specs.items():
        found = marked_offers.get(spec["name"])
        if found is None:
            found = offers.create_offer(account_id=account_id, uow=uow_factory(),
                                        metadata=MARK, **spec).id
        ids[synthetic_id] = found
    if experiment is None:
        experiment = _create_experiment(account_id, configuration=configuration, ids=ids,
                                        uow_factory=uow_factory)
    with uow_factory() as uow:
        variants = {v.name: v.id for v in
                    experiments.ordered_variants(experiment.id, uow=uow)}
    ids[synthetic.EXPERIMENT] = experiment.id
    ids.update({"var_control": variants["Control"], "var_coupon": variants["30% coupon"],
                "var_pause": variants["Pause"]})
    return ids


def _create_experiment(account_id: str, *, configuration: str, ids: dict[str, str],
                       uow_factory: Callable[[], UnitOfWork]) -> Experiment:
    weights = synthetic.EXPERIMENT_WEIGHTS
    smallest = min(weights.values())

    def every_reason(offer: str) -> dict[str, str]:
        return {reason: ids[offer] for reason in synthetic.REASONS}

    experiment = experiments.create_experiment(
        account_id=account_id, uow=uow_factory(), name=EXPERIMENT_NAME,
        configuration=configuration, metadata=MARK,
        variants=[
            experiments.VariantSpec("Control", round(weights["var_control"] / smallest)),
            experiments.VariantSpec("30% coupon", round(weights["var_coupon"] / smallest),
                                    every_reason("offer_coupon_30")),
            experiments.VariantSpec("Pause", round(weights["var_pause"] / smallest),
                                    every_reason("offer_pause_2")),
        ])
    try:  # the history is finished: record the experiment as run and stopped
        experiments.start_experiment(experiment.id, account_id=account_id, uow=uow_factory())
        experiments.stop_experiment(experiment.id, account_id=account_id, uow=uow_factory())
    except InvalidRequest:
        pass  # another experiment runs on the configuration: this one stays a draft
    return experiment


def _moved(event: dict[str, Any], *, ids: dict[str, str], shift: int, tag: str) -> str:
    event["id"] = f"evt_{tag}{event['id'].removeprefix('evt_')}"
    event["created"] += shift
    obj = event["data"]["object"]
    if obj.get("object") == "subscription":
        for item in obj["items"]["data"]:
            item["price"]["product"] = ids.get(item["price"]["product"],
                                               item["price"]["product"])
        for discount in obj.get("discounts") or []:
            for key in ("start", "end"):
                if discount.get(key) is not None:
                    discount[key] += shift
    else:
        obj["created"] = obj.get("created", 0) + shift
        for key in ("configuration", "experiment", "variant"):
            obj[key] = _mapped(ids, obj.get(key))
        if obj.get("offer"):
            obj["offer"]["id"] = ids.get(obj["offer"]["id"], obj["offer"]["id"])
    origin = event.get("origin")
    if isinstance(origin, dict):
        for key in ("configuration", "experiment", "variant"):
            origin[key] = _mapped(ids, origin.get(key))
    return json.dumps(event)


def _mapped(ids: dict[str, str], value: Any) -> Any:
    """``value`` with a synthetic id replaced by the account's own (other values as they are)."""
    return ids.get(value, value) if isinstance(value, str) else value
