"""``/v1/subscriptions``: create, retrieve, update (items, discounts, cancel at period end,
pause), cancel, resume and list subscriptions."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from portal_app.api.forms import (
    optional_str,
    refuse_unknown,
    required,
    to_bool,
    to_dict,
    to_int,
    to_list,
    to_metadata,
    to_str,
    to_timestamp,
)
from portal_app.api.pagination import PAGE_PARAMS, In, NotIn, paginate_request
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Array, Bool, Hash, Id, Int, Metadata, Quantity, Str, Timestamp
from portal_app.billing import cancellations, changes, pauses, subscriptions
from portal_app.billing.models import Customer, Subscription, SubscriptionStatus
from portal_app.billing.objects import render_subscription
from portal_app.billing.provider import ItemChange, ItemSpec
from portal_app.errors import InvalidRequest
from portal_app.stripe_shapes import CANCELLATION_FEEDBACK

endpoint = Registry()


def _items(value: Any) -> list[ItemSpec]:
    specs = []
    for i, item in enumerate(to_list(value, "items")):
        item = to_dict(item, f"items[{i}]")
        refuse_unknown(item, ("price", "quantity"), prefix=f"items[{i}]")
        price = to_str(required(item, "price", parent=f"items[{i}]"), f"items[{i}][price]")
        quantity = (to_int(item["quantity"], f"items[{i}][quantity]", minimum=0)
                    if item.get("quantity") not in (None, "") else 1)
        specs.append(ItemSpec(price=price, quantity=quantity))
    return specs


def discount_params(params: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(coupon, promotion_code)`` from ``coupon``/``promotion_code`` or ``discounts[0]``."""
    coupon = optional_str(params, "coupon") or None
    promotion = optional_str(params, "promotion_code") or None
    for i, discount in enumerate(to_list(params.get("discounts") or [], "discounts")):
        discount = to_dict(discount, f"discounts[{i}]")
        refuse_unknown(discount, ("coupon", "promotion_code"), prefix=f"discounts[{i}]")
        if i > 0 or coupon or promotion:
            raise InvalidRequest("Only one discount per subscription is supported.",
                                 param=f"discounts[{i}]")
        coupon = optional_str(discount, "coupon") or None
        promotion = optional_str(discount, "promotion_code") or None
    return coupon, promotion


_PAYMENT_BEHAVIOR = Str(enum=("allow_incomplete", "default_incomplete", "error_if_incomplete",
                              "pending_if_incomplete"))
PRORATION_BEHAVIOR = Str(enum=("always_invoice", "create_prorations", "none"))
MAX_ITEMS = 20  # Stripe's limit of items per subscription
ITEM_CHANGES = Array(Hash({"id": Id(), "price": Id(), "quantity": Quantity(), "deleted": Bool()}),
                     max_items=MAX_ITEMS)


@endpoint("POST", "/v1/subscriptions",
          params={"customer": Id(),
                  "items": Array(Hash({"price": Id(), "quantity": Quantity()},
                                      required=("price",)), max_items=MAX_ITEMS),
                  "default_payment_method": Id(),
                  "trial_period_days": Int(minimum=0, maximum=730),
                  "trial_end": Timestamp(now=True),
                  "collection_method": Str(enum=("charge_automatically", "send_invoice")),
                  "days_until_due": Int(minimum=0, maximum=365),
                  "coupon": Id(), "promotion_code": Id(),
                  "discounts": Array(Hash({"coupon": Id(), "promotion_code": Id()}),
                                     max_items=1),
                  "cancel_at_period_end": Bool(), "description": Str(max_length=500),
                  "metadata": Metadata(), "payment_behavior": _PAYMENT_BEHAVIOR,
                  "off_session": Bool()},
          required=("customer", "items"))
