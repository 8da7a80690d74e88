"""Experiments: weighted variants of offers per reason on one portal configuration.

An experiment is drafted, started (at most one runs per configuration), stopped,
and one of its variants may be shipped: its offers become the configuration's
policy. While it runs, the cancel flow asks :func:`experiment_for` whether a
customer is in it and :func:`portal_app.retention.assignment.assign` which arm
they get.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from portal_app.billing.provider import StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.clock import from_unix, to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.portal.configurations import CANCELLATION_REASONS, found
from portal_app.portal.models import PortalConfiguration
from portal_app.retention.assignment import ordered_variants
from portal_app.retention.models import Experiment, ExperimentStatus, Variant
from portal_app.retention.offers import UNSET
from portal_app.retention.policies import check_offer_mapping, set_policy
from portal_app.stripe_shapes import subscription_items


@dataclass(frozen=True)
class VariantSpec:
    """One variant to create: its name, weight and offer per reason (empty: control)."""

    name: str
    weight: int = 1
    offers: Mapping[str, str] = field(default_factory=dict)


def create_experiment(*, account_id: str, uow: UnitOfWork, name: str, configuration: str,
                      variants: Sequence[VariantSpec], reasons: Sequence[str] = (),
                      segment_products: Sequence[str] = (), segment_prices: Sequence[str] = (),
                      tenure_min_days: int | None = None, tenure_max_days: int | None = None,
                      holdout_percent: float = 0.0,
                      metadata: Mapping[str, str] | None = None) -> Experiment:
    """Draft an experiment. Raises InvalidRequest, ResourceMissing."""
    with uow:
        now = uow.clock()
        uow.get(PortalConfiguration, configuration, account_id=account_id,
                param="configuration", label="configuration")
        exp = Experiment(account_id=account_id, configuration_id=configuration, name="",
                         created=now, updated=now)
        _set_fields(exp, uow=uow, name=name, reasons=reasons, segment_products=segment_products,
                    segment_prices=segment_prices, tenure_min_days=tenure_min_days,
                    tenure_max_days=tenure_max_days, holdout_percent=holdout_percent,
                    metadata=metadata)
        uow.add(exp)
        uow.flush()
        _replace_variants(exp, variants, uow=uow)
        uow.events.append("portico.experiment.created", render_experiment(exp, uow),
                          account_id=account_id)
        uow.commit()
        return exp


def update_experiment(experiment_id: str, *, account_id: str, uow: UnitOfWork,
                      variants: Sequence[VariantSpec] | None = None, **changes: Any
                      ) -> Experiment:
    """Change a draft experiment (``variants`` replaces them all). Raises InvalidRequest."""
    allowed = {"name", "reasons", "segment_products", "segment_prices", "tenure_min_days",
               "tenure_max_days", "holdout_percent", "metadata"}
    unknown = set(changes) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidRequest(f"Received unknown parameter: {name}", param=name)
    with uow:
        exp = retrieve_experiment(experiment_id, account_id=account_id, uow=uow)
        only_metadata = set(changes) <= {"metadata"} and variants is None
        if exp.status != ExperimentStatus.draft and not only_metadata:
            raise InvalidRequest("Only a draft experiment can be changed.",
                                 code="experiment_not_draft")
        before = render_experiment(exp, uow)
        _set_fields(exp, uow=uow, **changes)
        if variants is not None:
            _replace_variants(exp, variants, uow=uow)
        exp.updated = uow.clock()
        _emit_updated(exp, before, uow=uow)
        uow.commit()
        return exp


def retrieve_experiment(experiment_id: str, *, account_id: str, uow: UnitOfWork) -> Experiment:
    """One experiment of the account. Raises ResourceMissing."""
    with uow:
        return uow.get(Experiment, experiment_id, account_id=account_id, label="experiment")


def list_experiments(*, account_id: str, uow: UnitOfWork, configuration: str | None = None,
                     status: str | None = None) -> list[Experiment]:
    """The account's experiments, newest first."""
    with uow:
        query = select(Experiment).where(Experiment.account_id == account_id)
        if configuration:
            query = query.where(Experiment.configuration_id == configuration)
        if status:
            query = query.where(Experiment.status == ExperimentStatus(status))
        return list(uow.session.exec(
            query.order_by(col(Experiment.created).desc(), col(Experiment.id).desc())).all())


