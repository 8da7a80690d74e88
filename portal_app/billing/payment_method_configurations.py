"""Payment method configurations (``pmc_``): which payment method types are offered.

Each type has the merchant's ``display_preference.preference`` (``on``, ``off``, or
``none``: Stripe's default for the type applies) and the resulting ``value``; the
portal lets a customer add only the types whose value is ``on``. An account's first
configuration is its default (``is_default``); it is made when first needed.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import col, select

from portal_app.billing.models import PaymentMethodConfiguration
from portal_app.billing.payment_objects import CONFIGURABLE_TYPES, preference_of
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest

PREFERENCES = ("on", "off", "none")


def _preferences(given: Mapping[str, str], *, into: dict[str, str]) -> dict[str, str]:
    merged = dict(into)
    for type, preference in given.items():
        if type not in CONFIGURABLE_TYPES:
            raise InvalidRequest(f"Received unknown parameter: {type}", param=type)
        if preference not in PREFERENCES:
            raise InvalidRequest(f"Invalid {type}[display_preference][preference]: must be "
                                 "one of on, off, none.",
                                 param=f"{type}[display_preference][preference]")
        merged[type] = preference
    return merged


def create_configuration(*, account_id: str, uow: UnitOfWork, name: str | None = None,
                         preferences: Mapping[str, str] | None = None
                         ) -> PaymentMethodConfiguration:
    """A new configuration; the account's first one is its default. Raises InvalidRequest."""
    with uow:
        has_default = default_configuration_or_none(account_id=account_id, uow=uow) is not None
        pmc = PaymentMethodConfiguration(
            account_id=account_id, name=name or "Default", is_default=not has_default,
            preferences=_preferences(preferences or {}, into={}), created=uow.clock())
        uow.add(pmc)
        uow.flush()
        uow.commit()
        return pmc


def default_configuration_or_none(*, account_id: str, uow: UnitOfWork
                                  ) -> PaymentMethodConfiguration | None:
    """The account's default configuration, if it has one yet."""
    with uow:
        return uow.session.exec(select(PaymentMethodConfiguration).where(
            PaymentMethodConfiguration.account_id == account_id,
            col(PaymentMethodConfiguration.is_default).is_(True))).first()


def default_configuration(*, account_id: str, uow: UnitOfWork) -> PaymentMethodConfiguration:
    """The account's default configuration, made (with Stripe's defaults) if there is none."""
    with uow:
        pmc = default_configuration_or_none(account_id=account_id, uow=uow)
        if pmc is None:
            pmc = create_configuration(account_id=account_id, uow=uow)
        return pmc


def retrieve_configuration(configuration_id: str, *, account_id: str, uow: UnitOfWork
                           ) -> PaymentMethodConfiguration:
    """One configuration of the account. Raises ResourceMissing."""
    with uow:
        return uow.get(PaymentMethodConfiguration, configuration_id, account_id=account_id,
                       label="payment_method_configuration")


def update_configuration(configuration_id: str, *, account_id: str, uow: UnitOfWork,
                         name: str | None = None, active: bool | None = None,
                         preferences: Mapping[str, str] | None = None
                         ) -> PaymentMethodConfiguration:
    """Rename, (de)activate or change the preferences of a configuration.

    Raises ResourceMissing, InvalidRequest (the default cannot be deactivated).
    """
    with uow:
        pmc = retrieve_configuration(configuration_id, account_id=account_id, uow=uow)
        if name is not None:
            pmc.name = name
        if active is not None:
            if pmc.is_default and not active:
                raise InvalidRequest("The default payment method configuration cannot be "
                                     "deactivated.", param="active")
            pmc.active = active
        if preferences:
            pmc.preferences = _preferences(preferences, into=pmc.preferences)
        uow.add(pmc)
        uow.flush()
        uow.commit()
        return pmc


def list_configurations(*, account_id: str, uow: UnitOfWork) -> list[PaymentMethodConfiguration]:
    """The account's configurations, newest first."""
    with uow:
        return list(uow.session.exec(select(PaymentMethodConfiguration).where(
            PaymentMethodConfiguration.account_id == account_id).order_by(
            col(PaymentMethodConfiguration.created).desc(),
            col(PaymentMethodConfiguration.id).desc())).all())


def enabled_types(pmc: PaymentMethodConfiguration) -> list[str]:
    """The types ``pmc`` offers (value ``on``), in Stripe's order."""
    return [type for type in CONFIGURABLE_TYPES if preference_of(pmc, type) == "on"]
