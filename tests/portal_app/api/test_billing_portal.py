"""``billing_portal/configurations`` and ``billing_portal/sessions`` through the SDK."""

from __future__ import annotations

import re

import pytest
import stripe

from portal_app.settings import get_settings


@pytest.fixture
def catalog(client: stripe.StripeClient) -> tuple[stripe.Product, stripe.Price, stripe.Price]:
    product = client.v1.products.create({"name": "Pro"})
    monthly = client.v1.prices.create({"product": product.id, "currency": "usd",
                                       "unit_amount": 1000, "recurring": {"interval": "month"}})
    yearly = client.v1.prices.create({"product": product.id, "currency": "usd",
                                      "unit_amount": 10000, "recurring": {"interval": "year"}})
    return product, monthly, yearly


def full_configuration(product: str, prices: list[str]) -> dict:
    """Every field Stripe's configuration create accepts, set away from its default."""
    return {
        "business_profile": {"headline": "Acme Cloud billing",
                             "privacy_policy_url": "https://acme.test/privacy",
                             "terms_of_service_url": "https://acme.test/terms"},
        "default_return_url": "https://acme.test/account",
        "features": {
            "customer_update": {"enabled": True, "allowed_updates": ["email", "address",
                                                                     "tax_id"]},
            "invoice_history": {"enabled": True},
            "payment_method_update": {"enabled": True,
                                      "payment_method_configuration": "pmc_123"},
            "subscription_cancel": {
                "enabled": True, "mode": "immediately", "proration_behavior": "create_prorations",
                "cancellation_reason": {"enabled": True,
                                        "options": ["too_expensive", "unused", "other"]},
            },
            "subscription_pause": {"enabled": True, "duration": {
                "type": "interval_options",
                "interval_options": [{"interval": "month", "interval_count": 1},
                                     {"interval": "month", "interval_count": 3}]}},
            "subscription_update": {
                "enabled": True, "default_allowed_updates": ["price", "quantity"],
                "proration_behavior": "always_invoice", "billing_cycle_anchor": "now",
                "trial_update_behavior": "continue_trial",
                "products": [{"product": product, "prices": prices,
                              "adjustable_quantity": {"enabled": True, "minimum": 1,
                                                      "maximum": 25}}],
                "schedule_at_period_end": {"conditions": [
                    {"type": "decreasing_item_amount"}, {"type": "shortening_interval"}]},
            },
        },
        "login_page": {"enabled": True},
        "metadata": {"team": "growth"},
        "name": "Growth portal",
    }


def test_configuration_round_trips_every_field(client: stripe.StripeClient,
                                               catalog: tuple) -> None:
    product, monthly, yearly = catalog
    created = client.v1.billing_portal.configurations.create(
        full_configuration(product.id, [monthly.id, yearly.id]))
    assert created.id.startswith("bpc_") and created.object == "billing_portal.configuration"
    fetched = client.v1.billing_portal.configurations.retrieve(created.id)
    for config in (created, fetched):
        assert config.business_profile.to_dict() == {
            "headline": "Acme Cloud billing", "privacy_policy_url": "https://acme.test/privacy",
            "terms_of_service_url": "https://acme.test/terms"}
        assert config.default_return_url == "https://acme.test/account"
        f = config.features
        assert f.customer_update.to_dict() == {"enabled": True,
                                               "allowed_updates": ["email", "address",
                                                                   "tax_id"]}
        assert f.invoice_history.enabled is True
        assert f.payment_method_update.to_dict() == {"enabled": True,
                                                     "payment_method_configuration": "pmc_123"}
        cancel = f.subscription_cancel
        assert (cancel.enabled, cancel.mode, cancel.proration_behavior) == (
            True, "immediately", "create_prorations")
        assert cancel.cancellation_reason.options == ["too_expensive", "unused", "other"]
        assert cancel.cancellation_reason.enabled is True
        pause = f.subscription_pause
        assert pause.enabled is True and pause.duration.type == "interval_options"
        assert [o.to_dict() for o in pause.duration.interval_options] == [
            {"interval": "month", "interval_count": 1},
            {"interval": "month", "interval_count": 3}]
        update = f.subscription_update
        assert update.default_allowed_updates == ["price", "quantity"]
        assert (update.proration_behavior, update.billing_cycle_anchor,
                update.trial_update_behavior) == ("always_invoice", "now", "continue_trial")
        assert [p.to_dict() for p in update.products] == [{
            "product": product.id, "prices": [monthly.id, yearly.id],
            "adjustable_quantity": {"enabled": True, "minimum": 1, "maximum": 25}}]
        assert [c.type for c in update.schedule_at_period_end.conditions] == [
            "decreasing_item_amount", "shortening_interval"]
        assert config.login_page.enabled is True
        assert config.metadata.to_dict() == {"team": "growth"}
        assert config.name == "Growth portal"
        assert config.is_default is True and config.active is True


