"""What the experiment pages show: the list's rows, one experiment's facts and read-out.

Pure functions from the retention services' rendered experiments and their
:mod:`read-outs <portal_app.retention.readout>` to rows the pages show as they
are. Every number of a read-out comes from the services (and ``analytics/``);
this module only words and formats it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portal_app import i18n
from portal_app.clock import from_unix
from portal_app.console.strings import CONSOLE_LOCALE, ct
from portal_app.console.wording import (
    REASON_KEYS,
    count,
    experiment_status_label,
    number,
    percent,
    reason_label,
)
from portal_app.retention.readout import ExperimentReadout, VariantReadout
from portal_app.routes import CONSOLE_EXPERIMENT

STATUS_TONES = {"draft": "gray", "running": "green", "stopped": "amber", "shipped": "indigo"}


def shown_status(status: str, shipped_variant: str | None) -> str:
    """The status the pages show: a stopped experiment with a shipped variant is shipped."""
    return "shipped" if shipped_variant else status


def experiment_href(experiment_id: str) -> str:
    """The page of one experiment."""
    return f"{CONSOLE_EXPERIMENT}?id={experiment_id}"


def _date(unix: int | None) -> str:
    return i18n.format_date(from_unix(unix), CONSOLE_LOCALE) if unix else "—"


def _when(unix: int | None) -> str:
    return i18n.format_datetime(from_unix(unix), CONSOLE_LOCALE) if unix else ""


def _points(value: float | None) -> str:
    return "—" if value is None else ct("{value} pts", value=f"{value * 100:+.1f}")


def _clamp(value: float) -> float:
    return max(0.0, min(100.0, value))


@dataclass
class ExperimentRow:
    """One experiment as the list shows it."""

    id: str
    name: str
    status: str  # draft | running | stopped | shipped
    status_label: str
    tone: str
    configuration: str
    variants: str
    started: str
    href: str


def experiment_row(rendered: Mapping[str, Any], configurations: Mapping[str, str]
                   ) -> ExperimentRow:
    """A rendered experiment as a row of the list (configurations: id -> label)."""
    status = shown_status(rendered["status"], rendered["shipped_variant"])
    return ExperimentRow(
        id=rendered["id"], name=rendered["name"], status=status,
        status_label=experiment_status_label(status), tone=STATUS_TONES[status],
        configuration=configurations.get(rendered["configuration"], rendered["configuration"]),
        variants=" · ".join(v["name"] for v in rendered["variants"]),
        started=_date(rendered["started_at"]), href=experiment_href(rendered["id"]))


@dataclass
class VariantReadoutRow:
    """One variant of the detail page: its offers and its read-out, ready to show."""

    id: str
    name: str
    weight: str
    offers: str
    is_control: bool
    no_offer: bool
    shipped: bool
    exposures: str
    saves: str
    rate: str
    interval: str
    has_rate: bool
    # The interval bar, in percent of its track (0..100).
    bar_left: str
    bar_width: str
    dot_left: str
    diff: str
    diff_interval: str
    diff_tone: str
    verdict: str


def _offers_label(offers: Mapping[str, str], offer_names: Mapping[str, str]) -> str:
    if not offers:
        return ct("No offer: the baseline.")
    ordered = sorted(offers.items(), key=lambda kv: REASON_KEYS.index(kv[0]))
    return "; ".join(f"{reason_label(reason)}: {offer_names.get(o, o)}" for reason, o in ordered)


def _diff_tone(numbers: VariantReadout | None) -> str:
    if numbers is None or numbers.diff is None or not numbers.significant:
        return "gray"
    return "green" if numbers.diff > 0 else "red"


def readout_row(variant: Mapping[str, Any], numbers: VariantReadout | None, *,
                total_weight: int, offer_names: Mapping[str, str],
                shipped: bool) -> VariantReadoutRow:
    """One rendered variant and its read-out (None: no exposures yet) as a detail row."""
    rate = numbers.rate if numbers else None
    low = numbers.rate_low if numbers else None
    high = numbers.rate_high if numbers else None
    has_interval = rate is not None and low is not None and high is not None
    is_control = bool(numbers and numbers.control)
    return VariantReadoutRow(
        id=variant["id"], name=variant["name"],
        weight=f"{variant['weight'] / total_weight:.0%}",
        offers=_offers_label(variant["offers"], offer_names), is_control=is_control,
        no_offer=not variant["offers"], shipped=shipped,
        exposures=count(numbers.exposures if numbers else 0),
        saves=count(numbers.saves if numbers else 0),
        rate=percent(rate), has_rate=has_interval,
        interval=f"{percent(low)} – {percent(high)}" if has_interval else "",
        bar_left=f"{_clamp((low or 0) * 100):.2f}%",
        bar_width=f"{_clamp(((high or 0) - (low or 0)) * 100):.2f}%",
        dot_left=f"{_clamp((rate or 0) * 100):.2f}%",
        diff="" if is_control else _points(numbers.diff if numbers else None),
        diff_interval=(ct("{low} to {high}", low=_points(numbers.diff_low),
                          high=_points(numbers.diff_high))
                       if numbers and numbers.diff_low is not None
                       and numbers.diff_high is not None else ""),
        diff_tone=_diff_tone(numbers),
        verdict=numbers.verdict if numbers else "",
    )


def targeting_lines(rendered: Mapping[str, Any], products: Mapping[str, str]) -> list[str]:
    """Who an experiment is for, one line per rule ("Every cancelling customer" when none)."""
    segments = rendered["segments"]
    lines = []
    if rendered["reasons"]:
        lines.append(", ".join(reason_label(x) for x in rendered["reasons"]))
    if segments["products"]:
        lines.append(", ".join(products.get(p, p) for p in segments["products"]))
    if segments["tenure_min_days"] is not None:
        lines.append(ct("Subscribed ≥ {days} days", days=segments["tenure_min_days"]))
    if segments["tenure_max_days"] is not None:
        lines.append(ct("Subscribed ≤ {days} days", days=segments["tenure_max_days"]))
    return lines or [ct("Every cancelling customer")]


@dataclass
class ExperimentView:
    """One experiment's page: its facts and its read-out, every value ready to show."""

    name: str
    status: str  # draft | running | stopped | shipped
    status_label: str
    tone: str
    configuration: str
    targeting: list[str]
    holdout: str
    started: str
    stopped: str
    variants: list[VariantReadoutRow]
    exposures: str
    has_exposures: bool
    srm_warning: str


