"""The billing contract: the one door the portal, retention, console and events use.

Portico runs on two billing systems: its own ledger, and (later) a merchant's existing
Stripe account. Code outside ``billing/`` and ``api/`` must not know which, so it never
touches a ledger table or function: it opens a :class:`BillingProvider` bound to one
merchant account with ``portal_app.billing.providers.billing_provider(account_id,
uow=uow)`` and receives Stripe-shaped dicts (:data:`StripeObject`: every field of the
``stripe`` SDK's class, ``None`` where it does not apply, ids of related objects
unexpanded), exactly as ``api/`` renders them and as Stripe itself answers. So the local
ledger (``providers/local.py``) and Stripe are interchangeable behind it.

- Every method names in its docstring the Stripe API call(s) that implement it, so a
  Stripe-backed provider is ``StripeClient`` calls alone. Where Portico needs something
  Stripe has no call for, the method or parameter says "Portico extension" and how a
  Stripe-backed provider would do it.
- Methods that take ``customer_id`` act for that customer alone: an object of another
  customer is answered with ResourceMissing, exactly like an object that does not exist,
  so a portal session can never reach past its own customer. Another account's objects
  are missing too.
- Errors are the typed ones of ``portal_app.errors`` (ResourceMissing, InvalidRequest,
  CardError/CardDeclined), never a billing system's own.
- Inputs that are more than a scalar are typed here (:class:`ItemSpec`,
  :class:`ItemChange`).
- Methods are grouped by area under banners (customers, payment methods, invoices,
  catalog, subscriptions, changes...). The contract suite in
  ``tests/portal_app/billing/contract/`` runs every method against each provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from portal_app.billing import payment_method_types as method_types
from portal_app.billing.tax_id_types import TAX_ID_TYPES, TaxIdType

StripeObject = dict[str, Any]


# --- typed inputs ------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    """One requested subscription item (Stripe's ``items[]`` on subscriptions.create)."""

    price: str
    quantity: int = 1


@dataclass(frozen=True)
class ItemChange:
    """One entry of Stripe's ``items[]`` on subscriptions.update.

    ``id`` names an existing ``si_`` to change or delete; None adds a new item.
    """

    id: str | None = None
    price: str | None = None
    quantity: int | None = None
    deleted: bool = False


# --- payment method types: what the portal's forms may read (issue 11, H6) ----------


@dataclass(frozen=True)
class PaymentMethodTypes:
    """The payment method types Portico knows, as Stripe names them (no provider call:
    the same for every provider)."""

    all: tuple[str, ...]
    redirect: frozenset[str]  # authorized on a page the customer is sent to
    mandate: frozenset[str]  # debits that need the customer's mandate


def payment_method_types() -> PaymentMethodTypes:
    """Every type Portico knows, which redirect and which need a mandate."""
    return PaymentMethodTypes(all=method_types.PAYMENT_METHOD_TYPES,
                              redirect=method_types.REDIRECT_TYPES,
                              mandate=method_types.MANDATE_TYPES)


def format_payment_method_field(type: str, field: str, raw: str) -> str:
    """A form field of ``type`` as the customer types it (``4242 4242 …``, ``10-88-00``)."""
    return method_types.format_for_display(type, field, raw)


# --- tax ID types: what the portal's forms may read (issue 11, H5) -----------------------


def tax_id_types() -> Mapping[str, TaxIdType]:
    """Stripe's tax ID types by name: country, description, example, format (no provider
    call: the same for every provider, as Stripe's list is)."""
    return TAX_ID_TYPES


class BillingProvider(Protocol):
    """Billing as the portal sees it, for one merchant account.

    Every method raises the typed errors of ``portal_app.errors``:
    ResourceMissing, InvalidRequest, CardError/CardDeclined. Lists are complete
    (a Stripe-backed provider pages through Stripe's lists with ``auto_paging_iter``).
    Each area's methods sit under its own banner; every docstring names the Stripe
    call(s) that implement the method, and marks any "Portico extension" (something
    Stripe has no call for) with how a Stripe-backed provider would do it.
    """

    # --- customers -------------------------------------------------------------------

    def retrieve_customer(self, customer_id: str) -> StripeObject:
        """The customer (``invoice_settings.default_payment_method`` is their default).

        Stripe: `GET /v1/customers/{id}` (customers.retrieve). Raises ResourceMissing.
        """
        ...

    def update_customer(self, customer_id: str, **details: Any) -> StripeObject:
        """Change the customer's own details (email, name, phone, address, shipping,
        preferred_locales); anything else is InvalidRequest naming the parameter.

        Stripe: `POST /v1/customers/{id}` (customers.update). Raises ResourceMissing,
        InvalidRequest.
        """
        ...

    def create_customer(self, *, email: str | None = None, name: str | None = None,
                        payment_method: str | None = None,
                        preferred_locales: Sequence[str] = (),
                        metadata: Mapping[str, str] | None = None) -> StripeObject:
        """A new customer, optionally with a default payment method (a merchant's call).

        Stripe: `POST /v1/customers` (customers.create) with ``payment_method`` and
        ``invoice_settings[default_payment_method]``. Raises InvalidRequest, CardError.
        """
        ...

    # --- customers: tax IDs (issue 11, billing details) --------------------------------

    def list_tax_ids(self, customer_id: str) -> list[StripeObject]:
        """The customer's tax IDs (Stripe ``tax_id`` objects), newest first.

        Stripe: `GET /v1/customers/{id}/tax_ids` (customers.tax_ids.list).
        Raises ResourceMissing.
        """
        ...

    def create_tax_id(self, customer_id: str, *, type: str, value: str) -> StripeObject:
        """Add a tax ID of one of Stripe's ``type``s to the customer.

        Stripe: `POST /v1/customers/{id}/tax_ids` (customers.tax_ids.create). Raises
        ResourceMissing, InvalidRequest (``tax_id_invalid`` on ``value``: not in the type's
        format; Portico also refuses a wrong check digit, which Stripe would accept and
        then fail to verify; ``param=type`` for an unknown type).
        """
        ...

    def delete_tax_id(self, customer_id: str, tax_id: str) -> StripeObject:
        """Remove one of the customer's tax IDs (another customer's is ResourceMissing).

        Stripe: `DELETE /v1/customers/{id}/tax_ids/{tax_id}` (customers.tax_ids.delete);
        returns ``{id, object: "tax_id", deleted: true}``. Raises ResourceMissing.
        """
        ...

    # --- payment methods ---------------------------------------------------------------

    def list_payment_methods(self, customer_id: str) -> list[StripeObject]:
        """The customer's payment methods, newest first.

        Stripe: `GET /v1/customers/{id}/payment_methods` (customers.payment_methods.list).
        Raises ResourceMissing.
        """
        ...

    def retrieve_payment_method(self, payment_method: str, *, customer_id: str
                                ) -> StripeObject:
        """One of the customer's payment methods (another's is ResourceMissing).

        Stripe: `GET /v1/customers/{customer}/payment_methods/{id}`
        (customers.payment_methods.retrieve). Raises ResourceMissing.
        """
        ...

    def attach_payment_method(self, payment_method: str, *, customer_id: str
                              ) -> StripeObject:
        """Attach a new payment method (or a ``pm_card_*`` test id) to the customer.

        Stripe: `POST /v1/payment_methods/{id}/attach` (payment_methods.attach) with
        ``customer``. Raises ResourceMissing (another customer's method), CardError.
        """
        ...

    def set_default_payment_method(self, payment_method: str, *, customer_id: str
                                   ) -> StripeObject:
        """Make one of the customer's payment methods their default; returns the customer.

        Stripe: `POST /v1/customers/{id}` (customers.update) with
        ``invoice_settings[default_payment_method]``. Raises ResourceMissing.
        """
        ...

    # --- payment methods: setup intents, mandates, configurations (issue 11) ----------

    def create_setup_intent(self, *, customer_id: str, payment_method_data: Mapping[str, Any],
                            return_url: str | None = None,
                            mandate_acceptance: Mapping[str, Any] | None = None
                            ) -> StripeObject:
        """Save a new payment method for the customer, authorized if it must be.

        Stripe: `POST /v1/setup_intents` (setup_intents.create) with confirm=true,
        usage=off_session, payment_method_types=[data["type"]], payment_method_data,
        mandate_data[customer_acceptance]=mandate_acceptance, return_url. Returns the setup
        intent (succeeded: `payment_method` attached; requires_action:
        next_action.redirect_to_url). Raises InvalidRequest (exact param, e.g.
        `sepa_debit[iban]` — keep the payment_method_data prefix out, the portal maps params
        to its fields), CardDeclined.
        """
        ...

    def retrieve_setup_intent(self, setup_intent: str, *, customer_id: str) -> StripeObject:
        """One of the customer's setup intents (another's is ResourceMissing).

        Stripe: `GET /v1/setup_intents/{id}` (setup_intents.retrieve); the customer check is
        Portico's (compare ``customer``). Raises ResourceMissing.
        """
        ...

    def detach_payment_method(self, payment_method: str, *, customer_id: str) -> StripeObject:
        """Remove one of the customer's payment methods (no longer their default after).

        Stripe: `POST /v1/payment_methods/{id}/detach` (payment_methods.detach), after
        checking its ``customer``. Raises ResourceMissing.
        """
        ...

    def retrieve_payment_method_configuration(self, configuration_id: str) -> StripeObject:
        """A payment method configuration of the account (which types may be added: a
        type's ``display_preference.value`` is ``on``).

        Stripe: `GET /v1/payment_method_configurations/{id}`
        (payment_method_configurations.retrieve). Raises ResourceMissing.
        """
        ...

    def create_payment_method_configuration(self, *, name: str | None = None,
                                            preferences: Mapping[str, str] | None = None
                                            ) -> StripeObject:
        """A new payment method configuration (a merchant's set-up): ``preferences`` maps a
        type (``card``, ``sepa_debit``, ``paypal``...) to ``on``, ``off`` or ``none``.

        Stripe: `POST /v1/payment_method_configurations`
        (payment_method_configurations.create) with ``name`` and
        ``<type>[display_preference][preference]``. Raises InvalidRequest.
        """
        ...

    def retrieve_mandate(self, mandate_id: str, *, customer_id: str) -> StripeObject:
        """One mandate of the customer's payment methods (another's is ResourceMissing).

        Stripe: `GET /v1/mandates/{id}` (mandates.retrieve); the customer check is
        Portico's (retrieve its ``payment_method`` and compare ``customer``).
        Raises ResourceMissing.
        """
        ...

    def retrieve_mandate_document(self, mandate_id: str, *, mac: str) -> StripeObject:
        """What a mandate's page shows (its ``payment_method_details.<type>.url``):
        ``{"object": "mandate_document", "mandate", "payment_method", "creditor"}`` (the
        creditor is the account's business name); a wrong ``mac`` is ResourceMissing.

        Portico extension: Stripe hosts the mandate page itself (`GET /v1/mandates/{id}`
        (mandates.retrieve) gives its ``url``); a Stripe-backed provider's mandates never
        point to Portico's page, so it answers ResourceMissing.
        """
        ...

    def retrieve_test_authorization(self, token: str) -> StripeObject:
        """What a test authorization page (a redirect type's or 3-D Secure's) is for:
        ``{"object": "test_authorization", "id", "kind", "status", "business_name",
        "summary", "amount", "currency", "return_url"}``.

        Portico extension: in test mode Stripe serves this page itself (`GET
        /v1/setup_intents/{id}` (setup_intents.retrieve) shows its
        ``next_action.redirect_to_url.url``); a Stripe-backed provider's objects never point
        to Portico's page, so it answers ResourceMissing.
        """
        ...

    def complete_test_authorization(self, token: str, *, succeed: bool) -> StripeObject:
        """Authorize (or fail) once what the test page is for; returns
        ``{"object": "test_authorization", ..., "redirect_url"}`` (the ``return_url`` with
        ``redirect_status`` and the kind's own parameters, or None).

        Portico extension, as :meth:`retrieve_test_authorization` (on Stripe, the test
        page's buttons; then `GET /v1/setup_intents/{id}` (setup_intents.retrieve) shows
        the outcome). Raises ResourceMissing, InvalidRequest (already completed).
        """
        ...

    # --- invoices ----------------------------------------------------------------------

    def list_invoices(self, customer_id: str) -> list[StripeObject]:
        """The customer's invoices, drafts included, newest first.

        Stripe: `GET /v1/invoices` (invoices.list) with ``customer``. Raises ResourceMissing.
        """
        ...

    def retrieve_invoice(self, invoice_id: str, *, customer_id: str | None = None
                         ) -> StripeObject:
        """One invoice of the account; with ``customer_id``, only one of that customer's
        (another customer's is ResourceMissing).

        Stripe: `GET /v1/invoices/{id}` (invoices.retrieve); the customer check is
        Portico's (compare ``customer``). Raises ResourceMissing.
        """
        ...

    # --- invoices: paying one now, past-due recovery (issue 11, H4) ---------------------

    def pay_invoice(self, invoice_id: str, *, customer_id: str,
                    payment_method: str | None = None, return_url: str | None = None
                    ) -> StripeObject:
        """Pay one of the customer's open invoices now, with ``payment_method`` (attached
        to the customer) or the subscription's / customer's default; returns the paid
        invoice. A past-due subscription with nothing else open becomes active.

        Stripe: `POST /v1/invoices/{id}/pay` (invoices.pay) with ``payment_method``; the
        customer check is Portico's (retrieve the invoice, compare ``customer``). A 3-D
        Secure card answers 402 ``invoice_payment_intent_requires_action``: confirm the
        invoice's payment intent with ``return_url`` and send the customer to its
        ``next_action.redirect_to_url.url``, carried as
        ``PaymentRequiresAction.redirect_url``. Raises ResourceMissing, InvalidRequest,
        CardDeclined (the failed attempt stays recorded), PaymentRequiresAction.
        """
        ...

    def last_payment_error(self, invoice_id: str, *, customer_id: str
                           ) -> StripeObject | None:
        """Why the invoice's last payment attempt failed, as Stripe's ``last_payment_error``
        (``type``, ``code``, ``decline_code``, ``message``, ``payment_method``); None when
        it was never declined.

        Stripe: `GET /v1/invoices/{id}` (invoices.retrieve) with
        ``expand[]=payments.data.payment.payment_intent``, the payment intent's
        ``last_payment_error``. Raises ResourceMissing.
        """
        ...

    # --- catalog: products, prices, coupons --------------------------------------------

    def create_product(self, *, name: str, description: str | None = None,
                       metadata: Mapping[str, str] | None = None) -> StripeObject:
        """A new product.

        Stripe: `POST /v1/products` (products.create). Raises InvalidRequest.
        """
        ...

    def retrieve_product(self, product_id: str) -> StripeObject:
        """One product of the account, active or not.

        Stripe: `GET /v1/products/{id}` (products.retrieve). Raises ResourceMissing.
        """
        ...

    def list_products(self, *, active: bool | None = None) -> list[StripeObject]:
        """The account's products (all, or only the (in)active ones), newest first.

        Stripe: `GET /v1/products` (products.list) with ``active``.
        """
        ...

    def create_price(self, *, product: str, currency: str, unit_amount: int,
                     interval: str | None = None, interval_count: int = 1,
                     nickname: str | None = None, usage_type: str = "licensed",
                     meter: str | None = None) -> StripeObject:
        """A new price of ``product`` (recurring when ``interval`` is given; billing the
        usage a ``meter`` aggregates when ``usage_type`` is ``metered``).

        Stripe: `POST /v1/prices` (prices.create) with
        ``recurring[interval|interval_count|usage_type|meter]``.
        Raises InvalidRequest, ResourceMissing.
        """
        ...

    def retrieve_price(self, price_id: str) -> StripeObject:
        """One price of the account, active or not.

        Stripe: `GET /v1/prices/{id}` (prices.retrieve). Raises ResourceMissing.
        """
        ...

    def list_prices(self, *, product: str | None = None, active: bool | None = None
                    ) -> list[StripeObject]:
        """The account's prices (of one ``product``, or only the (in)active ones), newest first.

        Stripe: `GET /v1/prices` (prices.list) with ``product`` and ``active``.
        """
        ...

    def create_coupon(self, *, percent_off: float | None = None, amount_off: int | None = None,
                      currency: str | None = None, duration: str = "once",
                      duration_in_months: int | None = None, name: str | None = None,
                      id: str | None = None, max_redemptions: int | None = None
                      ) -> StripeObject:
        """A new coupon: ``percent_off`` or ``amount_off`` (with ``currency``), redeemable
        ``max_redemptions`` times at most.

        Stripe: `POST /v1/coupons` (coupons.create). Raises InvalidRequest.
        """
        ...

    def retrieve_coupon(self, coupon_id: str) -> StripeObject:
        """One coupon of the account (``valid`` says whether it can still be redeemed).

        Stripe: `GET /v1/coupons/{id}` (coupons.retrieve). Raises ResourceMissing.
        """
        ...

    # --- subscriptions: create, read, cancel -------------------------------------------

    def create_subscription(self, *, customer: str, items: Sequence[ItemSpec],
                            default_payment_method: str | None = None,
                            trial_period_days: int | None = None,
                            coupon: str | None = None,
                            cancel_at_period_end: bool = False,
                            metadata: Mapping[str, str] | None = None) -> StripeObject:
        """Start a subscription: charge its first invoice, or start its trial.

        Stripe: `POST /v1/subscriptions` (subscriptions.create) with ``items``,
        ``discounts=[{coupon}]`` and ``payment_behavior=error_if_incomplete`` (a declined
        first charge leaves no subscription). Raises ResourceMissing, InvalidRequest,
        CardDeclined.
        """
        ...

    def list_subscriptions(self, customer_id: str, *, status: str | None = None
                           ) -> list[StripeObject]:
        """The customer's subscriptions, newest first: every one not canceled, or those of
        ``status`` (a status, ``ended`` or ``all``).

        Stripe: `GET /v1/subscriptions` (subscriptions.list) with ``customer`` and
        ``status``. Raises ResourceMissing, InvalidRequest.
        """
        ...

    def retrieve_subscription(self, subscription_id: str, *, customer_id: str | None
                              ) -> StripeObject:
        """One of the customer's subscriptions; ``customer_id=None`` (said explicitly: the
        merchant acting, e.g. validating a portal session's ``flow_data``) any of the account.

        Stripe: `GET /v1/subscriptions/{id}` (subscriptions.retrieve); the customer check is
        Portico's (compare ``customer``). Raises ResourceMissing.
        """
        ...

    def cancel_subscription(self, subscription_id: str, *, customer_id: str,
                            at_period_end: bool = False, feedback: str | None = None,
                            comment: str | None = None, prorate: bool = False,
                            invoice_now: bool = False) -> StripeObject:
        """Cancel one of the customer's subscriptions now or at the end of its period.

        Stripe: now, `DELETE /v1/subscriptions/{id}` (subscriptions.cancel) with
        ``cancellation_details[feedback|comment]``, ``prorate`` (credit the unused time) and
        ``invoice_now`` (a final invoice of the usage not billed yet and the prorations);
        at period end, `POST
        /v1/subscriptions/{id}` (subscriptions.update) with ``cancel_at_period_end=true``
        and ``cancellation_details``. A cancel at period end drops the customer's own pending
        change (a schedule the portal made: `POST /v1/subscription_schedules/{id}/release`
        first) and leaves a merchant's schedule in place, so that undoing the cancel
        (:meth:`reactivate_subscription`) restores what the merchant planned. (Stripe refuses
        ``cancel_at_period_end`` while a schedule manages the subscription: a Stripe-backed
        provider sets the schedule's ``end_behavior=cancel`` instead, and puts it back when
        the cancel is undone.) Raises ResourceMissing, InvalidRequest.
        """
        ...

    # --- test clock ------------------------------------------------------------------

    def advance_clock(self, to: datetime) -> int:
        """Move the (test) clock to ``to``, renewing (or ending) everything due on the way;
        returns how many renewals ran.

        Stripe: `POST /v1/test_helpers/test_clocks/{id}/advance` (test_helpers.test_clocks.
        advance) with ``frozen_time``, then wait until its ``status`` is ``ready``; only a
        test clock advances (InvalidRequest otherwise).
        """
        ...

    # --- subscription changes: plan, quantity, schedule, cancel, pause -------------

    def preview_subscription_update(self, subscription_id: str, *, customer_id: str,
                                    items: Sequence[ItemChange],
                                    proration_behavior: str = "create_prorations",
                                    proration_date: datetime | None = None,
                                    coupon: str | None = None,
                                    promotion_code: str | None = None,
                                    schedule_at_period_end: bool = False) -> StripeObject:
        """What :meth:`update_subscription` (or :meth:`schedule_subscription_update`) with
        the same arguments would bill; changes nothing.

        Stripe: `POST /v1/invoices/create_preview` (invoices.create_preview) with
        ``subscription``, ``subscription_details[items|proration_behavior|proration_date]``
        and ``discounts=[{coupon}|{promotion_code}]``: its proration lines are ``lines``;
        with ``always_invoice`` (or a new billing interval, billed at once) that preview is
        the invoice charged now (``amount_due_now``), and a second preview with
        ``proration_behavior=none`` gives the renewal after the change (``next_invoice_*``).
        ``schedule_at_period_end`` (Portico extension) previews the change as of the period
        end: Stripe previews it with ``schedule_details[phases]`` instead.

        Returns a ``subscription_update_preview`` (Portico extension object composed of
        those previews): ``subscription``, ``currency``, ``proration_date`` (unix; pass it
        to :meth:`update_subscription` so the applied prorations equal these),
        ``lines`` (Stripe invoice line items of the change), ``total_discount``,
        ``amount_due_now``, ``next_invoice_date`` (unix), ``next_invoice_amount_due``,
        ``scheduled_at`` (unix, or None when the change applies now) and ``version`` (the
        subscription state the preview was made on; see ``expected_version``).
        Raises ResourceMissing, InvalidRequest (with a stable ``code``: ``no_change``,
        ``subscription_past_due``, ``pending_scheduled_change``, ``promotion_code_invalid``...).
        """
        ...

    def update_subscription(self, subscription_id: str, *, customer_id: str,
                            items: Sequence[ItemChange] = (),
                            proration_behavior: str = "create_prorations",
                            proration_date: datetime | None = None,
                            coupon: str | None = None, promotion_code: str | None = None,
                            expected_version: str | None = None) -> StripeObject:
        """Change the subscription's items (prorated) and/or its discount now.

        Stripe: `POST /v1/subscriptions/{id}` (subscriptions.update) with ``items``,
        ``proration_behavior``, ``proration_date``, ``discounts=[{coupon}|{promotion_code}]``
        and ``payment_behavior=error_if_incomplete`` (a declined ``always_invoice`` charge
        changes nothing). ``expected_version`` (Portico extension: a preview's ``version``)
        refuses the change with InvalidRequest ``code=subscription_changed`` if the
        subscription changed since that preview; a Stripe-backed provider honours it by
        retrieving the subscription (and its pending invoice items), comparing the same
        digest, and sending the update with ``Idempotency-Key: <version>`` so a doubled
        confirm applies once. A ``promotion_code`` applies only if the subscription after
        the change reaches its ``restrictions.minimum_amount`` before discount
        (``promotion_code_invalid``), and never past its or its coupon's
        ``max_redemptions``, also when redeemed twice at once (``coupon_expired``).
        Returns the subscription. Raises ResourceMissing, InvalidRequest, CardDeclined.
        """
        ...

    def schedule_subscription_update(self, subscription_id: str, *, customer_id: str,
                                     items: Sequence[ItemChange],
                                     expected_version: str | None = None) -> StripeObject:
        """Change the subscription's items at the end of its current period.

        Stripe: `POST /v1/subscription_schedules` (subscription_schedules.create) with
        ``from_subscription``, then `POST /v1/subscription_schedules/{id}`
        (subscription_schedules.update) with ``phases`` = [the current phase until
        ``current_period_end``, the new items from then] and ``end_behavior=release``.
        ``expected_version`` as in :meth:`update_subscription`. Returns the subscription
        schedule. Raises ResourceMissing, InvalidRequest (``pending_scheduled_change`` when
        one is already waiting).
        """
        ...

    def retrieve_subscription_schedule(self, schedule_id: str, *, customer_id: str
                                       ) -> StripeObject:
        """One of the customer's subscription schedules (a subscription's ``schedule``).

        Stripe: `GET /v1/subscription_schedules/{id}` (subscription_schedules.retrieve).
        Raises ResourceMissing.
        """
        ...

    def schedule_made_by_portal(self, schedule_id: str, *, customer_id: str) -> bool:
        """Whether this schedule of the customer's is their own change through the portal
        (:meth:`schedule_subscription_update`), which they may drop; any other is the
        merchant's (say, an introductory price's end) and the portal leaves it alone.

        Portico extension: Stripe records no author. The local ledger keeps it beside the
        schedule, never rendered; a Stripe-backed provider creates the portal's schedules
        with ``metadata[portico_created_by]=portal`` and reads it back with
        `GET /v1/subscription_schedules/{id}` (subscription_schedules.retrieve).
        Raises ResourceMissing.
        """
        ...

    def release_subscription_schedule(self, schedule_id: str, *, customer_id: str
                                      ) -> StripeObject:
        """Drop the change a schedule waits to make; the subscription goes on as it is.

        Only a schedule the portal made (:meth:`schedule_made_by_portal`) is released.
        Stripe: `POST /v1/subscription_schedules/{id}/release`
        (subscription_schedules.release), after that check. Returns the released schedule.
        Raises ResourceMissing, InvalidRequest (not an open schedule; ``not_allowed``: the
        merchant's).
        """
        ...

    def reactivate_subscription(self, subscription_id: str, *, customer_id: str
                                ) -> StripeObject:
        """Undo a cancellation at period end ("Don't cancel").

        Stripe: `POST /v1/subscriptions/{id}` (subscriptions.update) with
        ``cancel_at_period_end=false`` and ``cancel_at=""``. Returns the subscription.
        Raises ResourceMissing, InvalidRequest (``subscription_canceled``, ``no_change``).
        """
        ...

    def pause_subscription(self, subscription_id: str, *, customer_id: str,
                           behavior: str = "void", resumes_at: datetime | None = None
                           ) -> StripeObject:
        """Pause collection until ``resumes_at`` (or until resumed).

        Stripe: `POST /v1/subscriptions/{id}` (subscriptions.update) with
        ``pause_collection[behavior]`` and ``pause_collection[resumes_at]``. Returns the
        subscription. Raises ResourceMissing, InvalidRequest.
        """
        ...

    def resume_subscription(self, subscription_id: str, *, customer_id: str) -> StripeObject:
        """Lift a pause now.

        Stripe: `POST /v1/subscriptions/{id}` (subscriptions.update) with
        ``pause_collection=""`` (a subscription whose ``status`` is ``paused``:
        `POST /v1/subscriptions/{id}/resume`, subscriptions.resume). Returns the
        subscription. Raises ResourceMissing, InvalidRequest (``subscription_not_paused``).
        """
        ...

    def list_subscription_discounts(self, subscription_id: str, *, customer_id: str
                                    ) -> list[StripeObject]:
        """The subscription's discounts, newest first, each with ``source.coupon``, also
        those that have ended (``end`` in the past).

        Stripe: `GET /v1/subscriptions/{id}` (subscriptions.retrieve) with
        ``expand[]=discounts`` (and ``discounts.source.coupon``). Raises ResourceMissing.
        """
        ...

    def create_promotion_code(self, *, coupon: str, code: str,
                              expires_at: datetime | None = None) -> StripeObject:
        """A customer-facing ``code`` for ``coupon`` (merchant set-up).

        Stripe: `POST /v1/promotion_codes` (promotion_codes.create) with
        ``promotion[type]=coupon``, ``promotion[coupon]``, ``code`` and ``expires_at``.
        Raises InvalidRequest, ResourceMissing.
        """
        ...

    def retrieve_promotion_code(self, promotion_code_id: str) -> StripeObject:
        """One promotion code of the account, by its ``promo_`` id (redeemable or not).

        Stripe: `GET /v1/promotion_codes/{id}` (promotion_codes.retrieve). Raises
        ResourceMissing.
        """
        ...

    def retrieve_promotion_code_by_code(self, code: str) -> StripeObject:
        """The redeemable promotion code a customer typed (``code``, case-insensitive).

        Stripe: `GET /v1/promotion_codes` (promotion_codes.list) with ``code`` and
        ``active=true``; none is InvalidRequest ``code=promotion_code_invalid``, one whose
        ``expires_at`` (or coupon) has passed is ``code=coupon_expired``.
        """
        ...

    def list_upcoming_usage(self, subscription_id: str, *, customer_id: str
                            ) -> list[StripeObject]:
        """What the next invoice bills so far for each usage-based item of the subscription.

        Stripe: `POST /v1/invoices/create_preview` (invoices.create_preview) with
        ``subscription``: its metered lines (``quantity`` = the usage counted since the
        last billing, ``amount`` = what it costs; 0 during a trial), one per metered
        subscription item (``parent.subscription_item_details.subscription_item``); the
        count alone is `GET /v1/billing/meters/{id}/event_summaries`
        (billing.meters.list_event_summaries). Returns Stripe invoice line items.
        Raises ResourceMissing.
        """
        ...

    # --- retention: free days ---------------------------------------------------

    def extend_trial(self, subscription_id: str, *, customer_id: str, trial_end: datetime
                     ) -> StripeObject:
        """Give the customer free time until ``trial_end`` (after the current period's end).

        The customer keeps the period they paid for: the subscription is ``trialing``
        until ``trial_end``, and its next invoice and billing cycle start then; nothing is
        prorated, credited or charged now. Returns the subscription.

        Stripe: `POST /v1/subscriptions/{id}` (subscriptions.update) with ``trial_end``
        and ``proration_behavior=none``. Portico refuses free time to a subscription that
        is not live or is paused: a Stripe-backed provider checks ``status``,
        ``cancel_at_period_end`` and ``pause_collection`` of the retrieved subscription
        first. Raises ResourceMissing, InvalidRequest (``subscription_canceled``,
        ``subscription_past_due``, ``subscription_paused``, or ``param=trial_end`` when it
        is not after the current period's end).
        """
        ...
