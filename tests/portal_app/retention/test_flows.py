"""The cancel flow end to end on a real SQLite/PostgreSQL unit of work: events in
order with their ids and origin, each offer kind applied for real, and safety."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from portal_app.billing.provider import StripeObject
from portal_app.clock import FrozenClock, to_unix
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.events.models import Event
from portal_app.retention import experiments, flows, offers, policies
from portal_app.retention.experiments import VariantSpec
from portal_app.retention.models import CancellationFlow
from portal_app.stripe_shapes import current_period_end, subscription_items
from tests.portal_app.retention.conftest import Shop


def events(shop: Shop, prefix: str = "") -> list[Event]:
    with shop.make_uow() as uow:
        return list(uow.session.exec(
            select(Event).where(Event.account_id == shop.account_id,
                                col(Event.type).startswith(prefix))
            .order_by(col(Event.seq))).all())


def subscription(shop: Shop, sub_id: str) -> StripeObject:
    return shop.subscription(sub_id)


def make_offer(shop: Shop, type: str, **kw: Any) -> str:
    return offers.create_offer(account_id=shop.account_id, uow=shop.make_uow(), type=type,
                               name=f"{type} offer", **kw).id


def policy(shop: Shop, **mapping: str) -> None:
    policies.set_policy(shop.config.id, account_id=shop.account_id, uow=shop.make_uow(),
                        offers=mapping)


def test_full_flow_with_contact_offer_declined_then_cancel(shop: Shop) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    offer_id = make_offer(shop, "contact", contact_url="https://acme.test/talk")
    policy(shop, too_expensive=offer_id)
    session = shop.session(customer)
    uow = shop.make_uow

    start = flows.start_flow(session, sub["id"], uow=uow())
    assert start.reasons == ("too_expensive", "unused", "missing_features")
    assert start.reason_required and not start.comment_required
    assert start.mode == "at_period_end" and start.cancels_at == current_period_end(sub)
    assert start.flow.status == "started"
    # The page reloads: the same flow goes on, no second "started".
    assert flows.start_flow(session, sub["id"], uow=uow()).flow.id == start.flow.id

    offer = flows.submit_reason(session, start.flow.id, "too_expensive", "Too pricey",
                                uow=uow())
    assert offer is not None and offer.id == offer_id and offer.type == "contact"
    assert offer.contact_url == "https://acme.test/talk"
    flows.decline_offer(session, start.flow.id, uow=uow())
    done = flows.confirm_cancel(session, start.flow.id, uow=uow())
    assert done.status == "completed" and done.cancel_at == current_period_end(sub)

    kept = subscription(shop, sub["id"])
    assert kept["cancel_at_period_end"] is True
    assert kept["cancellation_details"].items() >= {
        "feedback": "too_expensive", "comment": "Too pricey",
        "reason": "cancellation_requested"}.items()
    flow_events = events(shop, "portico.cancellation_flow.")
    assert [e.type.rsplit(".", 1)[1] for e in flow_events] == [
        "started", "offer_presented", "offer_declined", "completed"]
    for event in flow_events:
        obj = event.data_object
        assert obj["id"] == start.flow.id and obj["object"] == "portico.cancellation_flow"
        assert obj["customer"] == customer and obj["subscription"] == sub["id"]
        assert obj["portal_session"] == session.id and obj["configuration"] == shop.config.id
        assert obj["mrr"] == 4900 and obj["currency"] == "usd"
        assert event.customer_id == customer
        assert event.origin == {"portal_session": session.id,
                                "configuration": shop.config.id,
                                "cancellation_flow": start.flow.id}
    assert [e.data_object["status"] for e in flow_events] == [
        "started", "offer_presented", "offer_declined", "completed"]
    assert flow_events[1].data_object["offer"] == {"id": offer_id, "type": "contact"}
    assert flow_events[3].data_object["reason"] == "too_expensive"
    assert flow_events[3].data_object["comment"] == "Too pricey"
    # The ledger's own event of the cancellation carries the flow as its origin.
    updated = [e for e in events(shop, "customer.subscription.updated")
               if e.object_id == sub["id"]][-1]
    assert updated.origin is not None
    assert updated.origin["cancellation_flow"] == start.flow.id
    assert updated.data_object["cancellation_details"]["feedback"] == "too_expensive"
    assert updated.seq < flow_events[3].seq  # the change, then the step that made it


def test_contact_offer_accepted_keeps_the_subscription(shop: Shop) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    offer_id = make_offer(shop, "contact", contact_email="help@acme.test")
    policy(shop, default=offer_id)
    session = shop.session(customer)
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    flows.submit_reason(session, flow.id, "unused", None, uow=shop.make_uow())
    view = flows.accept_offer(session, flow.id, offer_id, uow=shop.make_uow())
    assert view.status == "offer_accepted"
    assert view.outcome == {"contact": {"url": None, "email": "help@acme.test"}}
    assert subscription(shop, sub["id"])["cancel_at_period_end"] is False
    with pytest.raises(InvalidRequest) as refused:
        flows.confirm_cancel(session, flow.id, uow=shop.make_uow())
    assert refused.value.code == "offer_accepted"


def test_trial_extension_moves_the_next_billing_date(shop: Shop, clock: FrozenClock) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    offer_id = make_offer(shop, "trial_extension", extension_days=14)
    policy(shop, unused=offer_id)
    session = shop.session(customer)
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    shown = flows.submit_reason(session, flow.id, "unused", None, uow=shop.make_uow())
    assert shown is not None
    assert shown.next_billing_at == current_period_end(sub) + timedelta(days=14)
    view = flows.accept_offer(session, flow.id, offer_id, uow=shop.make_uow())
    new_end = current_period_end(sub) + timedelta(days=14)
    assert view.outcome == {"next_billing_at": to_unix(new_end)}
    assert view.offer == shown
    after = subscription(shop, sub["id"])
    assert current_period_end(after) == new_end and after["trial_end"] == to_unix(new_end)
    assert after["status"] == "trialing"
    # No invoice at the old period end; the next one comes at the new date, full price.
    shop.advance(current_period_end(sub) + timedelta(days=1))
    assert len(shop.invoices(sub)) == 1
    shop.advance(new_end + timedelta(hours=1))
    invoices = shop.invoices(sub)
    assert len(invoices) == 2 and invoices[1]["amount_due"] == 4900
    assert invoices[1]["period_start"] == to_unix(new_end)
    assert subscription(shop, sub["id"])["status"] == "active"
    accepted = events(shop, "portico.cancellation_flow.offer_accepted")
    assert len(accepted) == 1 and accepted[0].data_object["offer"]["type"] == "trial_extension"
    updated = [e for e in events(shop, "customer.subscription.updated") if e.origin]
    assert updated[0].origin["cancellation_flow"] == flow.id
    assert updated[0].previous_attributes["status"] == "active"


def test_safety_accept_only_what_was_presented_and_only_once(shop: Shop) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    shown_id = make_offer(shop, "trial_extension", extension_days=7)
    other_id = make_offer(shop, "trial_extension", extension_days=30)
    policy(shop, too_expensive=shown_id)
    session = shop.session(customer)
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    # Nothing presented yet: nothing can be accepted.
    with pytest.raises(InvalidRequest) as early:
        flows.accept_offer(session, flow.id, shown_id, uow=shop.make_uow())
    assert early.value.code == "offer_not_presented"
    flows.submit_reason(session, flow.id, "too_expensive", None, uow=shop.make_uow())
    with pytest.raises(InvalidRequest) as other:
        flows.accept_offer(session, flow.id, other_id, uow=shop.make_uow())
    assert other.value.code == "offer_not_presented"
    first = flows.accept_offer(session, flow.id, shown_id, uow=shop.make_uow())
    second = flows.accept_offer(session, flow.id, shown_id, uow=shop.make_uow())
    assert first == second
    after = subscription(shop, sub["id"])
    assert current_period_end(after) == current_period_end(sub) + timedelta(days=7)  # once
    assert len(events(shop, "portico.cancellation_flow.offer_accepted")) == 1


def test_eligibility_is_checked_again_at_acceptance(shop: Shop) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    offer_id = make_offer(shop, "trial_extension", extension_days=7)
    policy(shop, default=offer_id)
    session = shop.session(customer)
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    assert flows.submit_reason(session, flow.id, "unused", None, uow=shop.make_uow())
    offers.update_offer(offer_id, account_id=shop.account_id, uow=shop.make_uow(),
                        active=False)
    with pytest.raises(offers.OfferNotEligible) as refused:
        flows.accept_offer(session, flow.id, offer_id, uow=shop.make_uow())
    assert refused.value.rule == "offer_inactive" and refused.value.code == "offer_not_eligible"
    assert current_period_end(subscription(shop, sub["id"])) == current_period_end(sub)


def test_another_customers_ids_are_missing_and_change_nothing(shop: Shop) -> None:
    victim = shop.customer("victim@example.com")
    victim_sub = shop.subscribe(victim)
    attacker = shop.customer("mallory@example.com")
    attacker_sub = shop.subscribe(attacker)
    offer_id = make_offer(shop, "trial_extension", extension_days=7)
    policy(shop, default=offer_id)
    victim_session = shop.session(victim)
    victim_flow = flows.start_flow(victim_session, victim_sub["id"], uow=shop.make_uow()).flow
    flows.submit_reason(victim_session, victim_flow.id, "unused", None, uow=shop.make_uow())
    mallory = shop.session(attacker)
    own_flow = flows.start_flow(mallory, attacker_sub["id"], uow=shop.make_uow()).flow
    before = len(events(shop))

    with pytest.raises(ResourceMissing):
        flows.start_flow(mallory, victim_sub["id"], uow=shop.make_uow())
    for call in (
        lambda: flows.submit_reason(mallory, victim_flow.id, "unused", None,
                                    uow=shop.make_uow()),
        lambda: flows.accept_offer(mallory, victim_flow.id, offer_id, uow=shop.make_uow()),
        lambda: flows.decline_offer(mallory, victim_flow.id, uow=shop.make_uow()),
        lambda: flows.confirm_cancel(mallory, victim_flow.id, uow=shop.make_uow()),
        lambda: flows.retrieve_flow(mallory, victim_flow.id, uow=shop.make_uow()),
    ):
        with pytest.raises(ResourceMissing):
            call()
    # A session object whose fields were tampered with is read back from the table.
    forged = mallory.model_copy(update={"customer_id": victim})
    with pytest.raises(ResourceMissing):
        flows.accept_offer(forged, victim_flow.id, offer_id, uow=shop.make_uow())
    # The victim's own session cannot reach the attacker's flow either.
    with pytest.raises(ResourceMissing):
        flows.confirm_cancel(victim_session, own_flow.id, uow=shop.make_uow())
    assert len(events(shop)) == before
    untouched = subscription(shop, victim_sub["id"])
    assert current_period_end(untouched) == current_period_end(victim_sub)
    assert untouched["cancel_at_period_end"] is False
    with shop.make_uow() as uow:
        assert uow.session.get(CancellationFlow, victim_flow.id).status == "offer_presented"


def test_reason_and_comment_rules(shop: Shop) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    policies.set_policy(shop.config.id, account_id=shop.account_id, uow=shop.make_uow(),
                        comment_required=True)
    session = shop.session(customer)
    start = flows.start_flow(session, sub["id"], uow=shop.make_uow())
    assert start.comment_required
    for reason, comment, code in ((None, "x", "reason_required"),
                                  ("low_quality", "x", "reason_invalid"),
                                  ("unused", "  ", "comment_required"),
                                  ("unused", "x" * 501, "comment_too_long")):
        with pytest.raises(InvalidRequest) as error:
            flows.submit_reason(session, start.flow.id, reason, comment, uow=shop.make_uow())
        assert error.value.code == code
    with pytest.raises(InvalidRequest) as early:
        flows.confirm_cancel(session, start.flow.id, uow=shop.make_uow())
    assert early.value.code == "reason_required"
    assert flows.submit_reason(session, start.flow.id, "unused", "Never use it",
                               uow=shop.make_uow()) is None
    done = flows.confirm_cancel(session, start.flow.id, uow=shop.make_uow())
    assert done.status == "completed"
    assert [e.type for e in events(shop, "portico.")][-2:] == [
        "portico.cancellation_flow.started", "portico.cancellation_flow.completed"]


def test_cancel_disabled_and_immediate_mode(shop: Shop) -> None:
    from portal_app.portal import configurations

    customer = shop.customer()
    sub = shop.subscribe(customer)
    off = configurations.create_configuration({"features": {}}, account_id=shop.account_id,
                                              uow=shop.make_uow())
    with pytest.raises(InvalidRequest) as disabled:
        flows.start_flow(shop.session(customer, config=off), sub["id"], uow=shop.make_uow())
    assert disabled.value.code == "subscription_cancel_disabled"
    now_config = configurations.create_configuration(
        {"features": {"subscription_cancel": {"enabled": True, "mode": "immediately"}}},
        account_id=shop.account_id, uow=shop.make_uow())
    session = shop.session(customer, config=now_config)
    start = flows.start_flow(session, sub["id"], uow=shop.make_uow())
    assert start.reasons == () and not start.reason_required
    assert flows.submit_reason(session, start.flow.id, "unused", None,
                               uow=shop.make_uow()) is None
    flows.confirm_cancel(session, start.flow.id, uow=shop.make_uow())
    ended = subscription(shop, sub["id"])
    assert ended["status"] == "canceled"
    assert ended["cancellation_details"].items() >= {
        "feedback": None, "comment": None, "reason": "cancellation_requested"}.items()
    deleted = events(shop, "customer.subscription.deleted")
    assert deleted[-1].origin["cancellation_flow"] == start.flow.id


def test_experiment_exposures_and_churn_of_a_saved_customer(shop: Shop,
                                                            clock: FrozenClock) -> None:
    offer_id = make_offer(shop, "trial_extension", extension_days=7)
    exp = experiments.create_experiment(
        account_id=shop.account_id, uow=shop.make_uow(), name="Free week",
        configuration=shop.config.id,
        variants=[VariantSpec(name="control", weight=1),
                  VariantSpec(name="free week", weight=1, offers={"default": offer_id})])
    experiments.start_experiment(exp.id, account_id=shop.account_id, uow=shop.make_uow())
    seen: dict[str, int] = {}
    saved = None
    for i in range(12):
        customer = shop.customer(f"c{i}@example.com")
        sub = shop.subscribe(customer)
        session = shop.session(customer)
        flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
        shown = flows.submit_reason(session, flow.id, "unused", None, uow=shop.make_uow())
        row = flows.retrieve_flow(session, flow.id, uow=shop.make_uow())
        assert row.experiment_id == exp.id and row.variant_id is not None
        seen[row.variant_id] = seen.get(row.variant_id, 0) + 1
        if shown is not None and saved is None:
            flows.accept_offer(session, flow.id, shown.id, uow=shop.make_uow())
            saved = (customer, sub, row)
    assert len(seen) == 2  # both arms got customers
    presented = events(shop, "portico.cancellation_flow.offer_presented")
    assert len(presented) == 12  # control exposures are recorded too, with no offer
    assert {e.data_object["offer"] is None for e in presented} == {True, False}
    assert all(e.origin["experiment"] == exp.id and e.origin["variant"] ==
               e.data_object["variant"] for e in presented)

    # Saved, then gone within the attribution window: the churn names the variant.
    assert saved is not None
    customer, sub, row = saved
    clock.set(clock() + timedelta(days=3))
    experiments.stop_experiment(exp.id, account_id=shop.account_id, uow=shop.make_uow())
    session = shop.session(customer)
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    flows.submit_reason(session, flow.id, "unused", None, uow=shop.make_uow())
    flows.confirm_cancel(session, flow.id, uow=shop.make_uow())
    completed = events(shop, "portico.cancellation_flow.completed")[-1]
    assert completed.data_object["experiment"] is None  # this flow had no experiment
    assert completed.origin == {"portal_session": session.id, "configuration": shop.config.id,
                                "cancellation_flow": flow.id, "experiment": exp.id,
                                "variant": row.variant_id, "saved_by_flow": row.id}
    updated = [e for e in events(shop, "customer.subscription.updated")
               if e.object_id == sub["id"]][-1]
    assert updated.origin == completed.origin


def test_churn_at_period_end_names_the_experiment_and_variant(shop: Shop,
                                                              clock: FrozenClock) -> None:
    offer_id = make_offer(shop, "contact", contact_email="help@acme.test")
    exp = experiments.create_experiment(
        account_id=shop.account_id, uow=shop.make_uow(), name="Talk to us",
        configuration=shop.config.id,
        variants=[VariantSpec(name="control", weight=1),
                  VariantSpec(name="contact", weight=1, offers={"default": offer_id})])
    experiments.start_experiment(exp.id, account_id=shop.account_id, uow=shop.make_uow())
    customer = shop.customer()
    sub = shop.subscribe(customer)
    session = shop.session(customer)
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    if flows.submit_reason(session, flow.id, "unused", None, uow=shop.make_uow()):
        flows.decline_offer(session, flow.id, uow=shop.make_uow())
    done = flows.confirm_cancel(session, flow.id, uow=shop.make_uow())
    assert done.experiment_id == exp.id and done.variant_id is not None
    assert subscription(shop, sub["id"])["status"] == "active"  # at_period_end: not yet

    # The clock ends it at the period end, with no request of its own: the event
    # still names the flow, experiment and variant that scheduled the cancellation.
    shop.advance(current_period_end(sub) + timedelta(days=1))
    [deleted] = [e for e in events(shop, "customer.subscription.deleted")
                 if e.object_id == sub["id"]]
    assert deleted.created == current_period_end(sub)
    assert deleted.origin == {"portal_session": session.id, "configuration": shop.config.id,
                              "cancellation_flow": flow.id, "experiment": exp.id,
                              "variant": done.variant_id}
    assert deleted.data_object["status"] == "canceled"
    assert "cancellation_origin" not in deleted.data_object


def accept_via_policy(shop: Shop, offer_id: str, reason: str = "too_expensive"
                      ) -> tuple[StripeObject, flows.FlowView, Any]:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    policy(shop, default=offer_id)
    session = shop.session(customer)
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    shown = flows.submit_reason(session, flow.id, reason, None, uow=shop.make_uow())
    assert shown is not None and shown.id == offer_id
    return sub, flows.accept_offer(session, flow.id, offer_id, uow=shop.make_uow()), shown


def test_coupon_offer_discounts_the_coming_invoices(shop: Shop, clock: FrozenClock) -> None:
    offer_id = make_offer(shop, "coupon", new_coupon={
        "percent_off": 50, "duration": "repeating", "duration_in_months": 2})
    sub, view, shown = accept_via_policy(shop, offer_id)
    assert shown.percent_off == 50 and shown.duration == "repeating"
    assert shown.duration_in_months == 2
    assert view.status == "offer_accepted" and view.outcome["coupon"]
    shop.advance(current_period_end(sub) + timedelta(days=1))
    renewal = shop.invoices(sub)[-1]
    assert renewal["billing_reason"] == "subscription_cycle"
    assert renewal["subtotal"] == 4900
    assert [d["amount"] for d in renewal["total_discount_amounts"]] == [2450]
    assert renewal["amount_due"] == 2450
    assert subscription(shop, sub["id"])["cancel_at_period_end"] is False


def test_pause_offer_pauses_collection_until_it_resumes(shop: Shop) -> None:
    offer_id = make_offer(shop, "pause", pause_interval="period", pause_interval_count=2)
    customer_sub, view, shown = accept_via_policy(shop, offer_id)
    resumes_at = shown.resumes_at
    assert resumes_at is not None
    assert view.outcome == {"resumes_at": to_unix(resumes_at)}
    paused = subscription(shop, customer_sub["id"])
    assert paused["pause_collection"] is not None
    assert paused["pause_collection"]["behavior"] == "void"
    assert paused["pause_collection"]["resumes_at"] == to_unix(resumes_at)
    updated = [e for e in events(shop, "customer.subscription.updated") if e.origin]
    assert updated[-1].data_object["pause_collection"]["resumes_at"] == to_unix(resumes_at)


def test_price_change_offer_switches_to_the_cheaper_price(shop: Shop, clock: FrozenClock
                                                          ) -> None:
    offer_id = make_offer(shop, "price_change", price=shop.basic["id"],
                          price_change_timing="period_end")
    sub, view, shown = accept_via_policy(shop, offer_id)
    assert (shown.current_amount, shown.new_amount, shown.saving) == (4900, 1900, 3000)
    assert shown.effective_at == current_period_end(sub)
    assert view.outcome == {"price": shop.basic["id"],
                            "effective_at": to_unix(current_period_end(sub))}
    assert view.offer == shown  # the confirmation shows what was offered
    shop.advance(current_period_end(sub) + timedelta(days=1))
    renewal = shop.invoices(sub)[-1]
    assert renewal["amount_due"] == 1900  # the cheaper price, no proration surprise
    items = subscription_items(shop.subscription(sub["id"]))
    assert [item["price"]["id"] for item in items] == [shop.basic["id"]]


def test_price_change_now_credits_and_never_charges(shop: Shop, clock: FrozenClock) -> None:
    offer_id = make_offer(shop, "price_change", price=shop.basic["id"],
                          price_change_timing="now")
    sub, view, shown = accept_via_policy(shop, offer_id)
    assert view.offer == shown and shown.saving == 3000
    items = subscription_items(shop.subscription(sub["id"]))
    assert [item["price"]["id"] for item in items] == [shop.basic["id"]]
    assert [invoice["amount_due"] for invoice in shop.invoices(sub)] == [4900]  # none now
    shop.advance(current_period_end(sub) + timedelta(days=1))
    renewal = shop.invoices(sub)[-1]
    assert renewal["billing_reason"] == "subscription_cycle"
    assert renewal["amount_due"] < 1900  # the cheaper price, less the unused time's credit


def test_session_retention_coupon_is_shown_as_a_coupon_offer(shop: Shop, clock: FrozenClock
                                                             ) -> None:
    coupon = shop.billing.create_coupon(amount_off=1000, currency="usd", duration="once",
                                        name="10 off")
    customer = shop.customer()
    sub = shop.subscribe(customer)
    session = shop.session(customer, flow_data={
        "type": "subscription_cancel",
        "subscription_cancel": {"subscription": sub["id"], "retention": {
            "type": "coupon_offer", "coupon_offer": {"coupon": coupon["id"]}}}})
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    shown = flows.submit_reason(session, flow.id, "unused", None, uow=shop.make_uow())
    assert shown is not None and shown.type == "coupon" and shown.amount_off == 1000
    flows.accept_offer(session, flow.id, shown.id, uow=shop.make_uow())
    shop.advance(current_period_end(sub) + timedelta(days=1))
    assert shop.invoices(sub)[-1]["amount_due"] == 3900
    offer = offers.retrieve_offer(shown.id, account_id=shop.account_id, uow=shop.make_uow())
    assert offer.source == "flow_data" and offer.coupon_id == coupon["id"]


def test_two_simultaneous_acceptances_apply_once(shop: Shop) -> None:
    import threading

    from sqlalchemy.exc import OperationalError

    customer = shop.customer()
    sub = shop.subscribe(customer)
    offer_id = make_offer(shop, "trial_extension", extension_days=7)
    policy(shop, default=offer_id)
    session = shop.session(customer)
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    flows.submit_reason(session, flow.id, "unused", None, uow=shop.make_uow())
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def accept() -> None:
        barrier.wait()
        try:
            outcomes.append(flows.accept_offer(session, flow.id, offer_id,
                                               uow=shop.make_uow()).status)
        except OperationalError as error:  # SQLite: the loser's write is refused, not lost
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert "offer_accepted" in outcomes and len(outcomes) == 2
    assert current_period_end(subscription(shop, sub["id"])) == \
        current_period_end(sub) + timedelta(days=7)
    assert len(events(shop, "portico.cancellation_flow.offer_accepted")) == 1


def offered(shop: Shop, type: str, **kw: Any) -> tuple[str, StripeObject]:
    """A new customer's subscription, and an offer of ``type`` for every reason."""
    customer = shop.customer()
    policy(shop, default=make_offer(shop, type, **kw))
    return customer, shop.subscribe(customer)


