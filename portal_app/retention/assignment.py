"""Deterministic, sticky assignment of customers to experiment variants.

``sha256(experiment id + ":" + customer id)`` gives a bucket in [0, 1): the
first ``holdout_percent`` of the unit interval is held out, the rest is split
in proportion to the variants' weights. The same customer gets the same arm in
every process, on every run; the arm is also stored at first exposure, so a
later change of weights never moves someone already exposed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from portal_app.db import UnitOfWork
from portal_app.retention.models import Assignment, Experiment, Variant


def bucket(experiment_id: str, customer_id: str) -> float:
    """The customer's point in [0, 1) for this experiment (64 bits of SHA-256)."""
    digest = hashlib.sha256(f"{experiment_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class Arm:
    """Where a bucket lands: a variant, or the holdout (``variant_id`` None)."""

    variant_id: str | None
    holdout: bool


def arm_for(point: float, *, holdout_percent: float,
            variants: Sequence[tuple[str, int]]) -> Arm:
    """The arm of ``point``: holdout below ``holdout_percent``, then weighted variants.

    ``variants`` are ``(id, weight)`` in their fixed order.
    """
    holdout = holdout_percent / 100
    if point < holdout or not variants:
        return Arm(variant_id=None, holdout=True)
    rest = (point - holdout) / (1 - holdout)
    total = sum(weight for _, weight in variants)
    cumulative = 0
    for variant_id, weight in variants:
        cumulative += weight
        if rest < cumulative / total:
            return Arm(variant_id=variant_id, holdout=False)
    return Arm(variant_id=variants[-1][0], holdout=False)


def ordered_variants(experiment_id: str, *, uow: UnitOfWork) -> list[Variant]:
    """The experiment's variants in their declared order."""
    return list(uow.session.exec(
        select(Variant).where(Variant.experiment_id == experiment_id)
        .order_by(col(Variant.position), col(Variant.id))).all())


def assign(experiment: Experiment, customer_id: str, *, uow: UnitOfWork) -> Assignment:
    """The customer's assignment, computed and stored on first exposure, then fixed."""
    with uow:
        existing = _find(experiment.id, customer_id, uow)
        if existing is not None:
            return existing
        point = bucket(experiment.id, customer_id)
        arm = arm_for(point, holdout_percent=experiment.holdout_percent,
                      variants=[(v.id, v.weight) for v in
                                ordered_variants(experiment.id, uow=uow)])
        row = Assignment(experiment_id=experiment.id, customer_id=customer_id,
                         variant_id=arm.variant_id, holdout=arm.holdout, bucket=point,
                         created=uow.clock())
        try:
            with uow.session.begin_nested():  # a concurrent first exposure may win the race
                uow.add(row)
        except IntegrityError:
            winner = _find(experiment.id, customer_id, uow)
            assert winner is not None
            return winner
        uow.commit()
        return row


def _find(experiment_id: str, customer_id: str, uow: UnitOfWork) -> Assignment | None:
    return uow.session.exec(select(Assignment).where(
        Assignment.experiment_id == experiment_id,
        Assignment.customer_id == customer_id)).first()
