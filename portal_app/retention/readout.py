"""An experiment's live read-out: the event store as analytics' flow frame, and back.

The console never computes a metric. :func:`flow_events` reads the stored
``portico.cancellation_flow.*`` events of one experiment's flows (within one
account) as the raw frame :mod:`analytics.ingest` flattens, and
:func:`experiment_readout` hands that to :func:`analytics.experiments.experiment_readout`
with the experiment's configured weights and control, returning plain values.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
from sqlmodel import col, select

from analytics import experiments as analytics_experiments
from analytics.experiments import Metric
from analytics.ingest import FLOW_PREFIX, RAW_SCHEMA, flow_frame
from portal_app.db import UnitOfWork
from portal_app.events.models import Event
from portal_app.retention.assignment import ordered_variants
from portal_app.retention.experiments import retrieve_experiment
from portal_app.retention.models import CancellationFlow, Variant

# A sample-ratio-mismatch p-value below this voids the read-out (analytics' default).
SRM_THRESHOLD = 0.001
# A saved customer: an exposed flow that did not end in a cancellation. Comparable
# between offer variants and a no-offer control (see analytics.experiments).
METRIC: Metric = "retained"


@dataclass(frozen=True)
class VariantReadout:
    """One variant's numbers; rates are fractions in [0, 1], None when not measurable."""

    variant_id: str
    name: str
    control: bool  # the variant the others are compared with
    no_offer: bool  # the variant shows no offer at all
    weight: float  # its configured share of the non-held-out customers, 0..1
    exposures: int
    saves: int
    rate: float | None
    rate_low: float | None
    rate_high: float | None
    diff: float | None  # rate minus control's, in fractions
    diff_low: float | None
    diff_high: float | None
    p_value: float | None
    significant: bool
    verdict: str


@dataclass(frozen=True)
class ExperimentReadout:
    """Every variant's read-out and the sample-ratio check of the whole experiment."""

    experiment_id: str
    variants: list[VariantReadout]
    srm_p_value: float | None
    confidence: float

    @property
    def sample_ratio_mismatch(self) -> bool:
        """Whether exposures are too far from the weights to trust any comparison."""
        return self.srm_p_value is not None and self.srm_p_value < SRM_THRESHOLD

    @property
    def exposures(self) -> int:
        """Exposed flows over all variants."""
        return sum(v.exposures for v in self.variants)


def flow_events(experiment_id: str, *, account_id: str, uow: UnitOfWork) -> pl.LazyFrame:
    """The stored flow events of the experiment's flows, as :data:`analytics.ingest.RAW_SCHEMA`.

    Only flows of ``account_id`` that were assigned to the experiment are read.
    """
    flows = select(CancellationFlow.id).where(CancellationFlow.account_id == account_id,
                                              CancellationFlow.experiment_id == experiment_id)
    query = (select(Event)
             .where(Event.account_id == account_id, col(Event.type).startswith(FLOW_PREFIX),
                    col(Event.object_id).in_(flows))
             .order_by(col(Event.seq)))
    with uow:
        rows = [(e.seq, e.id, e.type, _utc(e.created), e.account_id,
                 json.dumps(e.data_object),
                 json.dumps(e.origin) if e.origin is not None else None)
                for e in uow.session.exec(query)]
    return pl.DataFrame(rows, schema=RAW_SCHEMA, orient="row").lazy()


def _utc(value: datetime) -> datetime:
    # SQLite hands timestamps back naive (they are stored in UTC), PostgreSQL aware.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def control_variant(variants: list[Variant]) -> Variant:
    """The variant the others are compared with: the first without offers, else the first."""
    return next((v for v in variants if not v.offers), variants[0])


def experiment_readout(experiment_id: str, *, account_id: str, uow: UnitOfWork,
                       confidence: float = 0.95) -> ExperimentReadout:
    """The experiment's per-variant read-out from its stored events. Raises ResourceMissing."""
    with uow:
        exp = retrieve_experiment(experiment_id, account_id=account_id, uow=uow)
        variants = ordered_variants(exp.id, uow=uow)
        raw = flow_events(exp.id, account_id=account_id, uow=uow)
    if not variants:
        return ExperimentReadout(experiment_id=exp.id, variants=[], srm_p_value=None,
                                 confidence=confidence)
    control = control_variant(variants)
    table = analytics_experiments.experiment_readout(
        flow_frame(raw), experiment=exp.id, weights={v.id: v.weight for v in variants},
        control=control.id, metric=METRIC, confidence=confidence,
        srm_threshold=SRM_THRESHOLD,
    ).collect()
    by_id = {v.id: v for v in variants}
    rows = []
    srm = None
    for row in table.iter_rows(named=True):
        variant = by_id[row["variant"]]
        srm = _number(row["srm_p_value"])
        rows.append(VariantReadout(
            variant_id=variant.id, name=variant.name, control=variant.id == control.id,
            no_offer=not variant.offers, weight=row["weight"], exposures=row["exposures"],
            saves=row["conversions"], rate=_number(row["rate"]),
            rate_low=_number(row["rate_low"]), rate_high=_number(row["rate_high"]),
            diff=_number(row["diff"]), diff_low=_number(row["diff_low"]),
            diff_high=_number(row["diff_high"]), p_value=_number(row["p_value"]),
            significant=bool(row["significant"]), verdict=row["verdict"],
        ))
    return ExperimentReadout(experiment_id=exp.id, variants=rows, srm_p_value=srm,
                             confidence=confidence)


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)
