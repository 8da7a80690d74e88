"""Assignment: deterministic buckets, weights within binomial bounds, the same in
another process, and stored at first exposure."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter

from portal_app.retention import experiments
from portal_app.retention.assignment import arm_for, assign, bucket
from portal_app.retention.experiments import VariantSpec
from portal_app.retention.models import Assignment
from tests.portal_app.retention.conftest import Shop

N = 10_000
WEIGHTS = [("var_a", 1), ("var_b", 2), ("var_c", 1)]
CUSTOMERS = [f"cus_{i:06d}" for i in range(N)]


def arms(experiment_id: str, holdout: float) -> list[str | None]:
    return [arm_for(bucket(experiment_id, c), holdout_percent=holdout, variants=WEIGHTS)
            .variant_id for c in CUSTOMERS]


def test_buckets_are_uniform_and_deterministic() -> None:
    points = [bucket("exp_1", c) for c in CUSTOMERS]
    assert all(0 <= p < 1 for p in points)
    assert points == [bucket("exp_1", c) for c in CUSTOMERS]
    assert points != [bucket("exp_2", c) for c in CUSTOMERS]  # experiments split afresh
    deciles = Counter(int(p * 10) for p in points)
    for k in range(10):  # each decile holds 10% within 4 sigma
        assert abs(deciles[k] - N / 10) < 4 * math.sqrt(N * 0.1 * 0.9)


def test_weighted_split_with_holdout_lands_within_binomial_bounds() -> None:
    counts = Counter(arms("exp_split", holdout=10.0))
    expected = {None: 0.10, "var_a": 0.9 * 0.25, "var_b": 0.9 * 0.5, "var_c": 0.9 * 0.25}
    assert set(counts) == set(expected)
    for arm, p in expected.items():
        sigma = math.sqrt(N * p * (1 - p))
        assert abs(counts[arm] - N * p) < 4 * sigma, (arm, counts[arm], N * p)


def test_the_same_in_another_process() -> None:
    code = ("import json, sys\n"
            "from portal_app.retention.assignment import arm_for, bucket\n"
            f"w = {WEIGHTS!r}\n"
            f"print(json.dumps([arm_for(bucket('exp_split', f'cus_{{i:06d}}'), "
            f"holdout_percent=10.0, variants=w).variant_id for i in range({N})]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONHASHSEED": "123", "PATH": ""},
                         cwd=".").stdout
    assert json.loads(out) == arms("exp_split", holdout=10.0)


def test_no_holdout_and_single_variant() -> None:
    assert arm_for(0.0, holdout_percent=0, variants=[("v", 1)]).variant_id == "v"
    assert arm_for(0.999999, holdout_percent=0, variants=[("v", 1)]).variant_id == "v"
    assert arm_for(0.05, holdout_percent=10, variants=[("v", 1)]).holdout is True


def test_assignment_is_stored_at_first_exposure_and_sticks(shop: Shop) -> None:
    exp = experiments.create_experiment(
        account_id=shop.account_id, uow=shop.make_uow(), name="Split",
        configuration=shop.config.id,
        variants=[VariantSpec(name="control"), VariantSpec(name="other", weight=3)])
    customer = shop.customer()
    first = assign(exp, customer, uow=shop.make_uow())
    # Changing the weights afterwards (a draft here) never moves an exposed customer.
    experiments.update_experiment(exp.id, account_id=shop.account_id, uow=shop.make_uow(),
                                  variants=[VariantSpec(name="x", weight=1)])
    again = assign(exp, customer, uow=shop.make_uow())
    assert again.id == first.id and again.variant_id == first.variant_id
    assert again.bucket == bucket(exp.id, customer)
    with shop.make_uow() as uow:
        rows = uow.session.exec(
            Assignment.__table__.select().where(Assignment.experiment_id == exp.id)).all()
    assert len(rows) == 1