def start_experiment(experiment_id: str, *, account_id: str, uow: UnitOfWork) -> Experiment:
    """Start a draft experiment. Raises InvalidRequest (``experiment_not_draft``,
    ``experiment_conflict``: another one already runs on the configuration)."""
    with uow:
        exp = retrieve_experiment(experiment_id, account_id=account_id, uow=uow)
        if exp.status != ExperimentStatus.draft:
            raise InvalidRequest("Only a draft experiment can be started.",
                                 code="experiment_not_draft")
        other = uow.session.exec(select(Experiment.id).where(
            Experiment.configuration_id == exp.configuration_id,
            Experiment.status == ExperimentStatus.running)).first()
        if other:
            raise InvalidRequest(f"The experiment {other} already runs on configuration "
                                 f"{exp.configuration_id}; stop it first.",
                                 code="experiment_conflict")
        before = render_experiment(exp, uow)
        exp.status = ExperimentStatus.running
        exp.started_at = exp.updated = uow.clock()
        _emit_updated(exp, before, uow=uow)
        uow.commit()
        return exp


def stop_experiment(experiment_id: str, *, account_id: str, uow: UnitOfWork) -> Experiment:
    """Stop a running experiment. Raises InvalidRequest (``experiment_not_running``)."""
    with uow:
        exp = retrieve_experiment(experiment_id, account_id=account_id, uow=uow)
        if exp.status != ExperimentStatus.running:
            raise InvalidRequest("Only a running experiment can be stopped.",
                                 code="experiment_not_running")
        before = render_experiment(exp, uow)
        exp.status = ExperimentStatus.stopped
        exp.stopped_at = exp.updated = uow.clock()
        _emit_updated(exp, before, uow=uow)
        uow.commit()
        return exp


def ship_variant(experiment_id: str, *, variant_id: str, account_id: str, uow: UnitOfWork
                 ) -> Experiment:
    """Make a variant's offers the configuration's policy; a running experiment stops.

    Raises ResourceMissing, InvalidRequest (``experiment_not_started``).
    """
    with uow:
        exp = retrieve_experiment(experiment_id, account_id=account_id, uow=uow)
        if exp.status == ExperimentStatus.draft:
            raise InvalidRequest("Start the experiment before shipping one of its variants.",
                                 code="experiment_not_started")
        variant = uow.session.get(Variant, variant_id)
        if variant is None or variant.experiment_id != exp.id:
            raise ResourceMissing(f"No such variant: '{variant_id}'", param="variant")
        before = render_experiment(exp, uow)
        now = uow.clock()
        if exp.status == ExperimentStatus.running:
            exp.status = ExperimentStatus.stopped
            exp.stopped_at = now
        exp.shipped_variant_id = variant.id
        exp.updated = now
        set_policy(exp.configuration_id, account_id=account_id, uow=uow,
                   offers=dict(variant.offers))
        _emit_updated(exp, before, uow=uow)
        uow.commit()
        return exp


def experiment_for(configuration_id: str, *, reason: str | None, subscription: StripeObject,
                   uow: UnitOfWork) -> Experiment | None:
    """The running experiment of the configuration this subscription (the billing contract's
    object) and reason fall in."""
    exp = uow.session.exec(select(Experiment).where(
        Experiment.configuration_id == configuration_id,
        Experiment.status == ExperimentStatus.running)).first()
    if exp is None:
        return None
    if exp.reasons and reason not in exp.reasons:
        return None
    prices = [item["price"] for item in subscription_items(subscription)]
    if exp.segment_product_ids and not any(p["product"] in exp.segment_product_ids
                                           for p in prices):
        return None
    if exp.segment_price_ids and not any(p["id"] in exp.segment_price_ids for p in prices):
        return None
    tenure = uow.clock() - from_unix(subscription["start_date"])
    if exp.tenure_min_days is not None and tenure < timedelta(days=exp.tenure_min_days):
        return None
    if exp.tenure_max_days is not None and tenure > timedelta(days=exp.tenure_max_days):
        return None
    return exp


def render_experiment(exp: Experiment, uow: UnitOfWork) -> dict[str, Any]:
    """The experiment as the API shows it (``object: portico.experiment``)."""
    return {
        "id": exp.id,
        "object": "portico.experiment",
        "configuration": exp.configuration_id,
        "created": to_unix(exp.created),
        "holdout_percent": exp.holdout_percent,
        "livemode": False,
        "metadata": dict(exp.metadata_),
        "name": exp.name,
        "reasons": list(exp.reasons),
        "segments": {"prices": list(exp.segment_price_ids),
                     "products": list(exp.segment_product_ids),
                     "tenure_max_days": exp.tenure_max_days,
                     "tenure_min_days": exp.tenure_min_days},
        "shipped_variant": exp.shipped_variant_id,
        "started_at": to_unix(exp.started_at),
        "status": str(exp.status),
        "stopped_at": to_unix(exp.stopped_at),
        "updated": to_unix(exp.updated),
        "variants": [render_variant(v) for v in ordered_variants(exp.id, uow=uow)],
    }