def experiment_view(rendered: Mapping[str, Any], result: ExperimentReadout, *,
                    configurations: Mapping[str, str], offer_names: Mapping[str, str],
                    products: Mapping[str, str]) -> ExperimentView:
    """A rendered experiment and its read-out as its page shows them."""
    status = shown_status(rendered["status"], rendered["shipped_variant"])
    by_id = {v.variant_id: v for v in result.variants}
    total_weight = sum(v["weight"] for v in rendered["variants"]) or 1
    warning = ""
    if result.sample_ratio_mismatch and result.srm_p_value is not None:
        warning = ct("Exposures do not match the configured weights (p = {p}): assignment or "
                     "logging is broken, so no comparison can be trusted.",
                     p=f"{result.srm_p_value:.2g}")
    return ExperimentView(
        name=rendered["name"], status=status, status_label=experiment_status_label(status),
        tone=STATUS_TONES[status],
        configuration=configurations.get(rendered["configuration"], rendered["configuration"]),
        targeting=targeting_lines(rendered, products),
        holdout=f"{number(rendered['holdout_percent'])}%",
        started=_when(rendered["started_at"]), stopped=_when(rendered["stopped_at"]),
        variants=[readout_row(v, by_id.get(v["id"]), total_weight=total_weight,
                              offer_names=offer_names,
                              shipped=v["id"] == rendered["shipped_variant"])
                  for v in rendered["variants"]],
        exposures=count(result.exposures), has_exposures=result.exposures > 0,
        srm_warning=warning)


def confirm_title(action: str) -> str:
    """The title of the confirmation of start, stop or ship ("" for anything else)."""
    return {"start": ct("Start this experiment?"), "stop": ct("Stop this experiment?"),
            "ship": ct("Ship this variant?")}.get(action, "")


def confirm_text(action: str, variant_name: str = "") -> str:
    """What start, stop or ship (of ``variant_name``) will do, for the confirmation."""
    if action == "start":
        return ct("Cancelling customers of this configuration are assigned to its variants "
                  "from now on. Variants cannot be changed while it runs.")
    if action == "stop":
        return ct("Customers are no longer assigned; the configuration's policy answers "
                  "again. The read-out stays.")
    if action == "ship":
        return ct("“{variant}”: Its offers become the configuration's policy for every "
                  "customer, and the experiment stops.", variant=variant_name)
    return ""


def done_message(action: str) -> str:
    """The toast after start, stop or ship succeeded."""
    return {"start": ct("Experiment started."), "stop": ct("Experiment stopped."),
            "ship": ct("Variant shipped: its offers are now the policy.")}[action]
