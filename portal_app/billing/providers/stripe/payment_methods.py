"""The Stripe-backed provider's payment methods, setup intents, payment method
configurations and mandates."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from portal_app.billing.provider import StripeObject
from portal_app.billing.providers.stripe.base import StripeProviderBase, owned_by, plain
from portal_app.errors import InvalidRequest, ResourceMissing

# Stripe's test ids (pm_card_visa...) stand for a fresh card: nobody's method yet.
TEST_PAYMENT_METHOD_PREFIX = "pm_card_"
# What Stripe names the fields of ``payment_method_data`` by; the portal knows them
# without the prefix (``sepa_debit[iban]``), as the contract says.
DATA_PREFIX = "payment_method_data["


class PaymentMethodsPart(StripeProviderBase):
    """The contract's payment methods, setup intents, payment method configurations and
    mandates, as Stripe calls."""

    # --- payment methods ---------------------------------------------------------------

    def list_payment_methods(self, customer_id: str) -> list[StripeObject]:
        return self.read_all(lambda options: self.v1.customers.payment_methods.list(
            customer_id, {"limit": 100}, options=options))

    def retrieve_payment_method(self, payment_method: str, *, customer_id: str
                                ) -> StripeObject:
        found = plain(self.calls.read(lambda options: self.v1.customers.payment_methods
                                      .retrieve(customer_id, payment_method,
                                                options=options)))
        return owned_by(found, customer_id, label="payment_method")

    def attach_payment_method(self, payment_method: str, *, customer_id: str
                              ) -> StripeObject:
        if not payment_method.startswith(TEST_PAYMENT_METHOD_PREFIX):
            # Stripe would say "already attached" (400) about another customer's method;
            # to a portal session it does not exist at all (checked before any write).
            found = self._payment_method(payment_method)
            if found.get("customer") not in (None, customer_id):
                raise ResourceMissing(f"No such PaymentMethod: '{payment_method}'",
                                      param="payment_method")
        params: Any = {"customer": customer_id}
        return plain(self.calls.write(
            lambda options: self.v1.payment_methods.attach(payment_method, params,
                                                           options=options),
            what=f"payment_methods.attach:{payment_method}", params=params))

    def set_default_payment_method(self, payment_method: str, *, customer_id: str
                                   ) -> StripeObject:
        self.retrieve_payment_method(payment_method, customer_id=customer_id)
        params: Any = {"invoice_settings": {"default_payment_method": payment_method}}
        return plain(self.calls.write(
            lambda options: self.v1.customers.update(customer_id, params, options=options),
            what=f"customers.update:{customer_id}", params=params))

    def detach_payment_method(self, payment_method: str, *, customer_id: str) -> StripeObject:
        owned_by(self._payment_method(payment_method), customer_id, label="payment_method")
        return plain(self.calls.write(
            lambda options: self.v1.payment_methods.detach(payment_method, options=options),
            what=f"payment_methods.detach:{payment_method}"))

    def _payment_method(self, payment_method: str) -> StripeObject:
        return plain(self.calls.read(
            lambda options: self.v1.payment_methods.retrieve(payment_method, options=options)))

    # --- setup intents -------------------------------------------------------------------

    def create_setup_intent(self, *, customer_id: str, payment_method_data: Mapping[str, Any],
                            return_url: str | None = None,
                            mandate_acceptance: Mapping[str, Any] | None = None
                            ) -> StripeObject:
        params: Any = {"customer": customer_id, "confirm": True, "usage": "off_session",
                       "payment_method_types": [str(payment_method_data.get("type") or
                                                    "card")],
                       "payment_method_data": dict(payment_method_data)}
        if return_url is not None:
            params["return_url"] = return_url
        if mandate_acceptance is not None:
            params["mandate_data"] = {"customer_acceptance": dict(mandate_acceptance)}
        with _fields_named_as_the_portal_knows_them():
            return plain(self.calls.write(
                lambda options: self.v1.setup_intents.create(params, options=options),
                what=f"setup_intents.create:{customer_id}", params=params))

    def retrieve_setup_intent(self, setup_intent: str, *, customer_id: str) -> StripeObject:
        found = plain(self.calls.read(
            lambda options: self.v1.setup_intents.retrieve(setup_intent, options=options)))
        return owned_by(found, customer_id, label="setup_intent")

    # --- payment method configurations ---------------------------------------------------

    def retrieve_payment_method_configuration(self, configuration_id: str) -> StripeObject:
        return plain(self.calls.read(lambda options: self.v1.payment_method_configurations
                                     .retrieve(configuration_id, options=options)))

    def create_payment_method_configuration(self, *, name: str | None = None,
                                            preferences: Mapping[str, str] | None = None
                                            ) -> StripeObject:
        params: Any = {type: {"display_preference": {"preference": preference}}
                       for type, preference in (preferences or {}).items()}
        if name is not None:
            params["name"] = name
        return plain(self.calls.write(
            lambda options: self.v1.payment_method_configurations.create(params,
                                                                         options=options),
            what="payment_method_configurations.create", params=params))

    # --- mandates ----------------------------------------------------------------------

    def retrieve_mandate(self, mandate_id: str, *, customer_id: str) -> StripeObject:
        mandate = plain(self.calls.read(
            lambda options: self.v1.mandates.retrieve(mandate_id, options=options)))
        if not self._mandate_is_of(mandate, customer_id):
            raise ResourceMissing(f"No such mandate: '{mandate_id}'", param="mandate")
        return mandate

    def _mandate_is_of(self, mandate: StripeObject, customer_id: str) -> bool:
        """Whether the customer gave this mandate: a mandate names only its payment method,
        whose ``customer`` is gone once detached; then the setup intent that made the
        mandate (setup_intents.list with ``customer`` and ``payment_method``) says."""
        payment_method = mandate.get("payment_method")
        if isinstance(payment_method, dict):
            payment_method = payment_method.get("id")
        if not isinstance(payment_method, str):
            return False
        owner = self._payment_method(payment_method).get("customer")
        if owner is not None:
            return bool(owner == customer_id)
        made = self.read_all(lambda options: self.v1.setup_intents.list(
            {"customer": customer_id, "payment_method": payment_method, "limit": 100},
            options=options))
        return any(si.get("mandate") == mandate.get("id") for si in made)

    # --- pages Stripe hosts itself (Portico extensions of the local ledger) -------------

    def retrieve_mandate_document(self, mandate_id: str, *, mac: str) -> StripeObject:
        # Stripe serves a mandate's page at its own ``url``; nothing here points to Portico's.
        raise ResourceMissing(f"No such mandate: '{mandate_id}'", param="mandate")

    def retrieve_test_authorization(self, token: str) -> StripeObject:
        # In test mode Stripe serves the authorization page of next_action itself.
        raise ResourceMissing("No such test authorization.", param="token")

    def complete_test_authorization(self, token: str, *, succeed: bool) -> StripeObject:
        raise ResourceMissing("No such test authorization.", param="token")


@contextmanager
def _fields_named_as_the_portal_knows_them() -> Iterator[None]:
    """``payment_method_data[sepa_debit][iban]`` → ``sepa_debit[iban]`` (see DATA_PREFIX)."""
    try:
        yield
    except InvalidRequest as error:
        param = error.param or ""
        if param.startswith(DATA_PREFIX):
            head, _, rest = param[len(DATA_PREFIX):].partition("]")
            error.param = head + rest
        raise
