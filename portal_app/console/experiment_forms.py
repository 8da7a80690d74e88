"""The experiment dialog: variants being drafted, the form in, the services' keywords out.

Each variant in the dialog is a :class:`VariantDraft` whose ``key`` names its
inputs (``vname_<key>``, ``vweight_<key>``), so that the inputs of different
variants stay apart however variants are added and removed. A service error
about ``variants[i][...]`` is pointed back at the inputs of the i-th draft.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from portal_app.console.forms import blank, decimal_number, text, whole_number
from portal_app.console.offer_views import NONE
from portal_app.console.strings import ct
from portal_app.console.wording import REASON_KEYS, number
from portal_app.retention.experiments import VariantSpec
from portal_app.retention.models import DEFAULT_REASON


@dataclass
class VariantDraft:
    """A variant in the experiment form; ``key`` keeps its inputs apart."""

    key: str
    name: str = ""
    weight: str = "1"
    offers: dict[str, str] = field(default_factory=dict)  # every REASON_KEY -> id or NONE
    per_reason: bool = False
    control: bool = True  # shows no offer at all


def new_variant(key: str, name: str = "", offers: Mapping[str, str] | None = None,
                weight: int = 1) -> VariantDraft:
    """A draft showing ``offers`` (reason -> offer id; absent reasons show none)."""
    mapping = {r: (offers or {}).get(r, NONE) for r in REASON_KEYS}
    return VariantDraft(key=key, name=name, weight=str(weight), offers=mapping,
                        per_reason=any(mapping[r] != NONE for r in REASON_KEYS[1:]),
                        control=all(v == NONE for v in mapping.values()))


def with_offer(draft: VariantDraft, reason: str, offer_id: str) -> VariantDraft:
    """The draft showing ``offer_id`` (or no offer: ``none`` or "") for ``reason``."""
    mapping = {**draft.offers, reason: offer_id or NONE}
    return replace(draft, offers=mapping, control=all(x == NONE for x in mapping.values()))


def new_variant_name(count: int) -> str:
    """The name a variant added after ``count`` others starts with: "Variant C" after two."""
    return ct("Variant {letter}", letter=chr(ord("A") + count))


def _specs(form: Mapping[str, Any], variants: Sequence[VariantDraft]
           ) -> tuple[list[VariantSpec], list[VariantDraft]]:
    specs, kept = [], []
    for v in variants:
        name = text(form, f"vname_{v.key}")
        weight = whole_number(form, f"vweight_{v.key}")
        # What was typed stays when the dialog re-renders after an error.
        kept.append(replace(v, name=name, weight=blank(weight)))
        offers = {r: o for r, o in v.offers.items()
                  if o != NONE and (v.per_reason or r == DEFAULT_REASON)}
        specs.append(VariantSpec(name=name, weight=weight if weight is not None else 1,
                                 offers=offers))
    return specs, kept


def experiment_fields(form: Mapping[str, Any], *, variants: Sequence[VariantDraft],
                      reasons: Sequence[str], products: Sequence[str]
                      ) -> tuple[dict[str, Any], list[VariantDraft]]:
    """The experiment services' keywords (all but ``configuration``) from the dialog,
    and the variant drafts with what was typed into them.

    Raises FieldProblem for a value that is no value (letters in a number).
    """
    holdout = decimal_number(form, "holdout")
    tenure_min = whole_number(form, "tenure_min")
    tenure_max = whole_number(form, "tenure_max")
    specs, kept = _specs(form, variants)
    return {"name": text(form, "name"), "reasons": list(reasons),
            "segment_products": list(products),
            "tenure_min_days": tenure_min, "tenure_max_days": tenure_max,
            "holdout_percent": float(holdout) if holdout is not None else 0.0,
            "variants": specs}, kept


def variant_field(param: str | None, variants: Sequence[VariantDraft]) -> str:
    """The input an error about ``variants[i][...]`` points at ("" for other params).

    ``variants[1][weight]`` is the second draft's weight input, ``variants[1][offers]...``
    its offers, anything else about it its name.
    """
    param = param or ""
    if not param.startswith("variants["):
        return ""
    index_text, _, rest = param[len("variants["):].partition("]")
    if not index_text.isdigit() or int(index_text) >= len(variants):
        return ""
    key = variants[int(index_text)].key
    part = "vweight" if rest.startswith("[weight]") else \
        "voffers" if rest.startswith("[offers]") else "vname"
    return f"{part}_{key}"


def experiment_defaults(rendered: Mapping[str, Any]) -> dict[str, str]:
    """A rendered experiment's typed inputs' initial values."""
    segments = rendered["segments"]
    return {"name": rendered["name"], "holdout": number(rendered["holdout_percent"]),
            "tenure_min": blank(segments["tenure_min_days"]),
            "tenure_max": blank(segments["tenure_max_days"])}
