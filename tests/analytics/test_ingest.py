"""Flattening Stripe-shaped events: the contract's MRR, flows, JSON lines, the event store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.events import scan_events
from analytics.ingest import (
    SUBSCRIPTION_SCHEMA,
    flow_frame,
    scan_stripe_jsonl,
    subscription_frame,
    write_parquet,
)
from portal_app.billing.catalog import create_price, create_product
from portal_app.billing.coupons import create_coupon
from portal_app.billing.customers import create_customer
from portal_app.billing.provider import ItemSpec
from portal_app.billing.subscriptions import create_subscription
from portal_app.settings import get_settings
from tests.analytics.reference import subscription_mrr

T0 = 1767225600  # 2026-01-01


def _sub(items, *, status="active", discount=None, legacy_discount=None, currency="usd",
         sub_id="sub_1", customer="cus_1", **extra) -> dict:
    obj = {
        "id": sub_id, "object": "subscription", "customer": customer, "status": status,
        "currency": currency,
        "items": {"object": "list", "data": [
            {"id": f"si_{i}", "quantity": quantity,
             "price": {"id": f"price_{i}", "product": f"prod_{i}", "currency": currency,
                       "unit_amount": amount,
                       "recurring": {"interval": interval, "interval_count": count,
                                     "usage_type": usage}}}
            for i, (amount, quantity, interval, count, usage) in enumerate(items)]},
        "discounts": [] if discount is None else [discount],
        "cancellation_details": {"reason": None, "feedback": None, "comment": None},
        **extra,
    }
    if legacy_discount is not None:
        obj["discount"] = legacy_discount
    return obj


def _raw(objects: list[dict], *, types=None, created=T0, origins=None) -> pl.LazyFrame:
    n = len(objects)
    return pl.LazyFrame({
        "seq": list(range(n)),
        "id": [f"evt_{i}" for i in range(n)],
        "type": types or ["customer.subscription.updated"] * n,
        "created": [datetime.fromtimestamp(created, tz=UTC)] * n,
        "account": ["acct_1"] * n,
        "data": [json.dumps(o) for o in objects],
        "origin": origins or [None] * n,
    }, schema_overrides={"created": pl.Datetime("us", "UTC"), "origin": pl.String})


def _mrr(obj: dict) -> int:
    return subscription_frame(_raw([obj])).collect()["mrr"][0]


def test_mrr_normalizes_intervals_and_counts_per_the_contract() -> None:
    assert _mrr(_sub([(4900, 1, "month", 1, "licensed")])) == 4900
    assert _mrr(_sub([(4900, 3, "month", 3, "licensed")])) == 4900
    assert _mrr(_sub([(10000, 1, "year", 1, "licensed")])) == 833  # 833.33
    assert _mrr(_sub([(1000, 1, "week", 1, "licensed")])) == 4333  # 4333.33
    assert _mrr(_sub([(100, 1, "day", 1, "licensed")])) == 3042  # 3041.67
    assert _mrr(_sub([(6, 1, "year", 1, "licensed")])) == 1  # 0.5 rounds half up
    two_items = [(2000, 2, "month", 1, "licensed"), (500, 1, "month", 1, "metered")]
    assert _mrr(_sub(two_items)) == 4000  # metered counts 0


def test_mrr_is_zero_in_statuses_without_revenue() -> None:
    for status in ("incomplete", "incomplete_expired", "canceled", "trialing", "paused"):
        assert _mrr(_sub([(4900, 1, "month", 1, "licensed")], status=status)) == 0
    assert _mrr(_sub([(4900, 1, "month", 1, "licensed")], status="past_due")) == 4900


def test_an_active_discount_reduces_mrr() -> None:
    item = [(4900, 1, "month", 1, "licensed")]
    percent = {"id": "di_1", "start": T0 - 10, "end": None,
               "source": {"type": "coupon", "coupon": {"percent_off": 25.0}}}
    assert _mrr(_sub(item, discount=percent)) == 3675
    expired = {**percent, "end": T0}
    assert _mrr(_sub(item, discount=expired)) == 4900
    future = {**percent, "start": T0 + 1}
    assert _mrr(_sub(item, discount=future)) == 4900
    amount = {"id": "di_2", "start": T0, "end": None,
              "source": {"coupon": {"amount_off": 12000, "currency": "usd"}}}
    assert _mrr(_sub([(60000, 1, "year", 1, "licensed")], discount=amount)) == 4000
    other_currency = {"id": "di_3", "start": T0,
                      "source": {"coupon": {"amount_off": 1000, "currency": "eur"}}}
    assert _mrr(_sub(item, discount=other_currency)) == 4900
    legacy = {"start": T0, "end": None, "coupon": {"percent_off": 50.0}}
    assert _mrr(_sub(item, legacy_discount=legacy)) == 2450
    # an unexpanded discount id carries no amounts: no reduction can be known
    assert _mrr(_sub(item, discount="di_4")) == 4900


items_strategy = st.lists(
    st.tuples(st.integers(0, 500_000), st.integers(1, 50), st.just(None), st.just(None),
              st.sampled_from(["licensed", "licensed", "metered"])),
    min_size=1, max_size=3)


@settings(max_examples=200, deadline=None)
@given(items_strategy, st.sampled_from([("month", 1), ("month", 3), ("month", 12), ("year", 1),
                                        ("week", 1), ("week", 2), ("week", 52), ("day", 1),
                                        ("day", 30), ("day", 365)]),
       st.one_of(st.none(), st.floats(0.01, 100).map(lambda v: round(v, 2)),
                 st.integers(1, 100_000)),
       st.sampled_from(["active", "past_due", "trialing", "canceled"]))
def test_mrr_matches_exact_fractions(items, interval, off, status) -> None:
    # one interval for all items, as Stripe requires
    items = [(a, q, interval[0], interval[1], u) for a, q, _, _, u in items]
    discount = None
    if isinstance(off, float):
        discount = {"start": T0, "source": {"coupon": {"percent_off": off}}}
    elif isinstance(off, int):
        discount = {"start": T0, "source": {"coupon": {"amount_off": off, "currency": "usd"}}}
    expected = subscription_mrr(items, status=status,
                                percent_off=off if isinstance(off, float) else None,
                                amount_off=off if isinstance(off, int) else None)
    assert _mrr(_sub(items, status=status, discount=discount)) == expected


def test_subscription_frame_columns_and_origin() -> None:
    created = _sub([(4900, 1, "month", 1, "licensed")])
    canceled = _sub([(4900, 1, "month", 1, "licensed")], status="canceled")
    canceled["cancellation_details"] = {"reason": "cancellation_requested",
                                        "feedback": "too_expensive", "comment": "Pricey"}
    origin = json.dumps({"portal_session": "bps_1", "configuration": "bpc_1",
                         "cancellation_flow": "cflow_1", "experiment": "exp_1",
                         "variant": "var_b"})
    frame = subscription_frame(_raw(
        [created, canceled, {"id": "in_1", "object": "invoice"}],
        types=["customer.subscription.created", "customer.subscription.deleted",
               "invoice.paid"],
        origins=[None, origin, None])).collect()
    assert frame.schema == pl.Schema(SUBSCRIPTION_SCHEMA)
    assert frame.select("mrr", "previous_mrr", "product", "previous_product").rows() == [
        (4900, 0, "prod_0", None), (0, 4900, "prod_0", "prod_0")]
    row = frame.row(1, named=True)
    assert (row["feedback"], row["comment"], row["cancel_reason"]) == (
        "too_expensive", "Pricey", "cancellation_requested")
    assert (row["cancellation_flow"], row["experiment"], row["variant"]) == (
        "cflow_1", "exp_1", "var_b")


def test_flow_frame() -> None:
    flow = {"id": "cflow_1", "object": "portico.cancellation_flow", "customer": "cus_1",
            "subscription": "sub_1", "configuration": "bpc_1", "portal_session": "bps_1",
            "reason": "unused", "comment": None, "offer": None, "experiment": "exp_1",
            "variant": "var_control", "holdout": False, "mrr": 4900, "currency": "usd",
            "status": "completed", "created": T0}
    frame = flow_frame(_raw([flow], types=["portico.cancellation_flow.completed"])).collect()
    assert frame.select("step", "flow", "reason", "offer", "variant", "mrr").row(0) == (
        "completed", "cflow_1", "unused", None, "var_control", 4900)


def test_stripe_jsonl_is_put_in_time_order(tmp_path: Path) -> None:
    # Stripe lists events newest first
    events = [{"id": f"evt_{i}", "type": "customer.subscription.updated", "created": T0 - i,
               "context": "bps_9" if i == 0 else None,
               "data": {"object": _sub([(100 * (i + 1), 1, "month", 1, "licensed")])}}
              for i in range(3)]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n\n")
    raw = scan_stripe_jsonl(path).collect()
    assert raw["id"].to_list() == ["evt_2", "evt_1", "evt_0"]
    assert raw["seq"].to_list() == [0, 1, 2]
    assert json.loads(raw["origin"][2]) == {"portal_session": "bps_9"}
    subs = subscription_frame(raw.lazy()).collect()
    assert subs.select("mrr", "previous_mrr").rows() == [(300, 0), (200, 300), (100, 200)]


def test_write_parquet_partitions_by_month(tmp_path: Path) -> None:
    frame = pl.LazyFrame({"created": [datetime(2026, 1, 5, tzinfo=UTC),
                                      datetime(2026, 2, 5, tzinfo=UTC)], "mrr": [1, 2]})
    write_parquet(frame, tmp_path / "subs")
    assert len(list((tmp_path / "subs").rglob("*.parquet"))) == 2
    back = pl.scan_parquet(str(tmp_path / "subs" / "**" / "*.parquet")).collect()
    assert sorted(back["mrr"].to_list()) == [1, 2]


def test_event_store_subscription_events_flatten(account_id, make_uow) -> None:
    customer = create_customer(account_id=account_id, uow=make_uow(),
                                        email="a@example.com")
    product = create_product(account_id=account_id, uow=make_uow(), name="Pro")
    price = create_price(account_id=account_id, uow=make_uow(), product=product.id,
                                  unit_amount=12000, currency="usd", interval="year")
    create_subscription(account_id=account_id, uow=make_uow(), customer=customer.id,
                                 items=[ItemSpec(price=price.id, quantity=2)],
                                 collection_method="send_invoice", days_until_due=30)
    raw = scan_events(get_settings().database_url, account_id=account_id)
    subs = subscription_frame(raw).collect()
    assert subs.select("customer", "mrr", "currency", "interval").rows() == [
        (customer.id, 2000, "usd", "year")]


def test_event_store_mrr_is_net_of_the_ledgers_coupon(account_id, make_uow) -> None:
    customer = create_customer(account_id=account_id, uow=make_uow(),
                                        email="b@example.com")
    price = create_price(account_id=account_id, uow=make_uow(), product_name="Pro",
                                  unit_amount=5000, currency="usd", interval="month")
    coupon = create_coupon(account_id=account_id, uow=make_uow(), percent_off=20,
                                    duration="forever")
    create_subscription(account_id=account_id, uow=make_uow(), customer=customer.id,
                                 items=[ItemSpec(price=price.id)], coupon=coupon.id,
                                 collection_method="send_invoice", days_until_due=30)
    raw = scan_events(get_settings().database_url, account_id=account_id)
    subs = subscription_frame(raw).collect()
    assert subs["mrr"].to_list() == [4000]
