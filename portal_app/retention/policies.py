"""Which offers a portal configuration uses, per cancellation reason.

A policy maps a reason (or ``default``, for any reason) to an offer id; shipping
an experiment's variant replaces it. ``comment_required`` makes the cancel
page's free-text comment mandatory (Stripe has no such setting; Portico keeps
it beside the configuration).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import select

from portal_app.clock import to_unix
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.portal.configurations import CANCELLATION_REASONS
from portal_app.portal.models import PortalConfiguration
from portal_app.retention.models import DEFAULT_REASON, Offer, RetentionPolicy

REASON_KEYS = (*CANCELLATION_REASONS, DEFAULT_REASON)


def check_offer_mapping(offers: Mapping[str, str], *, account_id: str, uow: UnitOfWork,
                        param: str) -> dict[str, str]:
    """A reason → offer mapping with known reasons and offers of this account.

    Raises InvalidRequest, ResourceMissing.
    """
    out: dict[str, str] = {}
    for reason, offer_id in offers.items():
        if reason not in REASON_KEYS:
            raise InvalidRequest(f"Invalid reason {reason!r}: must be one of "
                                 f"{', '.join(REASON_KEYS)}", param=f"{param}[{reason}]")
        if not offer_id:
            continue
        uow.get(Offer, offer_id, account_id=account_id, param=f"{param}[{reason}]",
                label="offer")
        out[reason] = offer_id
    return out


def retrieve_policy(configuration_id: str, *, account_id: str, uow: UnitOfWork
                    ) -> RetentionPolicy | None:
    """The configuration's policy, if it has one. Raises ResourceMissing (configuration)."""
    with uow:
        uow.get(PortalConfiguration, configuration_id, account_id=account_id,
                param="configuration", label="configuration")
        return uow.session.exec(select(RetentionPolicy).where(
            RetentionPolicy.configuration_id == configuration_id)).first()


def set_policy(configuration_id: str, *, account_id: str, uow: UnitOfWork,
               offers: Mapping[str, str] | None = None,
               comment_required: bool | None = None) -> RetentionPolicy:
    """Set the configuration's offers per reason (replacing them) and/or the comment rule.

    Raises ResourceMissing, InvalidRequest.
    """
    with uow:
        policy = retrieve_policy(configuration_id, account_id=account_id, uow=uow)
        now = uow.clock()
        if policy is None:
            policy = RetentionPolicy(account_id=account_id, configuration_id=configuration_id,
                                     created=now, updated=now)
        before = render_policy(policy) if policy.offers or policy.comment_required else None
        if offers is not None:
            policy.offers = check_offer_mapping(offers, account_id=account_id, uow=uow,
                                                param="offers")
        if comment_required is not None:
            policy.comment_required = comment_required
        policy.updated = now
        uow.add(policy)
        uow.flush()
        after = render_policy(policy)
        previous = ({k: before[k] for k in after if before[k] != after[k] and k != "updated"}
                    if before else None)
        uow.events.append("portico.retention_policy.updated", after, account_id=account_id,
                          previous_attributes=previous)
        uow.commit()
        return policy


def render_policy(policy: RetentionPolicy) -> dict[str, Any]:
    """The policy as the API and the event store show it."""
    return {"id": policy.id, "object": "portico.retention_policy",
            "comment_required": policy.comment_required,
            "configuration": policy.configuration_id, "created": to_unix(policy.created),
            "livemode": False, "offers": dict(policy.offers),
            "updated": to_unix(policy.updated)}
