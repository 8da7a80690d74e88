"""What the experiment pages show: list rows, facts, read-out rows, confirmations."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from portal_app.console.experiment_views import (
    confirm_text,
    confirm_title,
    done_message,
    experiment_row,
    experiment_view,
    readout_row,
    shown_status,
    targeting_lines,
)
from portal_app.retention.readout import ExperimentReadout, VariantReadout

STARTED = 1767225600  # 2026-01-01 00:00 UTC


def experiment(**parts: Any) -> dict[str, Any]:
    """An experiment as ``retention.experiments.render_experiment`` shows it."""
    return {"id": "exp_1", "name": "Week", "configuration": "bpc_1", "holdout_percent": 10.0,
            "reasons": [], "status": "running", "shipped_variant": None,
            "started_at": STARTED, "stopped_at": None,
            "segments": {"prices": [], "products": [], "tenure_min_days": None,
                         "tenure_max_days": None},
            "variants": [{"id": "var_a", "name": "Control", "weight": 1, "offers": {}},
                         {"id": "var_b", "name": "Week", "weight": 3,
                          "offers": {"unused": "offer_2", "default": "offer_1"}}],
            **parts}


CONTROL = VariantReadout(variant_id="var_a", name="Control", control=True, no_offer=True,
                         weight=0.25, exposures=1200, saves=300, rate=0.25, rate_low=0.2,
                         rate_high=0.3, diff=None, diff_low=None, diff_high=None, p_value=None,
                         significant=False, verdict="Control: the baseline")
WEEK = VariantReadout(variant_id="var_b", name="Week", control=False, no_offer=False,
                      weight=0.75, exposures=3600, saves=1260, rate=0.35, rate_low=0.33,
                      rate_high=0.37, diff=0.1, diff_low=0.05, diff_high=0.15, p_value=0.001,
                      significant=True, verdict="Better than control")
NAMES = {"offer_1": "Free week", "offer_2": "Half off"}


def test_shown_status() -> None:
    assert shown_status("stopped", "var_b") == "shipped"
    assert shown_status("running", None) == "running"


def test_experiment_row() -> None:
    row = experiment_row(experiment(), {"bpc_1": "Default (default)"})
    assert (row.status, row.status_label, row.tone) == ("running", "Running", "green")
    assert (row.configuration, row.variants) == ("Default (default)", "Control · Week")
    assert (row.started, row.href) == ("Jan 1, 2026", "/console/experiments/view?id=exp_1")
    draft = experiment_row(experiment(status="draft", started_at=None), {})
    assert (draft.started, draft.configuration, draft.tone) == ("—", "bpc_1", "gray")


def test_readout_rows() -> None:
    control = readout_row(experiment()["variants"][0], CONTROL, total_weight=4,
                          offer_names=NAMES, shipped=False)
    assert (control.weight, control.offers, control.is_control, control.no_offer) == \
        ("25%", "No offer: the baseline.", True, True)
    assert (control.exposures, control.saves, control.rate) == ("1,200", "300", "25.0%")
    assert control.interval == "20.0% – 30.0%" and control.diff == ""
    assert (control.bar_left, control.bar_width, control.dot_left) == ("20.00%", "10.00%",
                                                                       "25.00%")
    week = readout_row(experiment()["variants"][1], WEEK, total_weight=4, offer_names=NAMES,
                       shipped=True)
    assert week.offers == "Any reason: Free week; Unused: Half off"  # reasons in Stripe's order
    assert (week.diff, week.diff_interval, week.diff_tone) == ("+10.0 pts",
                                                              "+5.0 pts to +15.0 pts", "green")
    worse = readout_row(experiment()["variants"][1],
                        replace(WEEK, diff=-0.1, diff_low=-0.15, diff_high=-0.05),
                        total_weight=4, offer_names=NAMES, shipped=False)
    assert (worse.diff, worse.diff_tone) == ("-10.0 pts", "red")
    unsure = readout_row(experiment()["variants"][1], replace(WEEK, significant=False),
                         total_weight=4, offer_names=NAMES, shipped=False)
    assert unsure.diff_tone == "gray"


def test_a_variant_without_exposures_yet() -> None:
    row = readout_row(experiment()["variants"][1], None, total_weight=4, offer_names={},
                      shipped=False)
    assert (row.exposures, row.saves, row.rate, row.interval) == ("0", "0", "—", "")
    assert (row.has_rate, row.diff, row.diff_interval, row.verdict) == (False, "—", "", "")
    assert row.offers == "Any reason: offer_1; Unused: offer_2"


def test_targeting_lines() -> None:
    everyone = experiment()
    assert targeting_lines(everyone, {}) == ["Every cancelling customer"]
    narrow = experiment(reasons=["too_expensive", "unused"],
                        segments={"prices": [], "products": ["prod_cloud", "prod_x"],
                                  "tenure_min_days": 30, "tenure_max_days": 365})
    assert targeting_lines(narrow, {"prod_cloud": "Cloud"}) == [
        "Too expensive, Unused", "Cloud, prod_x", "Subscribed ≥ 30 days",
        "Subscribed ≤ 365 days"]


def test_experiment_view() -> None:
    result = ExperimentReadout(experiment_id="exp_1", variants=[CONTROL, WEEK],
                               srm_p_value=0.5, confidence=0.95)
    view = experiment_view(experiment(), result, configurations={"bpc_1": "EU"},
                           offer_names=NAMES, products={})
    assert (view.status_label, view.configuration, view.holdout) == ("Running", "EU", "10%")
    assert view.started == "Jan 1, 2026, 12:00:00\u202fAM" and view.stopped == ""
    assert [v.name for v in view.variants] == ["Control", "Week"]
    assert (view.exposures, view.has_exposures, view.srm_warning) == ("4,800", True, "")
    mismatch = replace(result, srm_p_value=0.0001)
    warning = experiment_view(experiment(), mismatch, configurations={}, offer_names=NAMES,
                              products={}).srm_warning
    assert warning.startswith("Exposures do not match the configured weights (p = 0.0001)")


@pytest.mark.parametrize(("action", "title"), [
    ("start", "Start this experiment?"), ("stop", "Stop this experiment?"),
    ("ship", "Ship this variant?"), ("", ""), ("delete", "")])
def test_confirmations(action: str, title: str) -> None:
    assert confirm_title(action) == title
    assert bool(confirm_text(action, "Week")) == bool(title)


def test_ship_confirmation_names_the_variant() -> None:
    assert confirm_text("ship", "Week").startswith("“Week”: Its offers become")
    assert done_message("ship") == "Variant shipped: its offers are now the policy."