def render_variant(variant: Variant) -> dict[str, Any]:
    """One variant (``object: portico.experiment_variant``); no offers means control."""
    return {"id": variant.id, "object": "portico.experiment_variant",
            "control": not variant.offers, "name": variant.name,
            "offers": dict(variant.offers), "weight": variant.weight}


def _emit_updated(exp: Experiment, before: dict[str, Any], *, uow: UnitOfWork) -> None:
    uow.add(exp)
    uow.flush()
    after = render_experiment(exp, uow)
    previous = {k: before[k] for k in after if before[k] != after[k] and k != "updated"}
    if previous:
        uow.events.append("portico.experiment.updated", after, account_id=exp.account_id,
                          previous_attributes=previous)


def _set_fields(exp: Experiment, *, uow: UnitOfWork, name: Any = UNSET, reasons: Any = UNSET,
                segment_products: Any = UNSET, segment_prices: Any = UNSET,
                tenure_min_days: Any = UNSET, tenure_max_days: Any = UNSET,
                holdout_percent: Any = UNSET, metadata: Any = UNSET) -> None:
    provider = billing_provider(exp.account_id, uow=uow)
    if name is not UNSET:
        if not name or not str(name).strip():
            raise InvalidRequest("Missing required param: name.", param="name",
                                 code="parameter_missing")
        exp.name = str(name).strip()
    if reasons is not UNSET:
        for i, reason in enumerate(reasons or ()):
            if reason not in CANCELLATION_REASONS:
                raise InvalidRequest(f"Invalid reason: must be one of "
                                     f"{', '.join(CANCELLATION_REASONS)}",
                                     param=f"reasons[{i}]")
        exp.reasons = list(dict.fromkeys(reasons or ()))
    if segment_products is not UNSET:
        for i, product in enumerate(segment_products or ()):
            found(provider.retrieve_product, product, param=f"segments[products][{i}]")
        exp.segment_product_ids = list(dict.fromkeys(segment_products or ()))
    if segment_prices is not UNSET:
        for i, price in enumerate(segment_prices or ()):
            found(provider.retrieve_price, price, param=f"segments[prices][{i}]")
        exp.segment_price_ids = list(dict.fromkeys(segment_prices or ()))
    for attr, value in (("tenure_min_days", tenure_min_days),
                        ("tenure_max_days", tenure_max_days)):
        if value is UNSET:
            continue
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):
            raise InvalidRequest(f"Invalid non-negative integer: {value}",
                                 param=f"segments[{attr}]")
        setattr(exp, attr, value)
    if (exp.tenure_min_days is not None and exp.tenure_max_days is not None
            and exp.tenure_min_days > exp.tenure_max_days):
        raise InvalidRequest("segments[tenure_min_days] is above segments[tenure_max_days].",
                             param="segments[tenure_min_days]")
    if holdout_percent is not UNSET:
        value = float(holdout_percent or 0)
        if not 0 <= value < 100:
            raise InvalidRequest("holdout_percent must be at least 0 and below 100.",
                                 param="holdout_percent")
        exp.holdout_percent = value
    if metadata is not UNSET:
        merged = dict(exp.metadata_)
        for key, value in (metadata or {}).items():
            if value in ("", None):
                merged.pop(key, None)
            else:
                merged[key] = str(value)
        exp.metadata_ = merged


def _replace_variants(exp: Experiment, variants: Sequence[VariantSpec], *, uow: UnitOfWork
                      ) -> None:
    if not variants:
        raise InvalidRequest("Missing required param: variants.", param="variants",
                             code="parameter_missing")
    names: set[str] = set()
    checked = []
    for i, spec in enumerate(variants):
        name = (spec.name or "").strip()
        if not name:
            raise InvalidRequest(f"Missing required param: variants[{i}][name].",
                                 param=f"variants[{i}][name]", code="parameter_missing")
        if name in names:
            raise InvalidRequest(f"Two variants are named {name!r}.", param=f"variants[{i}][name]")
        names.add(name)
        if isinstance(spec.weight, bool) or not isinstance(spec.weight, int) or spec.weight < 1:
            raise InvalidRequest(f"Invalid positive integer: {spec.weight}",
                                 param=f"variants[{i}][weight]")
        offers = check_offer_mapping(spec.offers, account_id=exp.account_id, uow=uow,
                                     param=f"variants[{i}][offers]")
        checked.append(Variant(experiment_id=exp.id, name=name, weight=spec.weight,
                               offers=offers, position=i))
    for old in ordered_variants(exp.id, uow=uow):
        uow.session.delete(old)
    uow.flush()
    for variant in checked:
        uow.add(variant)
    uow.flush()