def presented(shop: Shop, session: Any, sub: StripeObject) -> str:
    """Cancel → "unused": the offer then presented in the session's new flow (its id)."""
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    shown = flows.submit_reason(session, flow.id, "unused", None, uow=shop.make_uow())
    assert shown is not None
    return shown.id


def flow_of(shop: Shop, session: Any) -> str:
    """The session's newest flow."""
    with shop.make_uow() as uow:
        return uow.session.exec(select(CancellationFlow.id).where(
            CancellationFlow.portal_session_id == session.id)
            .order_by(col(CancellationFlow.created).desc())).first()


def test_free_days_cannot_be_stacked_month_after_month(shop: Shop) -> None:
    """Cancel → reason → "30 days free", again and again, would push the next charge out
    forever: the offer comes once per subscription per 12 months, and then the customer
    simply cancels."""
    customer, sub = offered(shop, "trial_extension", extension_days=30)
    session = shop.session(customer)
    offer_id = presented(shop, session, sub)
    flows.accept_offer(session, flow_of(shop, session), offer_id, uow=shop.make_uow())
    first_end = current_period_end(subscription(shop, sub["id"]))
    shop.advance(first_end - timedelta(days=1))

    again = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow

    assert flows.submit_reason(session, again.id, "unused", None, uow=shop.make_uow()) is None
    with pytest.raises(InvalidRequest) as refused:  # a crafted accept of the old offer
        flows.accept_offer(session, again.id, offer_id, uow=shop.make_uow())
    assert refused.value.code == "offer_not_presented"
    assert current_period_end(subscription(shop, sub["id"])) == first_end
    done = flows.confirm_cancel(session, again.id, uow=shop.make_uow())
    assert done.cancel_at == first_end


def test_two_tabs_accepting_at_once_redeem_the_offer_once(shop: Shop) -> None:
    """Two flows of one subscription (two tabs), both shown "7 days free", accepted at
    the same moment: one is applied, the other refused, not stacked. The subscription's
    flows are locked while the limit is checked (on PostgreSQL two transactions would
    otherwise both count no earlier acceptance)."""
    import threading

    customer, sub = offered(shop, "trial_extension", extension_days=7)
    tabs = [shop.session(customer) for _ in range(2)]
    offer_id = [presented(shop, session, sub) for session in tabs][0]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(session: Any) -> None:
        flow_id = flow_of(shop, session)
        barrier.wait()
        try:
            outcomes.append(flows.accept_offer(session, flow_id, offer_id,
                                               uow=shop.make_uow()).status)
        except offers.OfferNotEligible as error:
            outcomes.append(error.rule)

    threads = [threading.Thread(target=accept, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["offer_accepted", "subscription_redemption_limit_reached"]
    assert current_period_end(subscription(shop, sub["id"])) == \
        current_period_end(sub) + timedelta(days=7)
    assert len(events(shop, "portico.cancellation_flow.offer_accepted")) == 1