def test_configuration_update_and_list(client: stripe.StripeClient, catalog: tuple) -> None:
    product, monthly, _ = catalog
    first = client.v1.billing_portal.configurations.create(
        {"features": {"invoice_history": {"enabled": True}}})
    second = client.v1.billing_portal.configurations.create(
        {"features": {"invoice_history": {"enabled": False}}, "name": "B"})
    assert second.is_default is False
    updated = client.v1.billing_portal.configurations.update(second.id, {
        "name": "", "active": False, "business_profile": {"headline": "New"},
        "features": {"subscription_update": {
            "enabled": True, "products": [{"product": product.id, "prices": [monthly.id]}]}},
    })
    assert updated.name is None and updated.active is False
    assert updated.business_profile.headline == "New"
    assert updated.features.subscription_update.enabled is True
    assert updated.features.invoice_history.enabled is False  # untouched
    defaults = client.v1.billing_portal.configurations.list({"is_default": True})
    assert [c.id for c in defaults.data] == [first.id]
    inactive = client.v1.billing_portal.configurations.list({"active": False})
    assert [c.id for c in inactive.data] == [second.id]
    assert len(client.v1.billing_portal.configurations.list().data) == 2


def test_configuration_errors(client: stripe.StripeClient, catalog: tuple) -> None:
    product, _, _ = catalog
    configs = client.v1.billing_portal.configurations
    with pytest.raises(stripe.InvalidRequestError) as features:
        configs.create({})  # type: ignore[typeddict-item]
    assert features.value.param == "features" and features.value.code == "parameter_missing"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        configs.create({"features": {"invoice_history": {"enabled": True, "color": "red"}}})  # type: ignore[typeddict-unknown-key]
    assert unknown.value.param == "features[invoice_history][color]"
    with pytest.raises(stripe.InvalidRequestError) as reason:
        configs.create({"features": {"subscription_cancel": {"enabled": True,
                        "cancellation_reason": {"enabled": True, "options": ["bored"]}}}})  # type: ignore[list-item]
    assert reason.value.param == "features[subscription_cancel][cancellation_reason][options][0]"
    with pytest.raises(stripe.InvalidRequestError) as price:
        configs.create({"features": {"subscription_update": {
            "enabled": True, "products": [{"product": product.id, "prices": ["price_nope"]}]}}})
    assert price.value.http_status == 404
    assert price.value.param == "features[subscription_update][products][0][prices][0]"
    with pytest.raises(stripe.InvalidRequestError) as quantity:
        configs.create({"features": {"subscription_update": {
            "enabled": True, "products": [{"product": product.id, "prices": [],
                                           "adjustable_quantity": {"enabled": True}}]}}})
    assert quantity.value.code == "parameter_missing"
    with pytest.raises(stripe.InvalidRequestError) as url:
        configs.create({"features": {"invoice_history": {"enabled": True}},
                        "default_return_url": "/relative"})
    assert url.value.param == "default_return_url"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        configs.retrieve("bpc_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


def test_session_create_returns_a_portal_url(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create({"email": "s@example.com"})
    session = client.v1.billing_portal.sessions.create({
        "customer": customer.id, "return_url": "https://acme.test/account", "locale": "fr",
        "on_behalf_of": "acct_partner", "expand": ["configuration"],
    })
    assert session.id.startswith("bps_") and session.object == "billing_portal.session"
    base = re.escape(get_settings().public_url)
    match = re.fullmatch(base + r"/p/([A-Za-z0-9_-]+)", session.url)
    assert match and len(match.group(1)) >= 43
    assert (session.customer, session.return_url, session.locale, session.on_behalf_of) == (
        customer.id, "https://acme.test/account", "fr", "acct_partner")
    assert session.livemode is False and session.flow is None
    assert isinstance(session.configuration, stripe.billing_portal.Configuration)
    assert session.configuration.is_default is True
    other = client.v1.billing_portal.sessions.create({"customer": customer.id})
    assert other.url != session.url
    assert other.configuration == session.configuration.id  # not expanded: an id


def test_session_return_url_rules(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create({})
    with pytest.raises(stripe.InvalidRequestError) as relative:
        client.v1.billing_portal.sessions.create({"customer": customer.id,
                                                  "return_url": "/account"})
    assert relative.value.param == "return_url"
    with pytest.raises(stripe.InvalidRequestError) as scheme:
        client.v1.billing_portal.sessions.create({"customer": customer.id,
                                                  "return_url": "javascript:alert(1)"})
    assert scheme.value.param == "return_url"
    config = client.v1.billing_portal.configurations.create({
        "features": {"invoice_history": {"enabled": True}},
        "allowed_return_origins": ["https://acme.test"],  # type: ignore[typeddict-unknown-key]
        "default_return_url": "https://acme.test/home",
    })
    with pytest.raises(stripe.InvalidRequestError) as elsewhere:
        client.v1.billing_portal.sessions.create({"customer": customer.id,
                                                  "configuration": config.id,
                                                  "return_url": "https://evil.test/x"})
    assert elsewhere.value.param == "return_url"
    allowed = client.v1.billing_portal.sessions.create({
        "customer": customer.id, "configuration": config.id,
        "return_url": "https://acme.test/billing"})
    assert allowed.return_url == "https://acme.test/billing"
    defaulted = client.v1.billing_portal.sessions.create({"customer": customer.id,
                                                          "configuration": config.id})
    assert defaulted.return_url == "https://acme.test/home"


def test_after_completion_redirect_obeys_the_allowed_return_origins(
        client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create({})
    config = client.v1.billing_portal.configurations.create({
        "features": {"payment_method_update": {"enabled": True}},
        "allowed_return_origins": ["https://acme.test"],  # type: ignore[typeddict-unknown-key]
    })

    def session(return_url: str) -> stripe.billing_portal.Session:
        return client.v1.billing_portal.sessions.create({
            "customer": customer.id, "configuration": config.id, "flow_data": {
                "type": "payment_method_update",
                "after_completion": {"type": "redirect",
                                     "redirect": {"return_url": return_url}}}})

    for elsewhere in ("https://evil.test/done", "https://acme.test.evil.test/done",
                      "https://acme.test@evil.test/done", "http://acme.test/done"):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            session(elsewhere)
        assert refused.value.param == "flow_data[after_completion][redirect][return_url]"
        assert refused.value.code == "url_invalid"
    allowed = session("https://acme.test/done")
    assert allowed.flow.after_completion.redirect.return_url == "https://acme.test/done"


def test_session_errors(client: stripe.StripeClient) -> None:
    sessions = client.v1.billing_portal.sessions
    with pytest.raises(stripe.InvalidRequestError) as no_customer:
        sessions.create({"return_url": "https://acme.test"})
    assert no_customer.value.param == "customer"
    assert no_customer.value.code == "parameter_missing"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        sessions.create({"customer": "cus_missing"})
    assert unknown.value.http_status == 404 and unknown.value.param == "customer"
    customer = client.v1.customers.create({})
    with pytest.raises(stripe.InvalidRequestError) as locale:
        sessions.create({"customer": customer.id, "locale": "xx"})  # type: ignore[typeddict-item]
    assert locale.value.param == "locale"
    with pytest.raises(stripe.InvalidRequestError) as config:
        sessions.create({"customer": customer.id, "configuration": "bpc_missing"})
    assert config.value.http_status == 404 and config.value.param == "configuration"


def test_session_flow_data(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create({})
    client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id})
    pm = client.v1.customers.payment_methods.list(customer.id).data[0]
    price = client.v1.prices.create({"product_data": {"name": "Pro"}, "currency": "usd",
                                     "unit_amount": 1000, "recurring": {"interval": "month"}})
    sub = client.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}],
                                          "default_payment_method": pm.id})
    coupon = client.v1.coupons.create({"percent_off": 20, "duration": "once"})
    sessions = client.v1.billing_portal.sessions
    cancel = sessions.create({"customer": customer.id, "flow_data": {
        "type": "subscription_cancel",
        "subscription_cancel": {"subscription": sub.id, "retention": {
            "type": "coupon_offer", "coupon_offer": {"coupon": coupon.id}}},
        "after_completion": {"type": "redirect",
                             "redirect": {"return_url": "https://acme.test/done"}},
    }})
    assert cancel.flow.type == "subscription_cancel"
    assert cancel.flow.subscription_cancel.subscription == sub.id
    assert cancel.flow.subscription_cancel.retention.coupon_offer.coupon == coupon.id
    assert cancel.flow.after_completion.redirect.return_url == "https://acme.test/done"
    update = sessions.create({"customer": customer.id, "flow_data": {
        "type": "payment_method_update"}})
    assert update.flow.type == "payment_method_update"
    assert update.flow.after_completion.type == "portal_homepage"

    with pytest.raises(stripe.InvalidRequestError) as kind:
        sessions.create({"customer": customer.id, "flow_data": {"type": "teleport"}})  # type: ignore[typeddict-item]
    assert kind.value.param == "flow_data[type]"
    with pytest.raises(stripe.InvalidRequestError) as no_sub:
        sessions.create({"customer": customer.id, "flow_data": {"type": "subscription_cancel"}})
    assert no_sub.value.param == "flow_data[subscription_cancel][subscription]"
    assert no_sub.value.code == "parameter_missing"
    stranger = client.v1.customers.create({})
    with pytest.raises(stripe.InvalidRequestError) as foreign:
        sessions.create({"customer": stranger.id, "flow_data": {
            "type": "subscription_cancel", "subscription_cancel": {"subscription": sub.id}}})
    assert foreign.value.param == "flow_data[subscription_cancel][subscription]"
    with pytest.raises(stripe.InvalidRequestError) as redirect:
        sessions.create({"customer": customer.id, "flow_data": {
            "type": "payment_method_update",
            "after_completion": {"type": "redirect", "redirect": {"return_url": "nope"}}}})
    assert redirect.value.param == "flow_data[after_completion][redirect][return_url]"


