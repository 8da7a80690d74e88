"""The cancel flow the portal's cancel pages drive: reason, offer, decision.

Every function takes the :class:`PortalSession` the page runs in and acts only
on that session's customer, configuration and flows: ids that come from the
browser (subscription, flow, offer) are looked up within them, and anything
else is ResourceMissing. Every step appends a ``portico.cancellation_flow.*``
event (see ``docs``: the retention event contract), and the unit of work's
``origin`` names the session, configuration, flow, experiment and variant, so
the subscription events the billing change records on the way carry them too.
Billing is reached through the contract (``billing_provider(account_id, uow=uow)``),
whose calls join the step's unit of work: a step and the change it makes commit
together or not at all.

Typical use from a State::

    start = flows.start_flow(session, "sub_...", uow=uow)        # reasons to offer
    offer = flows.submit_reason(session, start.flow.id, "too_expensive", None, uow=uow)
    if offer: flows.accept_offer(session, start.flow.id, offer.id, uow=uow)  # customer stays
    else:     flows.confirm_cancel(session, start.flow.id, uow=uow)

Errors are InvalidRequest with a stable ``code`` the page can translate:
``subscription_cancel_disabled``, ``subscription_not_cancelable``, ``reason_invalid``,
``reason_required``, ``comment_required``, ``comment_too_long``, ``flow_closed``,
``offer_not_presented``, ``offer_accepted``, ``offer_not_eligible`` (an
:class:`~portal_app.retention.offers.OfferNotEligible` with its ``rule``), and the
billing provider's own codes when applying an offer fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, update
from sqlmodel import col, select

from portal_app.billing.provider import BillingProvider, StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.clock import from_unix, to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.portal.configurations import found
from portal_app.portal.models import PortalConfiguration, PortalSession
from portal_app.retention.assignment import assign
from portal_app.retention.experiments import experiment_for
from portal_app.retention.models import (
    CancellationFlow,
    FlowStatus,
    Offer,
    OfferType,
    Variant,
)
from portal_app.retention.offers import (
    OfferView,
    apply_offer,
    check_eligibility,
    create_offer,
    ensure_eligible,
    offer_for_reason,
    offer_view,
)
from portal_app.retention.policies import retrieve_policy
from portal_app.retention.subscriptions import subscription_mrr
from portal_app.stripe_shapes import current_period_end

# A cancellation this soon after accepting an offer is the churn of a saved customer:
# its events carry the experiment and variant of the save.
ATTRIBUTION_DAYS = 90
COMMENT_MAX_LENGTH = 500
CANCELABLE = ("active", "trialing", "past_due")
OPEN = (FlowStatus.started, FlowStatus.offer_presented, FlowStatus.offer_declined)
EVENT_PREFIX = "portico.cancellation_flow."


@dataclass(frozen=True)
class FlowView:
    """A flow as the cancel pages show it."""

    id: str
    status: str
    subscription_id: str
    reason: str | None
    comment: str | None
    offer: OfferView | None  # the offer presented in this flow, if any
    experiment_id: str | None
    variant_id: str | None
    holdout: bool
    outcome: dict[str, Any] | None  # what accepting did, e.g. {"resumes_at": 1767225600}
    cancel_at: datetime | None  # when the subscription ends (known once completed)


@dataclass(frozen=True)
class FlowStart:
    """The reason step: which reasons to offer, and what is mandatory."""

    flow: FlowView
    reasons: tuple[str, ...]  # the configuration's options; empty: skip the reason step
    reason_required: bool
    comment_required: bool
    mode: str  # at_period_end | immediately
    cancels_at: datetime  # when confirming would end the subscription


def start_flow(session: PortalSession, subscription_id: str, *, uow: UnitOfWork) -> FlowStart:
    """Begin (or resume) the cancel flow of one of the session's customer's subscriptions.

    Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        s = _session(session, uow)
        config = _configuration(s, uow)
        cancel = config.features.get("subscription_cancel") or {}
        if not cancel.get("enabled"):
            raise InvalidRequest("Cancelling is not available in this portal.",
                                 code="subscription_cancel_disabled")
        billing = _billing(s, uow)
        sub = billing.retrieve_subscription(subscription_id, customer_id=s.customer_id)
        if sub["status"] not in CANCELABLE or sub["cancel_at_period_end"]:
            raise InvalidRequest("This subscription cannot be canceled.",
                                 code="subscription_not_cancelable", param="subscription")
        flow = uow.session.exec(select(CancellationFlow).where(
            CancellationFlow.portal_session_id == s.id,
            CancellationFlow.subscription_id == sub["id"],
            col(CancellationFlow.status).in_([st.value for st in OPEN]),
        ).order_by(col(CancellationFlow.created).desc())).first()
        if flow is None:
            now = uow.clock()
            discounts = billing.list_subscription_discounts(sub["id"], customer_id=s.customer_id)
            flow = CancellationFlow(
                account_id=s.account_id, customer_id=s.customer_id, subscription_id=sub["id"],
                configuration_id=s.configuration_id, portal_session_id=s.id,
                mrr=subscription_mrr(sub, discounts=discounts, now=now),
                currency=sub["currency"], created=now, updated=now)
            uow.add(flow)
            uow.flush()
            with _origin(uow, s, flow):
                _emit(flow, "started", uow=uow)
        reasons = _reason_options(config)
        policy = retrieve_policy(config.id, account_id=s.account_id, uow=uow)
        mode = cancel.get("mode") or "at_period_end"
        start = FlowStart(
            flow=_view(flow, sub, uow), reasons=reasons, reason_required=bool(reasons),
            comment_required=bool(policy and policy.comment_required), mode=mode,
            cancels_at=current_period_end(sub) if mode == "at_period_end" else uow.clock())
        uow.commit()
        return start


