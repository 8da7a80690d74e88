"""Contract: free days (retention's trial extension): ``extend_trial`` moves the next bill.

Ada's subscription (15.00 EUR a month) started on 2026-01-31 12:00 UTC; its first
period ends on 2026-02-28 12:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal_app.billing.provider import BillingProvider, ItemSpec
from portal_app.clock import FrozenClock, to_unix
from portal_app.errors import InvalidRequest, ResourceMissing

PERIOD_END = datetime(2026, 2, 28, 12, tzinfo=UTC)


def test_free_days_postpone_the_next_invoice(provider: BillingProvider, shop: dict[str, str],
                                             clock: FrozenClock) -> None:
    ada, new_end = shop["ada"], PERIOD_END + timedelta(days=14)
    sub = provider.extend_trial(shop["sub"], customer_id=ada, trial_end=new_end)
    assert (sub["status"], sub["trial_start"], sub["trial_end"]) == (
        "trialing", to_unix(clock()), to_unix(new_end))
    assert sub["billing_cycle_anchor"] == to_unix(new_end)
    item = sub["items"]["data"][0]
    assert (item["current_period_start"], item["current_period_end"]) == (
        to_unix(clock()), to_unix(new_end))
    assert provider.retrieve_subscription(shop["sub"], customer_id=ada) == sub

    # Nothing is billed at the old period end; the next invoice comes at the new one.
    assert provider.advance_clock(PERIOD_END + timedelta(days=1)) == 0
    assert len(provider.list_invoices(ada)) == 1
    assert provider.advance_clock(new_end + timedelta(hours=1)) == 1
    renewal = provider.list_invoices(ada)[0]
    assert (renewal["amount_due"], renewal["period_start"]) == (1500, to_unix(new_end))
    assert provider.retrieve_subscription(shop["sub"], customer_id=ada)["status"] == "active"


def test_free_days_during_a_trial_lengthen_it(provider: BillingProvider,
                                              shop: dict[str, str]) -> None:
    trial = provider.create_subscription(customer=shop["bob"], items=[ItemSpec(shop["price"])],
                                         trial_period_days=7)
    trial_end = datetime.fromtimestamp(trial["trial_end"], UTC) + timedelta(days=7)
    longer = provider.extend_trial(trial["id"], customer_id=shop["bob"], trial_end=trial_end)
    assert (longer["status"], longer["trial_start"], longer["trial_end"]) == (
        "trialing", trial["trial_start"], to_unix(trial_end))


def test_another_customers_subscription_is_missing(provider: BillingProvider,
                                                   shop: dict[str, str]) -> None:
    with pytest.raises(ResourceMissing):
        provider.extend_trial(shop["sub"], customer_id=shop["bob"],
                              trial_end=PERIOD_END + timedelta(days=7))
    unchanged = provider.retrieve_subscription(shop["sub"], customer_id=shop["ada"])
    assert (unchanged["status"], unchanged["trial_end"]) == ("active", None)


def test_refusals(provider: BillingProvider, shop: dict[str, str]) -> None:
    ada, sub = shop["ada"], shop["sub"]
    with pytest.raises(InvalidRequest) as too_early:
        provider.extend_trial(sub, customer_id=ada, trial_end=PERIOD_END)
    assert too_early.value.param == "trial_end"
    provider.pause_subscription(sub, customer_id=ada, behavior="void")
    with pytest.raises(InvalidRequest) as paused:
        provider.extend_trial(sub, customer_id=ada, trial_end=PERIOD_END + timedelta(days=7))
    assert paused.value.code == "subscription_paused"
    provider.resume_subscription(sub, customer_id=ada)
    provider.cancel_subscription(sub, customer_id=ada, at_period_end=True)
    with pytest.raises(InvalidRequest) as canceling:
        provider.extend_trial(sub, customer_id=ada, trial_end=PERIOD_END + timedelta(days=7))
    assert canceling.value.code == "subscription_canceled"