def test_configuration_quantity_bounds(client: stripe.StripeClient, catalog: tuple) -> None:
    product, monthly, _ = catalog

    def create(quantity: dict) -> stripe.billing_portal.Configuration:
        return client.v1.billing_portal.configurations.create({"features": {
            "subscription_update": {"enabled": True, "products": [{
                "product": product.id, "prices": [monthly.id],
                "adjustable_quantity": quantity}]}}})

    with pytest.raises(stripe.InvalidRequestError) as word:
        create({"enabled": True, "minimum": "many"})
    assert word.value.param == ("features[subscription_update][products][0]"
                                "[adjustable_quantity][minimum]")
    with pytest.raises(stripe.InvalidRequestError) as inverted:
        create({"enabled": True, "minimum": 5, "maximum": 2})
    assert inverted.value.param.endswith("[adjustable_quantity][maximum]")


def test_merchant_code_with_the_global_api_base(api_url: str, api_key: str,
                                                client: stripe.StripeClient,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-liner of Stripe's docs works once ``api_base`` points at Portico."""
    customer = client.v1.customers.create({"email": "legacy@example.com"})
    monkeypatch.setattr(stripe, "api_key", api_key)
    monkeypatch.setattr(stripe, "api_base", api_url)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    session = stripe.billing_portal.Session.create(customer=customer.id,
                                                   return_url="https://acme.test/account")
    assert session.url.startswith(f"{get_settings().public_url}/p/")
    assert session.customer == customer.id