def submit_reason(session: PortalSession, flow_id: str, reason: str | None,
                  comment: str | None = None, *, uow: UnitOfWork) -> OfferView | None:
    """Record the reason and comment; the offer to show for them, or None.

    The offer comes from the session's own retention coupon
    (``flow_data.subscription_cancel.retention``), else the running experiment's
    arm for this customer, else the configuration's policy — and only if the
    customer is eligible for it now. Deciding happens once per flow; submitting
    again changes the reason but shows the same offer.
    Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        s = _session(session, uow)
        flow = _flow(s, flow_id, uow)
        if flow.status not in OPEN:
            raise InvalidRequest("This cancellation has already been decided.",
                                 code="flow_closed")
        config = _configuration(s, uow)
        reason, comment = _check_answers(config, s, reason, comment, uow=uow)
        sub = _subscription(s, flow, uow)
        if flow.offer_decided or not _claim(flow, uow, offer_decided=True):
            # Decided before (or by a simultaneous submission): the same offer again.
            flow.reason, flow.comment = reason, comment
            flow.updated = uow.clock()
            uow.add(flow)
            uow.commit()
            offer = uow.session.get(Offer, flow.offer_id) if flow.offer_id else None
            if offer is None or flow.status != FlowStatus.offer_presented:
                return None
            return offer_view(offer, subscription=sub, uow=uow)
        flow.reason, flow.comment = reason, comment
        flow.updated = uow.clock()
        offer, exposed = _choose_offer(s, flow, sub, reason, uow=uow)
        if offer is not None:
            flow.offer_id, flow.offer_type = offer.id, offer.type
            flow.status = FlowStatus.offer_presented
        uow.add(flow)
        uow.flush()
        if offer is not None or exposed:
            # With an experiment, "no offer" (control, holdout) is an exposure too.
            with _origin(uow, s, flow):
                _emit(flow, "offer_presented", uow=uow,
                      previous={"status": str(FlowStatus.started)} if offer else None)
        view = offer_view(offer, subscription=sub, uow=uow) if offer else None
        if view is not None:
            flow.presented = _dump(view)
            uow.add(flow)
        uow.commit()
        return view


def accept_offer(session: PortalSession, flow_id: str, offer_id: str, *, uow: UnitOfWork
                 ) -> FlowView:
    """Apply the offer presented in this flow, for real; the customer stays.

    Accepting again returns the same result without applying anything twice. The
    offer's limits (once per subscription per 12 months by default) are checked with the
    subscription's flows locked, so two acceptances at once on two flows apply one.
    Raises ResourceMissing, InvalidRequest (``offer_not_presented``,
    ``offer_not_eligible``, the billing provider's codes).
    """
    with uow:
        s = _session(session, uow)
        flow = _flow(s, flow_id, uow)
        _lock_subscription_flows(flow, uow)
        sub = _subscription(s, flow, uow)
        if flow.status == FlowStatus.offer_accepted and flow.offer_id == offer_id:
            return _view(flow, sub, uow)
        if flow.status != FlowStatus.offer_presented or flow.offer_id != offer_id:
            raise InvalidRequest("This offer was not presented in this cancellation.",
                                 code="offer_not_presented", param="offer")
        offer = uow.get(Offer, offer_id, account_id=s.account_id, param="offer", label="offer")
        ensure_eligible(offer, subscription=sub, reason=flow.reason, uow=uow)
        if not _claim(flow, uow, status=FlowStatus.offer_accepted):
            # A simultaneous acceptance won: it applied the offer, this one applies nothing.
            if flow.status == FlowStatus.offer_accepted and flow.offer_id == offer_id:
                return _view(flow, sub, uow)
            raise InvalidRequest("This offer was not presented in this cancellation.",
                                 code="offer_not_presented", param="offer")
        with _origin(uow, s, flow):
            flow.outcome = apply_offer(offer, subscription=sub, customer_id=s.customer_id,
                                       uow=uow)
            now = uow.clock()
            flow.status = FlowStatus.offer_accepted
            flow.accepted_at = flow.updated = now
            uow.add(flow)
            uow.flush()
            _emit(flow, "offer_accepted", uow=uow,
                  previous={"status": str(FlowStatus.offer_presented)})
        view = _view(flow, _subscription(s, flow, uow), uow)
        uow.commit()
        return view


def decline_offer(session: PortalSession, flow_id: str, *, uow: UnitOfWork) -> FlowView:
    """Turn the presented offer down; the flow goes on to confirm.

    Raises ResourceMissing, InvalidRequest (``offer_not_presented``).
    """
    with uow:
        s = _session(session, uow)
        flow = _flow(s, flow_id, uow, lock=True)
        sub = _subscription(s, flow, uow)
        if flow.status == FlowStatus.offer_declined:
            return _view(flow, sub, uow)
        if flow.status != FlowStatus.offer_presented or not _claim(
                flow, uow, status=FlowStatus.offer_declined):
            if flow.status == FlowStatus.offer_declined:
                return _view(flow, sub, uow)
            raise InvalidRequest("No offer is waiting for an answer in this cancellation.",
                                 code="offer_not_presented")
        _decline(s, flow, uow=uow)
        view = _view(flow, sub, uow)
        uow.commit()
        return view


def confirm_cancel(session: PortalSession, flow_id: str, *, uow: UnitOfWork) -> FlowView:
    """Cancel as the configuration says (at period end or now), with the survey answer.

    The subscription's ``cancellation_details`` get ``feedback`` (the reason),
    ``comment`` and ``reason=cancellation_requested``. An offer still on the table
    counts as declined. Confirming again returns the same result.
    Raises ResourceMissing, InvalidRequest (``offer_accepted``, ``reason_required``,
    ``comment_required``, the billing provider's codes).
    """
    with uow:
        s = _session(session, uow)
        flow = _flow(s, flow_id, uow, lock=True)
        sub = _subscription(s, flow, uow)
        if flow.status == FlowStatus.completed:
            return _view(flow, sub, uow)
        if flow.status == FlowStatus.offer_accepted:
            raise InvalidRequest("This subscription was kept with an offer; start again to "
                                 "cancel it.", code="offer_accepted")
        config = _configuration(s, uow)
        _check_answers(config, s, flow.reason, flow.comment, uow=uow)
        prior = flow.status
        if not _claim(flow, uow, status=FlowStatus.completed):
            if flow.status == FlowStatus.completed:  # a simultaneous confirmation won
                return _view(flow, sub, uow)
            raise InvalidRequest("This subscription was kept with an offer; start again to "
                                 "cancel it.", code="offer_accepted")
        if prior == FlowStatus.offer_presented:
            _decline(s, flow, uow=uow)  # an offer still on the table counts as declined
        cancel = config.features.get("subscription_cancel") or {}
        immediately = cancel.get("mode") == "immediately"
        behavior = cancel.get("proration_behavior") or "none"
        with _origin(uow, s, flow, attribution=_saved_by(flow, uow)):
            sub = _billing(s, uow).cancel_subscription(
                sub["id"], customer_id=s.customer_id, at_period_end=not immediately,
                feedback=flow.reason, comment=flow.comment,
                prorate=immediately and behavior != "none",
                invoice_now=immediately and behavior == "always_invoice")
            previous = {"status": str(flow.status if prior == FlowStatus.offer_presented
                                      else prior)}
            flow.status = FlowStatus.completed
            flow.completed_at = flow.updated = uow.clock()
            uow.add(flow)
            uow.flush()
            _emit(flow, "completed", uow=uow, previous=previous)
        view = _view(flow, sub, uow)
        uow.commit()
        return view


def retrieve_flow(session: PortalSession, flow_id: str, *, uow: UnitOfWork) -> FlowView:
    """One of this session's flows, as the pages show it. Raises ResourceMissing."""
    with uow:
        s = _session(session, uow)
        flow = _flow(s, flow_id, uow)
        return _view(flow, _subscription(s, flow, uow), uow)


# --- rendering ---------------------------------------------------------------------------


def render_flow(flow: CancellationFlow) -> dict[str, Any]:
    """The flow as its events carry it (``object: portico.cancellation_flow``)."""
    return {
        "id": flow.id,
        "object": "portico.cancellation_flow",
        "customer": flow.customer_id,
        "subscription": flow.subscription_id,
        "configuration": flow.configuration_id,
        "portal_session": flow.portal_session_id,
        "reason": flow.reason,
        "comment": flow.comment,
        "offer": ({"id": flow.offer_id, "type": str(flow.offer_type)}
                  if flow.offer_id else None),
        "experiment": flow.experiment_id,
        "variant": flow.variant_id,
        "holdout": flow.holdout,
        "mrr": flow.mrr,
        "currency": flow.currency,
        "status": str(flow.status),
        "created": to_unix(flow.created),
    }


# --- the steps' shared parts -------------------------------------------------------------


def _session(session: PortalSession, uow: UnitOfWork) -> PortalSession:
    """The session row itself: its customer and configuration, never a caller's copy."""
    row = uow.session.get(PortalSession, session.id)
    if row is None or row.account_id != session.account_id:
        raise ResourceMissing(f"No such portal session: '{session.id}'", param="session")
    return row


def _billing(s: PortalSession, uow: UnitOfWork) -> BillingProvider:
    """The session account's billing, inside this unit of work (a step and its change
    commit together)."""
    return billing_provider(s.account_id, uow=uow)


def _subscription(s: PortalSession, flow: CancellationFlow, uow: UnitOfWork) -> StripeObject:
    """The flow's subscription, as the session's customer may see it."""
    return _billing(s, uow).retrieve_subscription(flow.subscription_id,
                                                  customer_id=s.customer_id)


def _configuration(s: PortalSession, uow: UnitOfWork) -> PortalConfiguration:
    return uow.get(PortalConfiguration, s.configuration_id, account_id=s.account_id,
                   param="configuration", label="configuration")


def _flow(s: PortalSession, flow_id: str, uow: UnitOfWork, *, lock: bool = False
          ) -> CancellationFlow:
    """A flow of this session (and so of its customer); any other id is missing."""
    flow = uow.session.get(CancellationFlow, flow_id, with_for_update=lock) if flow_id else None
    if flow is None or flow.account_id != s.account_id or flow.customer_id != s.customer_id \
            or flow.portal_session_id != s.id:
        raise ResourceMissing(f"No such cancellation flow: '{flow_id}'", param="flow")
    return flow


def _lock_subscription_flows(flow: CancellationFlow, uow: UnitOfWork) -> None:
    """Hold every flow of ``flow``'s subscription (``flow`` re-read) until the transaction ends.

    Of two offers accepted at once on two flows of one subscription (two tabs, two
    sessions), the second waits here until the first commits, then counts it: the
    offers' redemption limits hold under concurrency. Rows are locked in id order, so
    two acceptances never deadlock; SQLite takes its write lock first instead.
    """
    uow.lock_for_writing()
    uow.session.exec(
        select(CancellationFlow)
        .where(CancellationFlow.subscription_id == flow.subscription_id)
        .order_by(col(CancellationFlow.id))
        .with_for_update()
        .execution_options(populate_existing=True)).all()


def _reason_options(config: PortalConfiguration) -> tuple[str, ...]:
    reason = (config.features.get("subscription_cancel") or {}).get("cancellation_reason") or {}
    return tuple(reason.get("options") or ()) if reason.get("enabled") else ()


def _check_answers(config: PortalConfiguration, s: PortalSession, reason: str | None,
                   comment: str | None, *, uow: UnitOfWork) -> tuple[str | None, str | None]:
    options = _reason_options(config)
    if options:
        if not reason:
            raise InvalidRequest("Please choose a reason.", code="reason_required",
                                 param="reason")
        if reason not in options:
            raise InvalidRequest(f"Invalid reason: must be one of {', '.join(options)}",
                                 code="reason_invalid", param="reason")
    else:
        reason = None
    comment = (comment or "").strip() or None
    policy = retrieve_policy(config.id, account_id=s.account_id, uow=uow)
    if policy is not None and policy.comment_required and comment is None:
        raise InvalidRequest("Please tell us a little more.", code="comment_required",
                             param="comment")
    if comment is not None and len(comment) > COMMENT_MAX_LENGTH:
        raise InvalidRequest(f"The comment can be at most {COMMENT_MAX_LENGTH} characters.",
                             code="comment_too_long", param="comment")
    return reason, comment


def _choose_offer(s: PortalSession, flow: CancellationFlow, sub: StripeObject,
                  reason: str | None, *, uow: UnitOfWork) -> tuple[Offer | None, bool]:
    """The offer to present (if eligible) and whether an experiment exposed the customer."""
    retention_coupon = _session_retention_coupon(s, sub)
    if retention_coupon is not None:
        session_offer = _flow_data_offer(retention_coupon, account_id=s.account_id, uow=uow)
        return _if_eligible(session_offer, s, sub, reason, uow), False
    experiment = experiment_for(s.configuration_id, reason=reason, subscription=sub, uow=uow)
    if experiment is not None:
        assignment = assign(experiment, s.customer_id, uow=uow)
        flow.experiment_id, flow.variant_id = experiment.id, assignment.variant_id
        flow.holdout = assignment.holdout
        if assignment.variant_id is None:
            return None, True
        variant = uow.session.get(Variant, assignment.variant_id)
        offer_id = offer_for_reason(variant.offers, reason) if variant else None
        arm_offer = uow.session.get(Offer, offer_id) if offer_id else None
        return _if_eligible(arm_offer, s, sub, reason, uow), True
    policy = retrieve_policy(s.configuration_id, account_id=s.account_id, uow=uow)
    offer_id = offer_for_reason(policy.offers, reason) if policy else None
    offer = uow.session.get(Offer, offer_id) if offer_id else None
    return _if_eligible(offer, s, sub, reason, uow), False


def _if_eligible(offer: Offer | None, s: PortalSession, sub: StripeObject, reason: str | None,
                 uow: UnitOfWork) -> Offer | None:
    if offer is None or offer.account_id != s.account_id:
        return None
    return offer if check_eligibility(offer, subscription=sub, reason=reason,
                                      uow=uow) is None else None


def _session_retention_coupon(s: PortalSession, sub: StripeObject) -> str | None:
    """The coupon of ``flow_data.subscription_cancel.retention`` for this subscription."""
    flow = s.flow or {}
    detail = flow.get("subscription_cancel") or {}
    if flow.get("type") != "subscription_cancel" or detail.get("subscription") != sub["id"]:
        return None
    retention = detail.get("retention") or {}
    if retention.get("type") != "coupon_offer":
        return None
    return (retention.get("coupon_offer") or {}).get("coupon")


def _flow_data_offer(coupon_id: str, *, account_id: str, uow: UnitOfWork) -> Offer:
    """The coupon offer standing for a session's retention coupon (made once per coupon)."""
    offer = uow.session.exec(select(Offer).where(
        Offer.account_id == account_id, Offer.source == "flow_data",
        Offer.coupon_id == coupon_id)).first()
    if offer is not None:
        return offer
    coupon = found(billing_provider(account_id, uow=uow).retrieve_coupon, coupon_id,
                   param="coupon")
    return create_offer(account_id=account_id, uow=uow, type=OfferType.coupon.value,
                        name=coupon["name"] or "Retention coupon", coupon=coupon["id"],
                        source="flow_data")


def _claim(flow: CancellationFlow, uow: UnitOfWork, *, status: FlowStatus | None = None,
           offer_decided: bool | None = None) -> bool:
    """Move the flow on in one conditional UPDATE; False when another request moved it first.

    The UPDATE only matches the row as this request read it (its status, whether the
    offer was decided), so of two simultaneous requests exactly one wins — on SQLite
    the second waits for the first's write lock, on PostgreSQL for its row lock — and
    the loser sees the winner's row. Nothing is applied twice.
    """
    values: dict[str, Any] = {"updated": uow.clock()}
    if status is not None:
        values["status"] = status
    if offer_decided is not None:
        values["offer_decided"] = offer_decided
    result: CursorResult[Any] = uow.session.execute(  # type: ignore[assignment]
        update(CancellationFlow)
        .where(col(CancellationFlow.id) == flow.id,
               col(CancellationFlow.status) == flow.status,
               col(CancellationFlow.offer_decided) == flow.offer_decided)
        .values(**values)
        .execution_options(synchronize_session=False))
    uow.session.refresh(flow)
    return bool(result.rowcount)


def _decline(s: PortalSession, flow: CancellationFlow, *, uow: UnitOfWork) -> None:
    flow.status = FlowStatus.offer_declined
    flow.declined_at = flow.updated = uow.clock()
    uow.add(flow)
    uow.flush()
    with _origin(uow, s, flow):
        _emit(flow, "offer_declined", uow=uow,
              previous={"status": str(FlowStatus.offer_presented)})


def _saved_by(flow: CancellationFlow, uow: UnitOfWork) -> CancellationFlow | None:
    """The flow in which this customer accepted an offer on this subscription lately."""
    since = uow.clock() - timedelta(days=ATTRIBUTION_DAYS)
    return uow.session.exec(select(CancellationFlow).where(
        CancellationFlow.subscription_id == flow.subscription_id,
        CancellationFlow.customer_id == flow.customer_id,
        CancellationFlow.status == FlowStatus.offer_accepted,
        col(CancellationFlow.accepted_at) >= since,
        CancellationFlow.id != flow.id,
    ).order_by(col(CancellationFlow.accepted_at).desc())).first()


@contextmanager
def _origin(uow: UnitOfWork, s: PortalSession, flow: CancellationFlow, *,
            attribution: CancellationFlow | None = None) -> Iterator[None]:
    """Name the session, flow, experiment and variant on every event appended inside.

    ``attribution`` (the flow that saved this customer earlier) names that flow's
    experiment and variant instead, so a saved customer's churn is counted against them.
    """
    origin: dict[str, Any] = {"portal_session": s.id, "configuration": s.configuration_id,
                              "cancellation_flow": flow.id}
    source = attribution if attribution is not None and attribution.experiment_id else flow
    if source.experiment_id:
        origin["experiment"] = source.experiment_id
    if source.variant_id:
        origin["variant"] = source.variant_id
    if attribution is not None:
        origin["saved_by_flow"] = attribution.id
    previous, uow.origin = uow.origin, origin
    try:
        yield
    finally:
        uow.origin = previous


def _emit(flow: CancellationFlow, step: str, *, uow: UnitOfWork,
          previous: dict[str, Any] | None = None) -> None:
    uow.events.append(EVENT_PREFIX + step, render_flow(flow), account_id=flow.account_id,
                      previous_attributes=previous)


def _dump(view: OfferView) -> dict[str, Any]:
    return {name: to_unix(value) if isinstance(value, datetime) else value
            for name, value in asdict(view).items()}


def _load(data: dict[str, Any]) -> OfferView:
    values: dict[str, Any] = {name: from_unix(value) if name in _VIEW_TIMES and value is not None
                              else value for name, value in data.items()}
    return OfferView(**values)


_VIEW_TIMES = frozenset(f.name for f in fields(OfferView) if "datetime" in str(f.type))


def _view(flow: CancellationFlow, sub: StripeObject, uow: UnitOfWork) -> FlowView:
    offer_shown: OfferView | None = None
    if flow.status == FlowStatus.offer_presented and flow.offer_id:
        # Still on the table: what accepting would do now.
        offer = uow.session.get(Offer, flow.offer_id)
        offer_shown = offer_view(offer, subscription=sub, uow=uow) if offer else None
    elif flow.presented:
        offer_shown = _load(flow.presented)  # decided: what was shown
    cancel_at = None
    if flow.status == FlowStatus.completed:
        ends = sub["ended_at"] or sub["cancel_at"]
        cancel_at = from_unix(ends) if ends is not None else None
    return FlowView(
        id=flow.id, status=str(flow.status), subscription_id=flow.subscription_id,
        reason=flow.reason, comment=flow.comment,
        offer=offer_shown,
        experiment_id=flow.experiment_id, variant_id=flow.variant_id, holdout=flow.holdout,
        outcome=dict(flow.outcome) if flow.outcome else None, cancel_at=cancel_at)
