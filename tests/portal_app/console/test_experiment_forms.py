"""The experiment dialog: variant drafts, the form in, the services' keywords out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from portal_app.console.experiment_forms import (
    VariantDraft,
    experiment_defaults,
    experiment_fields,
    new_variant,
    new_variant_name,
    variant_field,
    with_offer,
)
from portal_app.console.forms import FieldProblem
from portal_app.console.offer_views import NONE
from portal_app.console.wording import REASON_KEYS
from portal_app.retention.experiments import VariantSpec


def test_a_new_variant_shows_no_offer_for_every_reason() -> None:
    control = new_variant("v1", "Control")
    assert control.offers == dict.fromkeys(REASON_KEYS, NONE)
    assert control.control and not control.per_reason and control.weight == "1"
    offer = new_variant("v2", "Offer", {"default": "offer_1"}, weight=3)
    assert not offer.control and not offer.per_reason and offer.weight == "3"
    per_reason = new_variant("v3", "Per reason", {"unused": "offer_1"})
    assert per_reason.per_reason and not per_reason.control


def test_with_offer_keeps_the_control_flag_true_to_the_offers() -> None:
    draft = with_offer(new_variant("v1"), "default", "offer_1")
    assert draft.offers["default"] == "offer_1" and not draft.control
    back = with_offer(draft, "default", "")
    assert back.offers["default"] == NONE and back.control
    assert back.key == "v1"


def test_new_variant_names_count_on() -> None:
    assert [new_variant_name(n) for n in (0, 2)] == ["Variant A", "Variant C"]


def drafts() -> list[VariantDraft]:
    return [new_variant("v1", "Control"),
            new_variant("v2", "Offer", {"default": "offer_1", "unused": "offer_2"})]


FORM = {"name": " Half off vs nothing ", "holdout": "10", "tenure_min": "", "tenure_max": "90",
        "vname_v1": "Control", "vweight_v1": "1", "vname_v2": " Half off ", "vweight_v2": ""}


def test_experiment_fields() -> None:
    variants = drafts()
    variants[1] = replace(variants[1], per_reason=False)  # the per-reason offers are hidden
    fields, kept = experiment_fields(FORM, variants=variants, reasons=["unused"],
                                     products=["prod_cloud"])
    assert fields == {
        "name": "Half off vs nothing", "reasons": ["unused"], "segment_products": ["prod_cloud"],
        "tenure_min_days": None, "tenure_max_days": 90, "holdout_percent": 10.0,
        # The second draft hides its offers per reason: only its default offer counts.
        "variants": [VariantSpec(name="Control", weight=1, offers={}),
                     VariantSpec(name="Half off", weight=1, offers={"default": "offer_1"})]}
    assert [(v.key, v.name, v.weight) for v in kept] == [("v1", "Control", "1"),
                                                         ("v2", "Half off", "")]


def test_per_reason_offers_count_when_shown() -> None:
    variants = drafts()
    assert variants[1].per_reason  # a draft with an offer for a reason shows them
    fields, _ = experiment_fields(FORM, variants=variants, reasons=[], products=[])
    assert fields["variants"][1].offers == {"default": "offer_1", "unused": "offer_2"}


@pytest.mark.parametrize(("typed", "field", "message"), [
    ({"holdout": "ten"}, "holdout", "Enter a number."),
    ({"tenure_min": "a month"}, "tenure_min", "Enter a whole number."),
    ({"vweight_v2": "half"}, "vweight_v2", "Enter a whole number."),
])
def test_values_that_are_no_values(typed: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(FieldProblem) as refused:
        experiment_fields({**FORM, **typed}, variants=drafts(), reasons=[], products=[])
    assert (refused.value.field, refused.value.message) == (field, message)


@pytest.mark.parametrize(("param", "field"), [
    ("variants[1][weight]", "vweight_v2"), ("variants[0][offers][default]", "voffers_v1"),
    ("variants[1][name]", "vname_v2"), ("variants[1]", "vname_v2"),
    ("variants[2][weight]", ""),  # no such draft
    ("variants[x]", ""), ("variants", ""), ("name", ""), (None, ""),
])
def test_variant_field(param: str | None, field: str) -> None:
    assert variant_field(param, drafts()) == field


def test_experiment_defaults() -> None:
    rendered = {"name": "Week", "holdout_percent": 12.5,
                "segments": {"tenure_min_days": 30, "tenure_max_days": None}}
    assert experiment_defaults(rendered) == {"name": "Week", "holdout": "12.5",
                                             "tenure_min": "30", "tenure_max": ""}
