"""``/v1/invoices``: retrieve and list invoices, preview the upcoming one, finalize a
draft, pay, void or write one off; ``/v1/invoiceitems``: list the pending items."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from portal_app.api.forms import optional_str, refuse_unknown, to_bool, to_dict
from portal_app.api.pagination import PAGE_PARAMS, PageRequest, paginate_list, paginate_request
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Array, Bool, Hash, Id, Str, Timestamp
from portal_app.api.subscriptions import (
    ITEM_CHANGES,
    PRORATION_BEHAVIOR,
    discount_params,
    item_changes,
    proration,
)
from portal_app.billing import changes, invoice_payments, subscriptions
from portal_app.billing.models import Invoice, InvoiceItem, InvoiceStatus
from portal_app.billing.objects import render_invoice, render_invoice_item
from portal_app.errors import InvalidRequest

endpoint = Registry()


@endpoint("GET", "/v1/invoices/{id}")
def retrieve_invoice(req: ApiRequest) -> dict[str, Any]:
    invoice = req.uow.get(Invoice, req.id(), account_id=req.account_id, label="invoice")
    return render_invoice(invoice, req.uow.session)


@endpoint("GET", "/v1/invoices",
          params={**PAGE_PARAMS, "customer": Id(), "subscription": Id(),
                  "status": Str(enum=tuple(InvoiceStatus.__members__)),
                  "collection_method": Str(enum=("charge_automatically", "send_invoice"))})
def list_invoices(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    status = optional_str(p, "status")
    if status is not None and status not in InvoiceStatus.__members__:
        raise InvalidRequest("Invalid status: must be one of draft, open, paid, "
                             "uncollectible, or void", param="status")
    return paginate_request(
        req, Invoice, url="/v1/invoices", label="invoice", render=render_invoice,
        filters={"customer_id": optional_str(p, "customer"),
                 "subscription_id": optional_str(p, "subscription"),
                 "status": status,
                 "collection_method": optional_str(p, "collection_method")})


@endpoint("POST", "/v1/invoices/create_preview",
          params={"customer": Id(), "subscription": Id(),
                  "subscription_details": Hash({"items": ITEM_CHANGES,
                                                "proration_date": Timestamp(),
                                                "proration_behavior": PRORATION_BEHAVIOR}),
                  "discounts": Array(Hash({"coupon": Id(), "promotion_code": Id()}),
                                     max_items=1),
                  "automatic_tax": Hash({"enabled": Bool()}), "currency": Str(max_length=3)})
def create_invoice_preview(req: ApiRequest) -> dict[str, Any]:
    """The upcoming invoice of a subscription, with the changes of subscription_details."""
    p = req.params
    details = to_dict(p.get("subscription_details") or {}, "subscription_details")
    refuse_unknown(details, ("items", "proration_date", "proration_behavior"),
                   prefix="subscription_details")
    customer = optional_str(p, "customer") or None
    subscription = optional_str(p, "subscription") or None
    if subscription is None:
        if customer is None:
            raise InvalidRequest("Missing required param: customer or subscription.",
                                 param="subscription", code="parameter_missing")
        live = subscriptions.list_subscriptions(account_id=req.account_id, uow=req.uow,
                                                customer_id=customer)
        if not live:
            raise InvalidRequest("No upcoming invoices for customer: " + customer,
                                 code="invoice_upcoming_none", param="customer")
        subscription = live[0].id
    behavior, date = proration(details, "subscription_details")
    items = (item_changes(details["items"], "subscription_details[items]")
             if details.get("items") not in (None, "") else [])
    coupon, promotion = discount_params(p)
    invoice, lines = changes.preview_invoice(
        subscription, account_id=req.account_id, uow=req.uow, items=items,
        proration_behavior=behavior, proration_date=date, customer_id=customer,
        coupon=coupon, promotion_code=promotion)
    return render_invoice(invoice, req.uow.session, lines=lines)


# --- paying, voiding, writing off (issue 11: past-due recovery) --------------------------


@endpoint("POST", "/v1/invoices/{id}/pay",
          params={"payment_method": Id(), "off_session": Bool(), "paid_out_of_band": Bool()})
def pay_invoice(req: ApiRequest) -> dict[str, Any]:
    """Collect the invoice now (Stripe's ``invoices.pay``); a decline is a 402."""
    p = req.params
    invoice = invoice_payments.pay_invoice(
        req.id(), account_id=req.account_id, uow=req.uow,
        payment_method=optional_str(p, "payment_method") or None,
        paid_out_of_band=to_bool(p["paid_out_of_band"], "paid_out_of_band")
        if "paid_out_of_band" in p else False,
        off_session=to_bool(p["off_session"], "off_session") if "off_session" in p else None)
    return render_invoice(invoice, req.uow.session)


@endpoint("POST", "/v1/invoices/{id}/finalize")
def finalize_invoice(req: ApiRequest) -> dict[str, Any]:
    invoice = invoice_payments.finalize_invoice(req.id(), account_id=req.account_id,
                                                uow=req.uow)
    return render_invoice(invoice, req.uow.session)


@endpoint("POST", "/v1/invoices/{id}/void")
def void_invoice(req: ApiRequest) -> dict[str, Any]:
    invoice = invoice_payments.void_invoice(req.id(), account_id=req.account_id, uow=req.uow)
    return render_invoice(invoice, req.uow.session)


@endpoint("POST", "/v1/invoices/{id}/mark_uncollectible")
def mark_uncollectible(req: ApiRequest) -> dict[str, Any]:
    invoice = invoice_payments.mark_uncollectible(req.id(), account_id=req.account_id,
                                                  uow=req.uow)
    return render_invoice(invoice, req.uow.session)


# --- pending invoice items (what a change prorated and the next invoice will bill) -------


@endpoint("GET", "/v1/invoiceitems",
          params={**PAGE_PARAMS, "customer": Id(), "invoice": Id(), "pending": Bool()})
def list_invoice_items(req: ApiRequest) -> dict[str, Any]:
    """Stripe's ``invoiceitems.list``: newest first; ``pending=true``: not invoiced yet."""
    p = req.params
    query = select(InvoiceItem).where(InvoiceItem.account_id == req.account_id)
    if customer := optional_str(p, "customer"):
        query = query.where(InvoiceItem.customer_id == customer)
    if invoice := optional_str(p, "invoice"):
        query = query.where(InvoiceItem.invoice_id == invoice)
    if "pending" in p:
        pending = col(InvoiceItem.invoice_id)
        query = query.where(pending.is_(None) if to_bool(p["pending"], "pending")
                            else pending.is_not(None))
    rows = req.uow.session.exec(query.order_by(col(InvoiceItem.created).desc(),
                                               col(InvoiceItem.position).desc(),
                                               col(InvoiceItem.id).desc())).all()
    return paginate_list([render_invoice_item(row) for row in rows],
                         page=PageRequest.from_params(p), url="/v1/invoiceitems",
                         label="invoiceitem")
