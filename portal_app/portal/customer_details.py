"""What a portal session may change about its customer: billing details and tax IDs.

The configuration's ``features.customer_update`` governs it, as Stripe's does: when
``enabled``, the customer may edit the fields in ``allowed_updates`` (``email``,
``address``, ``shipping``, ``phone``, ``name``, ``tax_id``) and nothing else. Every rule
re-reads the configuration, acts on the session's customer only, and goes through the
billing contract. A change asking for a field that is not allowed is refused whole
(the portal's pages never send one); an address is checked against its country's rules
(:mod:`portal_app.addresses`) before anything is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal_app.addresses import REQUIRED, validate_address
from portal_app.billing.provider import StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.i18n import _, gettext
from portal_app.portal.models import PortalSession
from portal_app.portal.subscription_actions import origin, portal_features

# The customer's own fields each allowed update covers (``tax_id`` is its own calls).
FIELDS_OF_UPDATE = {"email": ("email",), "name": ("name",), "phone": ("phone",),
                    "address": ("address",), "shipping": ("shipping",)}

INVALID_EMAIL = _("Enter a valid email address.")


class DetailsRefusal(InvalidRequest):
    """The configuration does not let the customer change this (``code``: why)."""

    def __init__(self, code: str, param: str | None = None) -> None:
        super().__init__(f"customer_update refused: {code}", code=code, param=param)


class DetailsInvalid(InvalidRequest):
    """Some fields cannot be saved: ``errors`` maps ``address.postal_code``-style keys
    to messages in the customer's language."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        first = sorted(errors)[0]
        super().__init__(errors[first], code="invalid_details", param=first)
        self.errors = dict(errors)


def allowed_updates(features: Mapping[str, Any] | None) -> frozenset[str]:
    """What ``features.customer_update`` lets the customer change (nothing when disabled)."""
    update = (features or {}).get("customer_update") or {}
    if not update.get("enabled"):
        return frozenset()
    return frozenset(update.get("allowed_updates") or ())


def session_allowed_updates(session: PortalSession, *, uow: UnitOfWork) -> frozenset[str]:
    """The session's configuration's allowed updates. Raises ResourceMissing."""
    with uow:
        return allowed_updates(portal_features(session, uow=uow))


def _clean_address(address: Mapping[str, Any]) -> dict[str, str | None]:
    keys = ("line1", "line2", "city", "state", "postal_code", "country")
    cleaned = {key: (str(address.get(key) or "").strip() or None) for key in keys}
    if cleaned["country"]:
        cleaned["country"] = cleaned["country"].upper()
    return cleaned


def update_details(session: PortalSession, change: Mapping[str, Any], *, locale: str,
                   uow: UnitOfWork) -> StripeObject:
    """Save the customer's ``change`` (Stripe's field names; ``address`` and ``shipping``
    as hashes, ``shipping`` with its ``name`` and ``phone``); returns the customer.

    Raises DetailsRefusal (``customer_update_disabled``, or ``not_allowed`` naming the
    field), DetailsInvalid (field -> message), ResourceMissing.
    """
    with uow:
        uow.origin = origin(session)
        allowed = session_allowed_updates(session, uow=uow)
        if not allowed - {"tax_id"}:
            raise DetailsRefusal("customer_update_disabled")
        permitted = {f for update in allowed for f in FIELDS_OF_UPDATE.get(update, ())}
        for name in change:
            if name not in permitted:
                raise DetailsRefusal("not_allowed", param=name)
        fields: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name in ("name", "phone"):
            if name in change:
                fields[name] = str(change[name] or "").strip()
        if "email" in change:
            email = str(change["email"] or "").strip()
            if not email or "@" not in email.strip("@"):
                errors["email"] = gettext(locale, INVALID_EMAIL)
            fields["email"] = email
        if "address" in change:
            fields["address"] = _clean_address(change["address"] or {})
            errors |= {f"address.{k}": v
                       for k, v in validate_address(fields["address"], locale).items()}
        if "shipping" in change and change["shipping"] is not None:
            shipping = change["shipping"]
            address = _clean_address(shipping.get("address") or {})
            fields["shipping"] = {"name": str(shipping.get("name") or "").strip(),
                                  "phone": str(shipping.get("phone") or "").strip() or None,
                                  "address": address}
            if not fields["shipping"]["name"]:
                errors["shipping.name"] = gettext(locale, REQUIRED)
            errors |= {f"shipping.{k}": v
                       for k, v in validate_address(address, locale).items()}
        elif "shipping" in change:
            fields["shipping"] = None
        if errors:
            raise DetailsInvalid(errors)
        billing = billing_provider(session.account_id, uow=uow)
        customer = billing.update_customer(session.customer_id, **fields)
        uow.commit()
        return customer


def _require_tax_ids(session: PortalSession, uow: UnitOfWork) -> None:
    if "tax_id" not in session_allowed_updates(session, uow=uow):
        raise DetailsRefusal("not_allowed", param="tax_id")


def list_tax_ids(session: PortalSession, *, uow: UnitOfWork) -> list[StripeObject]:
    """The session customer's tax IDs, newest first. Raises ResourceMissing."""
    with uow:
        return billing_provider(session.account_id, uow=uow).list_tax_ids(session.customer_id)


def add_tax_id(session: PortalSession, *, type: str, value: str, uow: UnitOfWork
               ) -> StripeObject:
    """Add a tax ID to the session's customer (when ``tax_id`` updates are allowed).

    Raises DetailsRefusal, InvalidRequest (``tax_id_invalid``), ResourceMissing.
    """
    with uow:
        uow.origin = origin(session)
        _require_tax_ids(session, uow)
        tax_id = billing_provider(session.account_id, uow=uow).create_tax_id(
            session.customer_id, type=type, value=value)
        uow.commit()
        return tax_id


def remove_tax_id(session: PortalSession, tax_id: str, *, uow: UnitOfWork) -> StripeObject:
    """Remove one of the session customer's tax IDs (another's is ResourceMissing).

    Raises DetailsRefusal, ResourceMissing.
    """
    with uow:
        uow.origin = origin(session)
        _require_tax_ids(session, uow)
        deleted = billing_provider(session.account_id, uow=uow).delete_tax_id(
            session.customer_id, tax_id)
        uow.commit()
        return deleted
