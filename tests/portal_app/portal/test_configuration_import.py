"""Importing a Stripe account's portal configurations, from "Stripe" (a second Portico)
over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import stripe
from sqlmodel import select

from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.objects import render_configuration
from portal_app.portal.configuration_import import (
    import_stripe_configurations,
    known_fields,
)
from portal_app.portal.configurations import create_configuration
from portal_app.portal.models import PortalConfiguration

COMPARED = ("active", "business_profile", "default_return_url", "features", "login_page",
            "metadata", "name")


def _stripe_configurations(client: stripe.StripeClient) -> dict[str, Any]:
    """Two configurations on "Stripe": the default (every feature) and a second one."""
    product = client.v1.products.create({"name": "Pro"})
    monthly = client.v1.prices.create({"product": product.id, "currency": "eur",
                                       "unit_amount": 1500, "recurring": {"interval": "month"}})
    yearly = client.v1.prices.create({"product": product.id, "currency": "eur",
                                      "unit_amount": 15000, "recurring": {"interval": "year"}})
    default = client.v1.billing_portal.configurations.create({
        "business_profile": {"headline": "Manage your Pro plan",
                             "privacy_policy_url": "https://shop.example/privacy"},
        "default_return_url": "https://shop.example/account",
        "name": "Main portal",
        "metadata": {"team": "growth"},
        "features": {
            "invoice_history": {"enabled": True},
            "customer_update": {"enabled": True, "allowed_updates": ["email", "address"]},
            "subscription_cancel": {
                "enabled": True, "mode": "at_period_end",
                "cancellation_reason": {"enabled": True,
                                        "options": ["too_expensive", "unused"]}},
            "subscription_pause": {"enabled": True},
            "subscription_update": {
                "enabled": True, "default_allowed_updates": ["price", "quantity"],
                "proration_behavior": "always_invoice",
                "products": [{"product": product.id, "prices": [monthly.id, yearly.id],
                              "adjustable_quantity": {"enabled": True, "maximum": 5}}]},
        },
    })
    second = client.v1.billing_portal.configurations.create({
        "name": "Invoices only", "features": {"invoice_history": {"enabled": True}}})
    return {"default": client.v1.billing_portal.configurations.retrieve(default.id),
            "second": second, "product": product.id, "prices": [monthly.id, yearly.id]}


def _configurations(account_id: str, uow: UnitOfWork) -> list[PortalConfiguration]:
    with uow:
        return list(uow.session.exec(select(PortalConfiguration).where(
            PortalConfiguration.account_id == account_id)).all())


def test_every_stripe_configuration_becomes_a_portico_one_with_its_fields(
        stripe_backed_account_id: str, stripe_side_client: stripe.StripeClient,
        make_uow: Callable[[], UnitOfWork]) -> None:
    stripe_side = _stripe_configurations(stripe_side_client)
    result = import_stripe_configurations(stripe_backed_account_id, uow=make_uow())
    assert len(result.created) == 2 and result.updated == result.unchanged == []
    by_origin = {c.imported_from: c for c in _configurations(stripe_backed_account_id,
                                                              make_uow())}
    for name in ("default", "second"):
        theirs = stripe_side[name].to_dict()
        ours = render_configuration(by_origin[theirs["id"]])
        assert {k: ours[k] for k in COMPARED} == {k: theirs[k] for k in COMPARED}, name
    # Stripe's default is Portico's default (and the only one).
    assert result.default == by_origin[stripe_side["default"].id].id
    assert [c.imported_from for c in by_origin.values() if c.is_default] == [
        stripe_side["default"].id]


def test_importing_again_updates_instead_of_duplicating(
        stripe_backed_account_id: str, stripe_side_client: stripe.StripeClient,
        make_uow: Callable[[], UnitOfWork]) -> None:
    stripe_side = _stripe_configurations(stripe_side_client)
    first = import_stripe_configurations(stripe_backed_account_id, uow=make_uow())
    again = import_stripe_configurations(stripe_backed_account_id, uow=make_uow())
    assert again.created == [] and again.updated == []
    assert sorted(again.unchanged) == sorted(first.created)
    stripe_side_client.v1.billing_portal.configurations.update(
        stripe_side["second"].id, {"name": "Invoices and cards", "metadata": {"v": "2"},
                                   "features": {"payment_method_update": {"enabled": True}}})
    third = import_stripe_configurations(stripe_backed_account_id, uow=make_uow())
    assert len(third.updated) == 1 and len(third.unchanged) == 1
    configs = _configurations(stripe_backed_account_id, make_uow())
    assert len(configs) == 2
    [changed] = [c for c in configs if c.id == third.updated[0]]
    assert changed.name == "Invoices and cards" and changed.metadata_ == {"v": "2"}
    assert changed.features["payment_method_update"]["enabled"] is True
    assert third.default == first.default


def test_the_stripe_default_replaces_an_existing_portico_default(
        stripe_backed_account_id: str, stripe_side_client: stripe.StripeClient,
        make_uow: Callable[[], UnitOfWork]) -> None:
    own = create_configuration({"features": {"invoice_history": {"enabled": True}}},
                               account_id=stripe_backed_account_id, uow=make_uow())
    assert own.is_default
    stripe_side = _stripe_configurations(stripe_side_client)
    import_stripe_configurations(stripe_backed_account_id, uow=make_uow())
    defaults = [c for c in _configurations(stripe_backed_account_id, make_uow()) if c.is_default]
    assert [c.imported_from for c in defaults] == [stripe_side["default"].id]


def test_a_configuration_naming_a_product_stripe_no_longer_has_imports_nothing(
        stripe_backed_account_id: str, stripe_side_client: stripe.StripeClient,
        stripe_side: Any, make_uow: Callable[[], UnitOfWork]) -> None:
    made = _stripe_configurations(stripe_side_client)
    # "Stripe" lost the product the second configuration offers (deleted since).
    with stripe_side.uow() as uow:
        row = uow.session.get(PortalConfiguration, made["second"].id)
        row.features = {**row.features, "subscription_update": {
            **row.features["subscription_update"], "enabled": True,
            "products": [{"product": "prod_gone", "prices": made["prices"]}]}}
        uow.add(row)
        uow.commit()
    with pytest.raises(ResourceMissing) as refused:
        import_stripe_configurations(stripe_backed_account_id, uow=make_uow())
    assert refused.value.param == "features[subscription_update][products][0][product]"
    assert _configurations(stripe_backed_account_id, make_uow()) == []


def test_an_account_on_the_ledger_has_nothing_to_import(
        account_id: str, make_uow: Callable[[], UnitOfWork]) -> None:
    with pytest.raises(InvalidRequest, match="ledger"):
        import_stripe_configurations(account_id, uow=make_uow())
    with pytest.raises(ResourceMissing):
        import_stripe_configurations("acct_missing", uow=make_uow())


def test_known_fields_keeps_what_portico_knows_and_drops_nulls_for_hashes() -> None:
    shape = {"a": {"b": None, "c": []}, "d": None}
    given = {"a": {"b": 1, "c": None, "new": 2}, "d": "x", "e": 3}
    assert known_fields(given, shape) == {"a": {"b": 1}, "d": "x"}
    assert known_fields({"a": None}, shape) == {}
