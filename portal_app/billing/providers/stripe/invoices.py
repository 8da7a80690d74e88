"""The Stripe-backed provider's invoices: list, retrieve, pay, the last payment error."""

from __future__ import annotations

from typing import Any

from portal_app.billing.provider import StripeObject
from portal_app.billing.providers.stripe.base import StripeProviderBase, owned_by, plain
from portal_app.errors import PaymentRequiresAction


class InvoicesPart(StripeProviderBase):
    """The contract's invoices: list, retrieve, pay, the last payment error, as Stripe calls."""

    def list_invoices(self, customer_id: str) -> list[StripeObject]:
        self.live_customer(customer_id)  # invoices.list of an unknown customer is empty
        return self.read_all(lambda options: self.v1.invoices.list(
            {"customer": customer_id, "limit": 100}, options=options))

    def retrieve_invoice(self, invoice_id: str, *, customer_id: str | None = None
                         ) -> StripeObject:
        found = plain(self.calls.read(
            lambda options: self.v1.invoices.retrieve(invoice_id, options=options)))
        return owned_by(found, customer_id, label="invoice")

    def pay_invoice(self, invoice_id: str, *, customer_id: str,
                    payment_method: str | None = None, return_url: str | None = None
                    ) -> StripeObject:
        self.retrieve_invoice(invoice_id, customer_id=customer_id)
        params: Any = {"payment_method": payment_method} if payment_method else {}
        try:
            return plain(self.calls.write(
                lambda options: self.v1.invoices.pay(invoice_id, params, options=options),
                what=f"invoices.pay:{invoice_id}", params=params))
        except PaymentRequiresAction as action:
            if return_url is None:
                raise
            redirect = self._authenticate(invoice_id, return_url=return_url)
            raise PaymentRequiresAction(action.message, redirect_url=redirect) from None

    def _authenticate(self, invoice_id: str, *, return_url: str) -> str | None:
        """Confirm the invoice's payment intent (its card: the one just tried) with
        ``return_url``: where Stripe sends the customer to authenticate."""
        intent = self._payment_intent(invoice_id)
        if intent is None:
            return None
        intent_id = intent["id"]
        params: Any = {"return_url": return_url}
        confirmed = plain(self.calls.write(
            lambda options: self.v1.payment_intents.confirm(intent_id, params,
                                                            options=options),
            what=f"payment_intents.confirm:{intent_id}", params=params))
        redirect = (confirmed.get("next_action") or {}).get("redirect_to_url") or {}
        url = redirect.get("url")
        return url if isinstance(url, str) else None

    def _payment_intent(self, invoice_id: str) -> dict[str, Any] | None:
        """The invoice's latest payment intent, expanded (invoice.payments)."""
        expanded = self.calls.read(lambda options: self.v1.invoices.retrieve(
            invoice_id, {"expand": ["payments.data.payment.payment_intent"]},
            options=options)).to_dict()
        for entry in reversed((expanded.get("payments") or {}).get("data") or []):
            intent = (entry.get("payment") or {}).get("payment_intent")
            if isinstance(intent, dict):
                return intent
        return None

    def last_payment_error(self, invoice_id: str, *, customer_id: str
                           ) -> StripeObject | None:
        invoice = self.retrieve_invoice(invoice_id, customer_id=customer_id)
        if invoice.get("status") == "paid":
            return None
        intent = self._payment_intent(invoice_id)
        error = intent.get("last_payment_error") if intent is not None else None
        return dict(error) if isinstance(error, dict) else None
