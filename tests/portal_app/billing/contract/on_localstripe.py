"""The contract suite on localstripe: the provider it opens, and what localstripe lacks.

localstripe (PyPI 1.15, /work/shared/LOCALSTRIPE.md) speaks the 2017-2019 Stripe API, so
the Stripe-backed provider (the current API) meets calls it does not have. Each contract
test that needs one is skipped on ``localstripe`` with the reason below, naming the
missing call: :data:`LACKS` is the one table of them (test function → reason), applied
by :func:`skip_what_localstripe_lacks` from the contract conftest. Everything else runs
for real against localstripe over loopback HTTP, behind ``tests/localstripe_shim.py``:
the current API's calls localstripe has an exact equivalent for (prices as plans, ...),
each documented there. localstripe is wiped before each test:
it has no accounts (every key sees every object), so a test's lists would otherwise hold
other tests' objects.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import stripe

from portal_app.billing.providers.stripe import StripeBillingProvider, StripeCalls
from portal_app.billing.providers.stripe.client import RetryPolicy
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork

LOCALSTRIPE_KEY = "sk_test_localstripe"

# Why a contract test cannot run on localstripe, even behind tests/localstripe_shim.py (which
# maps prices to plans, `items[][price]`, customers' payment-method lists, tax-ID paging
# and test tokens, where the mapping is exact): the call or behaviour it lacks, as
# localstripe 1.15 answered the provider's own calls here (a plain-text 404 is an unknown
# route). What no fake here lacks runs on the second Portico ("stripe") and the ledger.
NO_ACCOUNTS = ("accounts: every key sees every object, so another account's objects are "
               "found (the isolation half of the test cannot hold)")
NO_TEST_CLOCKS = ("`POST /v1/test_helpers/test_clocks` (404): its periods and renewals follow "
                  "the wall clock, not the test's frozen one")
NO_COMPLETE_OBJECTS = ("the current API's fields: its {} has the 2019 field set, so the "
                       "completeness check of the whole object fails").format
NO_SETUP_INTENT_CONFIRM = ("`POST /v1/setup_intents` with `confirm`, `payment_method_data`, "
                           "`return_url` or `mandate_data` (400 \"Unexpected ...\")")
NO_PENDING_ITEMS = ("`GET /v1/invoiceitems` with `pending` (500), which a preview's version "
                    "is made of")
NO_TAX_ID_CHECKS = ("tax ID verification and validation: only four types with a length "
                    "check, no `tax_id_invalid` code or `param`, status `verified`")
NO_COUPON_NAME = ("`POST /v1/coupons` (coupons.create) with `name` (400 \"Unexpected "
                  "name\"); without it, 400 \"Bad request\" for `duration=repeating`")
NO_PAUSE = ("`subscriptions.update` with `pause_collection` (500; the refusals test's "
            "pause hung the server for 320 s)")

LACKS: dict[str, str] = {
    # test_catalog.py
    "test_products_and_prices": ("one-time prices: `POST /v1/prices` without `recurring` "
                                 "has no plan to map to (400)"),
    "test_coupons": NO_COUPON_NAME,
    "test_another_accounts_catalog_is_missing": f"{NO_COUPON_NAME}, and {NO_ACCOUNTS}",
    # test_customers.py
    "test_a_customer_is_a_complete_stripe_object": NO_COMPLETE_OBJECTS("customer"),
    "test_objects_of_another_account_are_missing": NO_ACCOUNTS,
    # test_invoice_documents.py, test_invoices.py, test_invoice_payments_contract.py
    "test_retrieve_invoice_is_the_listed_invoice": NO_COMPLETE_OBJECTS("invoice"),
    "test_an_invoice_of_another_customer_or_account_is_missing": NO_ACCOUNTS,
    "test_invoices_are_complete_stripe_objects": NO_COMPLETE_OBJECTS("invoice"),
    "test_decline_then_pay_with_a_saved_card": NO_TEST_CLOCKS,
    "test_only_the_customers_own_invoice": NO_TEST_CLOCKS,
    "test_three_d_secure_goes_through_the_test_page": NO_TEST_CLOCKS,
    "test_failed_authorization_leaves_the_invoice_open": NO_TEST_CLOCKS,
    # test_payment_methods.py, test_payment_methods_contract.py
    "test_payment_methods_through_the_provider": (
        "the test token `pm_card_chargeDeclined` (`payment_methods.attach`, 404) and a "
        "`decline_code` on a declined card (its 402 has none)"),
    "test_a_card_is_saved_and_attached": NO_SETUP_INTENT_CONFIRM,
    "test_a_declined_card_is_not_saved": NO_SETUP_INTENT_CONFIRM,
    "test_three_d_secure_is_authorized_on_the_test_page": NO_SETUP_INTENT_CONFIRM,
    "test_a_failed_authorization_leaves_the_intent_waiting": NO_SETUP_INTENT_CONFIRM,
    "test_test_pages_and_setup_intents_of_others_are_missing": NO_SETUP_INTENT_CONFIRM,
    "test_payment_method_configurations": ("`POST /v1/payment_method_configurations` "
                                           "(payment_method_configurations.create, 404)"),
    "test_a_sepa_debit_is_saved_with_its_mandate": NO_SETUP_INTENT_CONFIRM,
    "test_a_wrong_iban_names_its_field": "`param` on validation errors (`sepa_debit[iban]`)",
    "test_a_wallet_is_authorized_on_the_test_page": NO_SETUP_INTENT_CONFIRM,
    # test_subscription_changes.py
    "test_a_preview_is_what_the_update_bills": NO_PENDING_ITEMS,
    "test_a_stale_or_doubled_confirmation_is_refused": NO_PENDING_ITEMS,
    "test_no_change_is_refused": NO_PENDING_ITEMS,
    "test_changes_of_another_customer_or_account_are_missing": NO_PENDING_ITEMS,
    "test_a_change_scheduled_for_the_period_end": NO_PENDING_ITEMS,
    "test_releasing_a_schedule_keeps_the_subscription_as_it_is": NO_PENDING_ITEMS,
    "test_a_change_made_in_the_portal_is_the_customers_and_a_cancel_drops_it": NO_PENDING_ITEMS,
    "test_cancel_at_period_end_and_reactivate": ("`subscriptions.update` with `cancel_at=\"\"` "
                                                 "(400 \"Bad request\")"),
    "test_cancel_now_with_a_final_invoice": ("a final invoice from `subscriptions.cancel` "
                                             "with `invoice_now` and `prorate` (none made)"),
    "test_pause_and_resume": NO_PAUSE,
    "test_discounts_and_promotion_codes": "`expand[]=discounts` (400 \"Bad expand\")",
    # test_subscriptions.py
    "test_a_subscription_is_a_complete_stripe_object": NO_COMPLETE_OBJECTS("subscription"),
    "test_the_merchant_retrieves_any_subscription_of_the_account": NO_ACCOUNTS,
    "test_cancel_and_renew_through_the_provider": (f"{NO_TEST_CLOCKS} (the test hung the "
                                                   "server for 320 s)"),
    "test_a_declined_first_charge_leaves_no_subscription": (
        "`payment_behavior=error_if_incomplete`: a failing first charge "
        "(`pm_card_chargeCustomerFail`) still creates the subscription, no 402"),
    # test_tax_ids_contract.py
    "test_create_list_delete": NO_TAX_ID_CHECKS,
    "test_a_malformed_number_or_a_wrong_check_digit_is_tax_id_invalid": NO_TAX_ID_CHECKS,
    "test_only_the_customers_own": NO_TAX_ID_CHECKS,
    # test_trials.py
    "test_free_days_postpone_the_next_invoice": NO_TEST_CLOCKS,
    "test_free_days_during_a_trial_lengthen_it": ("trials: `trial_period_days` leaves "
                                                  "`trial_end` null (and the status "
                                                  "`incomplete`)"),
    "test_refusals": NO_PAUSE,
}

# Past the table, the provider's calls localstripe lacks that no test above reaches first
# (from a probe of each call): `POST /v1/promotion_codes`, `/v1/subscription_schedules`
# and `POST /v1/subscriptions/{id}/resume` (404); `subscriptions.update` with
# `trial_end` or `cancellation_details`, `subscriptions.list` with `test_clock`,
# `invoices.create_preview` with `discounts` (500); `invoices.create_preview` of a
# subscription (400 "Bad request").


def open_localstripe_provider(url: str, *, account_id: str, clock: FrozenClock,
                              make_uow: Callable[[], UnitOfWork]) -> StripeBillingProvider:
    """The Stripe-backed provider on localstripe at ``url`` (no test clock: it has none)."""
    client = stripe.StripeClient(LOCALSTRIPE_KEY, base_addresses={"api": url},
                                 max_network_retries=0)
    calls = StripeCalls(client, account_id=account_id,
                        retry=RetryPolicy(base_delay=0.01, max_delay=0.05))
    return StripeBillingProvider(account_id=account_id, calls=calls, clock=clock,
                                 uow_factory=make_uow)


def skip_what_localstripe_lacks(items: list[pytest.Item]) -> None:
    """Mark each ``[localstripe]`` run of a test in :data:`LACKS` skipped, with its reason."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or callspec.params.get("provider_name") != "localstripe":
            continue
        name = getattr(item, "originalname", item.name)
        if name in LACKS:
            item.add_marker(pytest.mark.skip(reason=f"localstripe lacks {LACKS[name]}"))
