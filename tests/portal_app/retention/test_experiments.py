"""Experiments: targeting (reasons, plan, tenure), holdout, ship; the flow's choice of offer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal_app.clock import FrozenClock
from portal_app.errors import InvalidRequest
from portal_app.retention import experiments, flows, offers, policies
from portal_app.retention.experiments import VariantSpec
from tests.portal_app.retention.conftest import Shop


def extension(shop: Shop, days: int) -> str:
    return offers.create_offer(account_id=shop.account_id, uow=shop.make_uow(),
                               type="trial_extension", name=f"{days} days",
                               extension_days=days).id


def run(shop: Shop, **kw: object) -> str:
    exp = experiments.create_experiment(account_id=shop.account_id, uow=shop.make_uow(),
                                        name="E", configuration=shop.config.id, **kw)
    experiments.start_experiment(exp.id, account_id=shop.account_id, uow=shop.make_uow())
    return exp.id


def decide(shop: Shop, reason: str = "unused", price: object = None
           ) -> tuple[flows.FlowView, object]:
    customer = shop.customer()
    sub = shop.subscribe(customer, price)  # type: ignore[arg-type]
    session = shop.session(customer)
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    shown = flows.submit_reason(session, flow.id, reason, None, uow=shop.make_uow())
    return flows.retrieve_flow(session, flow.id, uow=shop.make_uow()), shown


def test_targeting_falls_back_to_the_policy(shop: Shop, clock: FrozenClock) -> None:
    in_exp, by_policy = extension(shop, 7), extension(shop, 30)
    policies.set_policy(shop.config.id, account_id=shop.account_id, uow=shop.make_uow(),
                        offers={"default": by_policy})
    exp_id = run(shop, reasons=["too_expensive"], segment_prices=[shop.pro["id"]],
                 tenure_min_days=0, tenure_max_days=5,
                 variants=[VariantSpec(name="all", offers={"default": in_exp})])
    flow, shown = decide(shop, "too_expensive")
    assert flow.experiment_id == exp_id and shown.id == in_exp  # type: ignore[attr-defined]
    flow, shown = decide(shop, "unused")  # reason outside the experiment
    assert flow.experiment_id is None and shown.id == by_policy  # type: ignore[attr-defined]
    flow, shown = decide(shop, "too_expensive", shop.basic)  # plan outside it
    assert flow.experiment_id is None and shown.id == by_policy  # type: ignore[attr-defined]


def test_tenure_segment(shop: Shop, clock: FrozenClock) -> None:
    customer = shop.customer()
    sub = shop.subscribe(customer)
    run(shop, tenure_min_days=30, variants=[VariantSpec(name="control")])
    session = shop.session(customer)
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    flows.submit_reason(session, flow.id, "unused", None, uow=shop.make_uow())
    assert flows.retrieve_flow(session, flow.id, uow=shop.make_uow()).experiment_id is None
    clock.set(clock() + timedelta(days=31))
    session = shop.session(customer)
    flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
    flows.submit_reason(session, flow.id, "unused", None, uow=shop.make_uow())
    assert flows.retrieve_flow(session, flow.id, uow=shop.make_uow()).experiment_id


def test_holdout_sees_no_offer_and_is_recorded(shop: Shop) -> None:
    offer_id = extension(shop, 7)
    exp_id = run(shop, holdout_percent=99.99,
                 variants=[VariantSpec(name="offer", offers={"default": offer_id})])
    flow, shown = decide(shop)
    assert shown is None and flow.holdout is True and flow.variant_id is None
    assert flow.experiment_id == exp_id


def test_ship_makes_the_variant_the_policy(shop: Shop) -> None:
    a, b = extension(shop, 7), extension(shop, 14)
    exp = experiments.create_experiment(
        account_id=shop.account_id, uow=shop.make_uow(), name="E",
        configuration=shop.config.id,
        variants=[VariantSpec(name="a", offers={"unused": a}),
                  VariantSpec(name="b", offers={"unused": b, "default": a})])
    with pytest.raises(InvalidRequest):
        experiments.ship_variant(exp.id, variant_id="var_x", account_id=shop.account_id,
                                 uow=shop.make_uow())
    experiments.start_experiment(exp.id, account_id=shop.account_id, uow=shop.make_uow())
    with shop.make_uow() as uow:
        variant_b = experiments.render_experiment(exp, uow)["variants"][1]["id"]
    shipped = experiments.ship_variant(exp.id, variant_id=variant_b,
                                       account_id=shop.account_id, uow=shop.make_uow())
    assert shipped.status == "stopped" and shipped.shipped_variant_id == variant_b
    policy = policies.retrieve_policy(shop.config.id, account_id=shop.account_id,
                                      uow=shop.make_uow())
    assert policy is not None and policy.offers == {"unused": b, "default": a}
    flow, shown = decide(shop, "unused")
    assert flow.experiment_id is None and shown.id == b  # type: ignore[attr-defined]
