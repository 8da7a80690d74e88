"""The read-out adapter: stored flow events of one experiment, read out by analytics."""

from __future__ import annotations

import polars as pl
import pytest

from analytics.ingest import RAW_SCHEMA
from portal_app.accounts import services as accounts
from portal_app.errors import ResourceMissing
from portal_app.retention import experiments, flows, offers, readout
from portal_app.retention.experiments import VariantSpec
from portal_app.retention.models import Experiment
from tests.portal_app.retention.conftest import Shop


def run_experiment(shop: Shop, customers: int) -> tuple[Experiment, dict[str, list[bool]]]:
    """A control and a coupon arm; every customer who is offered the coupon takes it."""
    coupon = offers.create_offer(account_id=shop.account_id, uow=shop.make_uow(),
                                 type="coupon", name="Half off",
                                 new_coupon={"percent_off": 50, "duration": "repeating",
                                             "duration_in_months": 3}).id
    exp = experiments.create_experiment(
        account_id=shop.account_id, uow=shop.make_uow(), name="Half off vs nothing",
        configuration=shop.config.id,
        variants=[VariantSpec(name="Control", weight=1),
                  VariantSpec(name="Coupon", weight=1, offers={"default": coupon})])
    experiments.start_experiment(exp.id, account_id=shop.account_id, uow=shop.make_uow())
    outcomes: dict[str, list[bool]] = {}
    for i in range(customers):
        customer = shop.customer(f"r{i}@example.com")
        sub = shop.subscribe(customer)
        session = shop.session(customer)
        flow = flows.start_flow(session, sub["id"], uow=shop.make_uow()).flow
        shown = flows.submit_reason(session, flow.id, "too_expensive", None, uow=shop.make_uow())
        variant = flows.retrieve_flow(session, flow.id, uow=shop.make_uow()).variant_id
        assert variant is not None
        if shown is not None:
            flows.accept_offer(session, flow.id, shown.id, uow=shop.make_uow())
        else:
            flows.confirm_cancel(session, flow.id, uow=shop.make_uow())
        outcomes.setdefault(variant, []).append(shown is not None)
    return exp, outcomes


def test_flow_events_are_the_raw_frame_of_the_experiments_flows(shop: Shop) -> None:
    exp, outcomes = run_experiment(shop, 4)
    # A flow outside the experiment is not read.
    experiments.stop_experiment(exp.id, account_id=shop.account_id, uow=shop.make_uow())
    outsider = shop.customer("out@example.com")
    sub = shop.subscribe(outsider)
    flows.start_flow(shop.session(outsider), sub["id"], uow=shop.make_uow())

    frame = readout.flow_events(exp.id, account_id=shop.account_id, uow=shop.make_uow())

    assert frame.collect_schema() == pl.Schema(RAW_SCHEMA)
    raw = frame.collect()
    # Per flow: started, offer_presented (control too: with no offer), then the decision.
    assert raw.height == 3 * 4
    decided = raw.filter(~pl.col("type").str.ends_with(".started"))  # assigned at the reason
    assert decided["data"].str.json_path_match("$.experiment").unique().to_list() == [exp.id]
    assert set(raw["type"].str.strip_prefix("portico.cancellation_flow.")) <= {
        "started", "offer_presented", "offer_accepted", "completed"}
    assert raw["seq"].is_sorted()


def test_readout_counts_exposures_and_saves_per_variant(shop: Shop) -> None:
    exp, outcomes = run_experiment(shop, 10)

    result = readout.experiment_readout(exp.id, account_id=shop.account_id,
                                        uow=shop.make_uow())

    assert [v.name for v in result.variants] == ["Control", "Coupon"]
    control, coupon = result.variants
    assert control.control and control.no_offer and not coupon.control
    assert control.weight == coupon.weight == 0.5
    for row in result.variants:
        assert row.exposures == len(outcomes.get(row.variant_id, []))
        assert row.saves == sum(outcomes.get(row.variant_id, []))
    assert result.exposures == 10
    assert coupon.saves == coupon.exposures and control.saves == 0
    if coupon.exposures:
        assert coupon.rate == 1.0 and coupon.rate_low is not None and coupon.rate_low < 1.0
        assert coupon.diff == pytest.approx(1.0 - (control.rate or 0.0))
    assert control.diff is None and control.verdict.startswith("Control")
    assert coupon.verdict.startswith("Too early to call")
    assert not coupon.significant
    assert result.srm_p_value is not None and not result.sample_ratio_mismatch


def test_a_new_experiment_reads_out_zero(shop: Shop) -> None:
    exp = experiments.create_experiment(
        account_id=shop.account_id, uow=shop.make_uow(), name="Empty",
        configuration=shop.config.id, variants=[VariantSpec(name="A"), VariantSpec(name="B")])

    result = readout.experiment_readout(exp.id, account_id=shop.account_id,
                                        uow=shop.make_uow())

    assert [(v.exposures, v.saves, v.rate) for v in result.variants] == [(0, 0, None)] * 2
    assert result.variants[0].control and result.srm_p_value is None
    assert not result.sample_ratio_mismatch


def test_another_accounts_experiment_is_missing(shop: Shop) -> None:
    exp, _ = run_experiment(shop, 1)
    other = accounts.create_account(business_name="Other", email="o@x.test",
                                    uow=shop.make_uow()).id
    with pytest.raises(ResourceMissing):
        readout.experiment_readout(exp.id, account_id=other, uow=shop.make_uow())
    assert readout.flow_events(exp.id, account_id=other,
                               uow=shop.make_uow()).collect().height == 0
