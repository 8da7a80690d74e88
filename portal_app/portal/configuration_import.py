"""Import a Stripe-backed account's own customer portal configurations into Portico.

A merchant moving from Stripe's portal has configured it there already: which features
are on, the products customers may switch between, the cancellation reasons, the
business profile. ``billing_portal.configurations.list`` on their Stripe account gives
those configurations; each becomes (or updates) a Portico configuration, every field
Portico knows kept as Stripe has it. Each remembers the Stripe configuration it came
from (``imported_from``), so importing again updates instead of duplicating, and the
configuration that is Stripe's default becomes Portico's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select

from portal_app.billing.provider import StripeObject
from portal_app.billing.providers import list_portal_configurations, stripe_calls
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.objects import render_configuration
from portal_app.portal.configurations import (
    DEFAULT_BUSINESS_PROFILE,
    DEFAULT_FEATURES,
    create_configuration,
    update_configuration,
)
from portal_app.portal.models import PortalConfiguration


@dataclass(frozen=True)
class ImportedConfigurations:
    """What an import did, as Portico configuration ids."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    default: str | None = None  # the Portico configuration that is now the default

    @property
    def total(self) -> int:
        """How many Stripe configurations were imported."""
        return len(self.created) + len(self.updated) + len(self.unchanged)


def import_stripe_configurations(account_id: str, *, uow: UnitOfWork) -> ImportedConfigurations:
    """Create or update a Portico configuration for each of the account's Stripe ones.

    Stripe is read first (every page), then everything is written in one transaction:
    a configuration Portico cannot take (a product missing from Stripe, say) leaves no
    half-import. Raises InvalidRequest (the account bills on Portico's ledger, or a
    configuration does not validate, named by ``param``), BillingError (Stripe's).
    """
    calls = stripe_calls(account_id, uow=uow)
    if calls is None:
        raise InvalidRequest("This account bills on Portico's ledger: there is no Stripe "
                             "account to import portal configurations from.")
    found = sorted(list_portal_configurations(calls), key=lambda c: (c["created"] or 0, c["id"]))
    result = ImportedConfigurations()
    with uow:
        imported: dict[str, PortalConfiguration] = {}
        for stripe_config in found:
            imported[stripe_config["id"]] = _import_one(stripe_config, account_id=account_id,
                                                        uow=uow, result=result)
        default = next((imported[c["id"]] for c in found if c.get("is_default")), None)
        if default is not None:
            _make_default(default, account_id=account_id, uow=uow)
        uow.commit()
    return ImportedConfigurations(created=result.created, updated=result.updated,
                                  unchanged=result.unchanged,
                                  default=default.id if default is not None else None)


def portico_parameters(stripe_config: Mapping[str, Any], *,
                       metadata_before: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The parameters that make a Portico configuration equal to ``stripe_config``.

    Fields Portico does not know (Stripe's newer ones) are left out; ``metadata_before``
    (the Portico configuration's metadata) has the keys Stripe no longer has unset.
    """
    login_page = stripe_config.get("login_page") or {}
    metadata = {key: "" for key in metadata_before or {}}
    metadata.update({key: str(value) for key, value in
                     (stripe_config.get("metadata") or {}).items()})
    return {
        "business_profile": known_fields(stripe_config.get("business_profile") or {},
                                         DEFAULT_BUSINESS_PROFILE),
        "features": known_fields(stripe_config.get("features") or {}, DEFAULT_FEATURES),
        "login_page": {"enabled": bool(login_page.get("enabled"))},
        "default_return_url": stripe_config.get("default_return_url") or "",
        "name": stripe_config.get("name") or "",
        "active": bool(stripe_config.get("active", True)),
        "metadata": metadata,
    }


def known_fields(given: Mapping[str, Any], shape: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``given`` that ``shape`` has, nested hashes alike; a null where
    ``shape`` has a hash or a list is left out (Portico's default stands)."""
    kept: dict[str, Any] = {}
    for key, value in given.items():
        if key not in shape:
            continue
        expected = shape[key]
        if isinstance(expected, dict):
            if isinstance(value, Mapping):
                kept[key] = known_fields(value, expected)
        elif isinstance(expected, list):
            if isinstance(value, list):
                kept[key] = value
        else:
            kept[key] = value
    return kept


def _import_one(stripe_config: StripeObject, *, account_id: str, uow: UnitOfWork,
                result: ImportedConfigurations) -> PortalConfiguration:
    existing = uow.session.exec(select(PortalConfiguration).where(
        PortalConfiguration.account_id == account_id,
        PortalConfiguration.imported_from == stripe_config["id"])).first()
    if existing is None:
        config = create_configuration(portico_parameters(stripe_config), account_id=account_id,
                                      uow=uow, is_default=False)
        config.imported_from = stripe_config["id"]
        uow.add(config)
        uow.flush()
        result.created.append(config.id)
        return config
    before = render_configuration(existing)
    # The default cannot be deactivated: Stripe's inactive ones never are its default.
    config = update_configuration(
        existing.id, portico_parameters(stripe_config, metadata_before=existing.metadata_),
        account_id=account_id, uow=uow)
    after = render_configuration(config)
    changed = any(before[k] != after[k] for k in after if k != "updated")
    (result.updated if changed else result.unchanged).append(config.id)
    return config


def _make_default(config: PortalConfiguration, *, account_id: str, uow: UnitOfWork) -> None:
    for other in uow.session.exec(select(PortalConfiguration).where(
            PortalConfiguration.account_id == account_id)).all():
        is_default = other.id == config.id
        if other.is_default != is_default:
            other.is_default = is_default
            uow.add(other)
    uow.flush()
