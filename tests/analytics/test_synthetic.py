"""The synthetic merchant: deterministic, shaped like the contract, with recoverable effects."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from analytics import metrics
from analytics.experiments import experiment_readout
from analytics.ingest import FLOW_SCHEMA, SUBSCRIPTION_SCHEMA, flow_frame, scan_stripe_jsonl
from analytics.ingest import subscription_frame as flatten_subscriptions
from analytics.synthetic import (
    END,
    EXPERIMENT,
    EXPERIMENT_TRUE_RATES,
    EXPERIMENT_WEIGHTS,
    START,
    generate,
    to_stripe_events,
)


def test_deterministic_by_seed_and_sized_by_events() -> None:
    a, b = generate(n_events=20_000, seed=4), generate(n_events=20_000, seed=4)
    assert_frame_equal(a.subscriptions, b.subscriptions)
    assert_frame_equal(a.flows, b.flows)
    assert not generate(n_events=20_000, seed=5).subscriptions.equals(a.subscriptions)
    total = a.subscriptions.height + a.flows.height
    assert 17_000 < total < 23_000
    assert a.subscriptions.schema == pl.Schema(SUBSCRIPTION_SCHEMA)
    assert a.flows.schema == pl.Schema(FLOW_SCHEMA)
    created = a.subscriptions["created"]
    assert created.min() >= START and created.max() < END
    assert a.subscriptions["seq"].is_sorted() and created.is_sorted()


def test_the_merchant_looks_real() -> None:
    history = generate(n_events=200_000, seed=1)
    subs = history.subscriptions.lazy()
    mrr = metrics.mrr(subs).collect()
    usd = mrr.filter(pl.col("currency") == "usd")["mrr"]
    assert usd[-1] > 3 * usd[5] > 0  # growth
    assert set(mrr["currency"]) == {"usd", "eur"}
    assert history.subscriptions["product"].n_unique() == 3
    assert set(history.subscriptions["interval"]) == {"month", "year"}
    movements = metrics.mrr_movements(subs).collect()
    for name in metrics.MOVEMENTS:
        assert movements[name].abs().sum() > 0, name  # upgrades, downgrades, win-backs...
    reasons = metrics.cancellation_reasons(subs).collect()
    assert reasons.filter(pl.col("currency") == "usd")["reason"][0] == "too_expensive"
    assert metrics.cancellation_comments(subs).collect().height > 0


def test_the_experiment_recovers_its_true_rates() -> None:
    history = generate(n_events=1_000_000, seed=11)
    readout = experiment_readout(history.flows.lazy(), experiment=EXPERIMENT,
                                 weights=EXPERIMENT_WEIGHTS, control="var_control").collect()
    assert readout["srm_p_value"][0] > 0.001
    for row in readout.iter_rows(named=True):
        true = EXPERIMENT_TRUE_RATES[row["variant"]]
        # 99.9 % Wilson intervals would be wider; 95 % ones miss 1 in 20: allow a margin
        assert row["rate_low"] - 0.01 < true < row["rate_high"] + 0.01, row
    assert readout["significant"].to_list() == [False, True, True]


def test_stripe_events_flatten_back_to_the_frames(tmp_path: Path) -> None:
    history = generate(n_events=3_000, seed=3)
    events = to_stripe_events(history)
    assert [e["created"] for e in events] == sorted(e["created"] for e in events)
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events))
    raw = scan_stripe_jsonl(path)
    assert_frame_equal(flatten_subscriptions(raw).collect().drop("seq"),
                       history.subscriptions.drop("seq"))
    assert_frame_equal(flow_frame(raw).collect().drop("seq"), history.flows.drop("seq"))