def create_subscription(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    behavior = p.get("payment_behavior", "error_if_incomplete")
    if behavior != "error_if_incomplete":
        # A declined first charge leaves nothing behind: Stripe's error_if_incomplete.
        raise InvalidRequest("Portico supports payment_behavior=error_if_incomplete only.",
                             param="payment_behavior")
    if "off_session" in p:
        to_bool(p["off_session"], "off_session")
    trial_end = None
    if p.get("trial_end") not in (None, "", "now"):
        trial_end = to_timestamp(p["trial_end"], "trial_end")
    coupon, promotion = discount_params(p)
    sub = subscriptions.create_subscription(
        account_id=req.account_id, uow=req.uow,
        customer=to_str(required(p, "customer"), "customer"),
        items=_items(required(p, "items")),
        default_payment_method=optional_str(p, "default_payment_method") or None,
        trial_period_days=(to_int(p["trial_period_days"], "trial_period_days", minimum=0)
                           if p.get("trial_period_days") not in (None, "") else None),
        trial_end=trial_end,
        collection_method=to_str(p.get("collection_method", "charge_automatically"),
                                 "collection_method"),
        days_until_due=(to_int(p["days_until_due"], "days_until_due", minimum=0)
                        if p.get("days_until_due") not in (None, "") else None),
        coupon=coupon, promotion_code=promotion,
        cancel_at_period_end=to_bool(p.get("cancel_at_period_end", False),
                                     "cancel_at_period_end"),
        description=optional_str(p, "description") or None,
        metadata=to_metadata(p.get("metadata", {})))
    return render_subscription(sub, req.uow.session)


@endpoint("GET", "/v1/subscriptions/{id}")
def retrieve_subscription(req: ApiRequest) -> dict[str, Any]:
    sub = req.uow.get(Subscription, req.id(), account_id=req.account_id, label="subscription")
    return render_subscription(sub, req.uow.session)


_CANCELLATION_DETAILS = Hash({"comment": Str(), "feedback": Str(enum=CANCELLATION_FEEDBACK)})


@endpoint("DELETE", "/v1/subscriptions/{id}",
          params={"cancellation_details": _CANCELLATION_DETAILS,
                  "prorate": Bool(), "invoice_now": Bool()})
def cancel_subscription(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    details = to_dict(p.get("cancellation_details", {}), "cancellation_details")
    refuse_unknown(details, ("comment", "feedback"), prefix="cancellation_details")
    sub = cancellations.cancel_subscription(
        req.id(), account_id=req.account_id, uow=req.uow,
        feedback=optional_str(details, "feedback") or None,
        comment=optional_str(details, "comment") or None,
        prorate=to_bool(p.get("prorate", False), "prorate"),
        invoice_now=to_bool(p.get("invoice_now", False), "invoice_now"))
    return render_subscription(sub, req.uow.session)


def item_changes(value: Any, param: str = "items") -> list[ItemChange]:
    """Stripe's ``items[]`` of a subscription update. Raises InvalidRequest."""
    out = []
    for i, item in enumerate(to_list(value, param)):
        name = f"{param}[{i}]"
        item = to_dict(item, name)
        refuse_unknown(item, ("id", "price", "quantity", "deleted"), prefix=name)
        out.append(ItemChange(
            id=optional_str(item, "id") or None, price=optional_str(item, "price") or None,
            quantity=(to_int(item["quantity"], f"{name}[quantity]", minimum=0)
                      if item.get("quantity") not in (None, "") else None),
            deleted=to_bool(item.get("deleted", False), f"{name}[deleted]")))
    return out


def proration(params: dict[str, Any], parent: str | None = None) -> tuple[str, Any]:
    """``(proration_behavior, proration_date)`` of an update (or its ``parent[...]``).

    Raises InvalidRequest.
    """
    def name(key: str) -> str:
        return f"{parent}[{key}]" if parent else key

    behavior = to_str(params.get("proration_behavior", "create_prorations"),
                      name("proration_behavior"))
    date = None
    if params.get("proration_date") not in (None, ""):
        date = to_timestamp(params["proration_date"], name("proration_date"))
    return behavior, date


@endpoint("POST", "/v1/subscriptions/{id}",
          params={"items": ITEM_CHANGES, "proration_behavior": PRORATION_BEHAVIOR, "proration_date": Timestamp(),
                  "cancel_at_period_end": Bool(), "cancel_at": Timestamp(),
                  "cancellation_details": _CANCELLATION_DETAILS, "trial_end": Timestamp(),
                  "pause_collection": Hash({"behavior": Str(enum=("keep_as_draft",
                                                                  "mark_uncollectible", "void")),
                                            "resumes_at": Timestamp()},
                                           required=("behavior",)),
                  "coupon": Id(),
                  "discounts": Array(Hash({"coupon": Id(), "promotion_code": Id()}),
                                     max_items=1),
                  "promotion_code": Id(), "default_payment_method": Id(),
                  "description": Str(max_length=500), "metadata": Metadata(),
                  "payment_behavior": _PAYMENT_BEHAVIOR, "off_session": Bool()})
def update_subscription(req: ApiRequest) -> dict[str, Any]:
    """Stripe's subscription update: each part given runs its service, in one transaction."""
    p = req.params
    behavior = p.get("payment_behavior", "error_if_incomplete")
    if behavior not in ("error_if_incomplete", "allow_incomplete"):
        raise InvalidRequest("Portico supports payment_behavior=error_if_incomplete only.",
                             param="payment_behavior")
    sub_id, account_id, uow = req.id(), req.account_id, req.uow
    sub = uow.get(Subscription, sub_id, account_id=account_id, label="subscription")
    if any(k in p for k in ("default_payment_method", "description", "metadata")):
        subscriptions.update_subscription(
            sub_id, account_id=account_id, uow=uow,
            default_payment_method=optional_str(p, "default_payment_method"),
            description=optional_str(p, "description"),
            metadata=to_metadata(p["metadata"]) if "metadata" in p else None)
    if "pause_collection" in p and p["pause_collection"] == "":
        pauses.resume_subscription(sub_id, account_id=account_id, uow=uow)
    items = item_changes(p["items"]) if p.get("items") not in (None, "") else []
    coupon, promotion = discount_params(p)
    if items or coupon or promotion:
        proration_behavior, proration_date = proration(p)
        changes.apply_change(sub_id, account_id=account_id, uow=uow, items=items,
                             proration_behavior=proration_behavior,
                             proration_date=proration_date, coupon=coupon,
                             promotion_code=promotion)
    if p.get("trial_end") not in (None, ""):
        # Free time on a live subscription (Stripe: trial_end with proration_behavior=none).
        subscriptions.extend_trial(sub_id, trial_end=to_timestamp(p["trial_end"], "trial_end"),
                                   account_id=account_id, uow=uow)
    if p.get("cancel_at") not in (None, ""):
        raise InvalidRequest("Portico cancels at the period end only (cancel_at_period_end).",
                             param="cancel_at")
    if "cancel_at_period_end" in p or p.get("cancel_at") == "":
        cancel = ("cancel_at_period_end" in p
                  and to_bool(p["cancel_at_period_end"], "cancel_at_period_end"))
        details = to_dict(p.get("cancellation_details") or {}, "cancellation_details")
        refuse_unknown(details, ("comment", "feedback"), prefix="cancellation_details")
        if cancel and not sub.cancel_at_period_end:
            cancellations.cancel_subscription(
                sub_id, account_id=account_id, uow=uow, at_period_end=True,
                feedback=optional_str(details, "feedback") or None,
                comment=optional_str(details, "comment") or None)
        elif not cancel and (sub.cancel_at_period_end or sub.cancel_at is not None):
            cancellations.reactivate_subscription(sub_id, account_id=account_id, uow=uow)
    elif p.get("cancellation_details") not in (None, ""):
        details = to_dict(p["cancellation_details"], "cancellation_details")
        refuse_unknown(details, ("comment", "feedback"), prefix="cancellation_details")
        cancellations.record_cancellation_details(
            sub_id, account_id=account_id, uow=uow,
            feedback=optional_str(details, "feedback") or None,
            comment=optional_str(details, "comment") or None)
    if "pause_collection" in p and p["pause_collection"] != "":
        pause = to_dict(p["pause_collection"], "pause_collection")
        refuse_unknown(pause, ("behavior", "resumes_at"), prefix="pause_collection")
        resumes_at = None
        if pause.get("resumes_at") not in (None, ""):
            resumes_at = to_timestamp(pause["resumes_at"], "pause_collection[resumes_at]")
        pauses.pause_subscription(
            sub_id, account_id=account_id, uow=uow,
            behavior=to_str(required(pause, "behavior", parent="pause_collection"),
                            "pause_collection[behavior]"),
            resumes_at=resumes_at)
    uow.session.refresh(sub)
    return render_subscription(sub, uow.session)


@endpoint("POST", "/v1/subscriptions/{id}/resume",
          params={"billing_cycle_anchor": Str(enum=("now", "unchanged")),
                  "proration_behavior": PRORATION_BEHAVIOR, "proration_date": Timestamp()})
def resume_subscription(req: ApiRequest) -> dict[str, Any]:
    anchor = req.params.get("billing_cycle_anchor", "unchanged")
    if anchor != "unchanged":
        raise InvalidRequest("Portico resumes with billing_cycle_anchor=unchanged only.",
                             param="billing_cycle_anchor")
    sub = pauses.resume_subscription(req.id(), account_id=req.account_id, uow=req.uow)
    return render_subscription(sub, req.uow.session)


@endpoint("GET", "/v1/subscriptions",
          params={**PAGE_PARAMS, "customer": Id(),
                  "status": Str(enum=(*(s.value for s in SubscriptionStatus), "ended", "all")),
                  "price": Id(), "test_clock": Id()})
def list_subscriptions(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    status = optional_str(p, "status")
    choices = [s.value for s in SubscriptionStatus]
    if status is None:
        status_filter: Any = NotIn([SubscriptionStatus.canceled.value])  # Stripe's default
    elif status == "all":
        status_filter = None
    elif status == "ended":
        status_filter = In([SubscriptionStatus.canceled.value,
                            SubscriptionStatus.incomplete_expired.value])
    elif status in choices:
        status_filter = status
    else:
        raise InvalidRequest(f"Invalid status: must be one of {', '.join(choices)}, ended, "
                             "or all", param="status")
    if "price" in p:
        raise InvalidRequest("Filtering subscriptions by price is not supported.",
                             param="price")
    customer_filter: Any = optional_str(p, "customer")
    if p.get("test_clock") not in (None, ""):
        # The subscriptions of the clock's customers (of one customer, if also given).
        on_clock = req.uow.session.exec(select(Customer.id).where(
            Customer.account_id == req.account_id,
            Customer.test_clock == to_str(p["test_clock"], "test_clock"))).all()
        customer_filter = In([c for c in on_clock if customer_filter in (None, c)])
    return paginate_request(
        req, Subscription, url="/v1/subscriptions", label="subscription",
        render=render_subscription,
        filters={"customer_id": customer_filter, "status": status_filter})
