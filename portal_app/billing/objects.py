"""Stripe-shaped JSON for every row of the ledger.

The same dicts are the API's responses, the event store's snapshots and what
the billing contract (:mod:`portal_app.billing.provider`) hands the portal.
Field lists come from the pinned ``stripe`` SDK (:func:`portal_app.stripe_shapes.complete`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import stripe
from sqlmodel import Session, col, select

from portal_app.accounts.models import Account
from portal_app.billing.models import (
    Coupon,
    Customer,
    Discount,
    Invoice,
    InvoiceItem,
    InvoiceLine,
    Meter,
    MeterEvent,
    Price,
    Product,
    PromotionCode,
    Subscription,
    SubscriptionItem,
    SubscriptionSchedule,
)
from portal_app.billing.payment_objects import render_payment_method as render_payment_method
from portal_app.billing.tax_ids import tax_ids_at
from portal_app.clock import to_unix
from portal_app.invoice_documents.links import hosted_invoice_url, invoice_pdf_url
from portal_app.stripe_shapes import complete, list_object


def render_customer(customer: Customer) -> dict[str, Any]:
    """Stripe's ``customer`` object."""
    return complete(
        stripe.Customer,
        {
            "id": customer.id,
            "address": customer.address,
            "balance": customer.balance,
            "created": to_unix(customer.created),
            "currency": customer.currency,
            "delinquent": False,
            "description": customer.description,
            "email": customer.email,
            "invoice_prefix": customer.invoice_prefix,
            "invoice_settings": complete(
                stripe.Customer.InvoiceSettings,
                {"default_payment_method": customer.default_payment_method},
            ),
            "metadata": dict(customer.metadata_),
            "name": customer.name,
            "next_invoice_sequence": customer.next_invoice_sequence,
            "phone": customer.phone,
            "preferred_locales": list(customer.preferred_locales),
            "shipping": customer.shipping,
            "tax_exempt": customer.tax_exempt,
            "test_clock": customer.test_clock,
        },
    )


def render_product(product: Product) -> dict[str, Any]:
    """Stripe's ``product`` object."""
    return complete(
        stripe.Product,
        {
            "id": product.id,
            "active": product.active,
            "created": to_unix(product.created),
            "default_price": product.default_price,
            "description": product.description,
            "images": [],
            "marketing_features": [],
            "metadata": dict(product.metadata_),
            "name": product.name,
            "type": "service",
            "unit_label": product.unit_label,
            "updated": to_unix(product.updated),
        },
    )


def render_price(price: Price) -> dict[str, Any]:
    """Stripe's ``price`` object (``recurring`` for a recurring price)."""
    recurring = None
    if price.interval is not None:
        recurring = complete(
            stripe.Price.Recurring,
            {
                "interval": str(price.interval),
                "interval_count": price.interval_count,
                "meter": price.meter_id,
                "usage_type": price.usage_type,
            },
        )
    return complete(
        stripe.Price,
        {
            "id": price.id,
            "active": price.active,
            "billing_scheme": "per_unit",
            "created": to_unix(price.created),
            "currency": price.currency,
            "lookup_key": price.lookup_key,
            "metadata": dict(price.metadata_),
            "nickname": price.nickname,
            "product": price.product_id,
            "recurring": recurring,
            "tax_behavior": "unspecified",
            "type": "recurring" if recurring else "one_time",
            "unit_amount": price.unit_amount,
            "unit_amount_decimal": str(price.unit_amount),
        },
    )


def render_meter(meter: Meter) -> dict[str, Any]:
    """Stripe's ``billing.meter`` object."""
    cls = stripe.billing.Meter
    return complete(
        cls,
        {
            "id": meter.id,
            "created": to_unix(meter.created),
            "customer_mapping": complete(cls.CustomerMapping, {
                "event_payload_key": meter.customer_payload_key, "type": "by_id"}),
            "default_aggregation": complete(cls.DefaultAggregation,
                                            {"formula": meter.formula}),
            "display_name": meter.display_name,
            "event_name": meter.event_name,
            "event_time_window": meter.event_time_window,
            "status": str(meter.status),
            "status_transitions": complete(cls.StatusTransitions,
                                           {"deactivated_at": to_unix(meter.deactivated_at)}),
            "updated": to_unix(meter.updated),
            "value_settings": complete(cls.ValueSettings,
                                       {"event_payload_key": meter.value_payload_key}),
        },
    )


def render_meter_event(event: MeterEvent) -> dict[str, Any]:
    """Stripe's ``billing.meter_event`` object."""
    return complete(
        stripe.billing.MeterEvent,
        {
            "created": to_unix(event.created),
            "event_name": event.event_name,
            "identifier": event.identifier,
            "payload": dict(event.payload),
            "timestamp": to_unix(event.timestamp),
        },
    )


def render_meter_event_summary(*, id: str, meter: str, start: datetime, end: datetime,
                               value: int) -> dict[str, Any]:
    """Stripe's ``billing.meter_event_summary``: a meter's usage over a window."""
    return complete(
        stripe.billing.MeterEventSummary,
        {
            "id": id,
            "aggregated_value": float(value),
            "end_time": to_unix(end),
            "meter": meter,
            "start_time": to_unix(start),
        },
    )


def render_coupon(coupon: Coupon) -> dict[str, Any]:
    """Stripe's ``coupon`` object."""
    return complete(
        stripe.Coupon,
        {
            "id": coupon.id,
            "amount_off": coupon.amount_off,
            "created": to_unix(coupon.created),
            "currency": coupon.currency,
            "duration": str(coupon.duration),
            "duration_in_months": coupon.duration_in_months,
            "max_redemptions": coupon.max_redemptions,
            "metadata": dict(coupon.metadata_),
            "name": coupon.name,
            "percent_off": coupon.percent_off,
            "redeem_by": to_unix(coupon.redeem_by),
            "times_redeemed": coupon.times_redeemed,
            "valid": coupon.valid,
        },
    )


def render_discount(discount: Discount, coupon: Coupon) -> dict[str, Any]:
    """Stripe's ``discount`` object: ``coupon`` applied (here to a subscription)."""
    values = {
        "id": discount.id,
        "customer": discount.customer_id,
        "end": to_unix(discount.end),
        "source": {"coupon": render_coupon(coupon), "type": "coupon"},
        "start": to_unix(discount.start),
        "subscription": discount.subscription_id,
    }
    return complete(stripe.Discount, values)


def render_subscription_item(item: SubscriptionItem, price: Price, sub: Subscription) -> dict:
    """Stripe's ``subscription_item`` object, its price expanded."""
    return complete(
        stripe.SubscriptionItem,
        {
            "id": item.id,
            "created": to_unix(item.created),
            "current_period_end": to_unix(sub.current_period_end),
            "current_period_start": to_unix(sub.current_period_start),
            "discounts": [],
            "metadata": dict(item.metadata_),
            "price": render_price(price),
            "quantity": item.quantity,
            "subscription": sub.id,
            "tax_rates": [],
        },
    )


def render_subscription(sub: Subscription, session: Session) -> dict[str, Any]:
    """Stripe's ``subscription`` object: items expanded, discounts and schedule as ids."""
    rows = session.exec(
        select(SubscriptionItem, Price)
        .join(Price, col(Price.id) == SubscriptionItem.price_id)
        .where(SubscriptionItem.subscription_id == sub.id)
        .order_by(col(SubscriptionItem.position), col(SubscriptionItem.id))
    ).all()
    items = [render_subscription_item(item, price, sub) for item, price in rows]
    discounts = session.exec(
        select(Discount.id).where(Discount.subscription_id == sub.id)
    ).all()
    schedule = session.exec(
        select(SubscriptionSchedule.id).where(
            SubscriptionSchedule.subscription_id == sub.id,
            col(SubscriptionSchedule.status).in_(["not_started", "active"]))
    ).first()
    url = f"/v1/subscription_items?subscription={sub.id}"
    return complete(
        stripe.Subscription,
        {
            "id": sub.id,
            "automatic_tax": complete(
                stripe.Subscription.AutomaticTax, {"enabled": False}
            ),
            "billing_cycle_anchor": to_unix(sub.billing_cycle_anchor),
            "billing_mode": complete(stripe.Subscription.BillingMode, {"type": "classic"}),
            "cancel_at": to_unix(sub.cancel_at),
            "cancel_at_period_end": sub.cancel_at_period_end,
            "canceled_at": to_unix(sub.canceled_at),
            "cancellation_details": complete(
                stripe.Subscription.CancellationDetails, dict(sub.cancellation_details)
            ),
            "collection_method": sub.collection_method,
            "created": to_unix(sub.created),
            "currency": sub.currency,
            "customer": sub.customer_id,
            "days_until_due": sub.days_until_due,
            "default_payment_method": sub.default_payment_method,
            "default_tax_rates": [],
            "description": sub.description,
            "discounts": list(discounts),
            "ended_at": to_unix(sub.ended_at),
            "invoice_settings": complete(
                stripe.Subscription.InvoiceSettings, {"account_tax_ids": None}
            ),
            "items": list_object(items, url=url),
            "latest_invoice": sub.latest_invoice,
            "metadata": dict(sub.metadata_),
            "schedule": schedule,
            "pause_collection": (
                complete(stripe.Subscription.PauseCollection, dict(sub.pause_collection))
                if sub.pause_collection
                else None
            ),
            "payment_settings": complete(
                stripe.Subscription.PaymentSettings,
                {"save_default_payment_method": "off"},
            ),
            "start_date": to_unix(sub.start_date),
            "status": str(sub.status),
            "trial_end": to_unix(sub.trial_end),
            "trial_settings": complete(
                stripe.Subscription.TrialSettings,
                {"end_behavior": complete(stripe.Subscription.TrialSettings.EndBehavior,
                                          {"missing_payment_method": "create_invoice"})},
            ),
            "trial_start": to_unix(sub.trial_start),
        },
    )


def render_invoice_line(line: InvoiceLine, invoice: Invoice) -> dict[str, Any]:
    """Stripe's ``line_item`` of ``invoice``."""
    parent = None
    if invoice.subscription_id is not None:
        parent = complete(
            stripe.InvoiceLineItem.Parent,
            {
                "type": "subscription_item_details",
                "subscription_item_details": {
                    "invoice_item": None,
                    "proration": line.proration,
                    "proration_details": {"credited_items": None},
                    "subscription": invoice.subscription_id,
                    "subscription_item": line.subscription_item_id,
                },
            },
        )
    return complete(
        stripe.InvoiceLineItem,
        {
            "id": line.id,
            "amount": line.amount,
            "currency": line.currency,
            "description": line.description,
            "discount_amounts": (
                [{"amount": line.discount_amount, "discount": None}]
                if line.discount_amount
                else []
            ),
            "discountable": True,
            "discounts": [],
            "invoice": invoice.id,
            "metadata": {},
            "parent": parent,
            "period": {"end": to_unix(line.period_end), "start": to_unix(line.period_start)},
            "pretax_credit_amounts": [],
            "pricing": complete(
                stripe.InvoiceLineItem.Pricing,
                {
                    "type": "price_details",
                    "price_details": {"price": line.price_id, "product": None},
                    "unit_amount_decimal": (
                        str(line.amount // line.quantity) if line.quantity else None
                    ),
                },
            ),
            "quantity": line.quantity,
            "subscription": invoice.subscription_id,
            "subtotal": line.amount,
            "taxes": [],
        },
    )


def render_invoice(invoice: Invoice, session: Session,
                   lines: Sequence[InvoiceLine] | None = None) -> dict[str, Any]:
    """Stripe's ``invoice`` object; ``lines`` given: a preview's (not stored) lines."""
    if lines is None:
        lines = session.exec(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(col(InvoiceLine.position))
        ).all()
    customer = session.get(Customer, invoice.customer_id)
    finalized = invoice.status != "draft"
    # Only a finalized invoice has its links (Stripe: a draft's are null).
    account = session.get(Account, invoice.account_id) if finalized else None
    link_secret = account.fingerprint_key if account else None
    return complete(
        stripe.Invoice,
        {
            "id": invoice.id,
            "account_country": None,
            "account_name": None,
            "account_tax_ids": None,
            "amount_due": invoice.amount_due,
            "amount_overpaid": 0,
            "amount_paid": invoice.amount_paid,
            "amount_remaining": invoice.amount_remaining,
            "amount_shipping": 0,
            "attempt_count": invoice.attempt_count,
            "attempted": invoice.attempt_count > 0,
            "auto_advance": invoice.status in ("draft", "open"),
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None,
                              "provider": None, "status": None},
            "billing_reason": invoice.billing_reason,
            "collection_method": invoice.collection_method,
            "created": to_unix(invoice.created),
            "currency": invoice.currency,
            "customer": invoice.customer_id,
            "customer_address": customer.address if customer else None,
            "customer_email": customer.email if customer else None,
            "customer_name": customer.name if customer else None,
            "customer_phone": customer.phone if customer else None,
            "customer_shipping": customer.shipping if customer else None,
            "customer_tax_exempt": customer.tax_exempt if customer else None,
            # A draft shows the customer's tax IDs; finalizing snapshots them (as Stripe).
            "customer_tax_ids": tax_ids_at(session, invoice.customer_id, invoice.finalized_at),
            "default_tax_rates": [],
            "discounts": [],
            "due_date": to_unix(invoice.due_date),
            "effective_at": to_unix(invoice.finalized_at),
            "ending_balance": 0 if finalized else None,
            "hosted_invoice_url": (hosted_invoice_url(invoice.account_id, link_secret, invoice.id)
                                   if link_secret else None),
            "invoice_pdf": (invoice_pdf_url(invoice.account_id, link_secret, invoice.id)
                            if link_secret else None),
            "issuer": complete(stripe.Invoice.Issuer, {"type": "self"}),
            "lines": list_object(
                [render_invoice_line(line, invoice) for line in lines],
                url=f"/v1/invoices/{invoice.id}/lines",
            ),
            "metadata": dict(invoice.metadata_),
            "next_payment_attempt": to_unix(invoice.next_payment_attempt),
            "number": invoice.number,
            "parent": (
                {
                    "type": "subscription_details",
                    "quote_details": None,
                    "subscription_details": complete(
                        stripe.Invoice.Parent.SubscriptionDetails,
                        {"metadata": {}, "subscription": invoice.subscription_id},
                    ),
                }
                if invoice.subscription_id
                else None
            ),
            "payment_settings": {"default_mandate": None, "payment_method_options": None,
                                 "payment_method_types": None},
            "period_end": to_unix(invoice.period_end),
            "period_start": to_unix(invoice.period_start),
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "starting_balance": invoice.starting_balance,
            "status": str(invoice.status),
            "status_transitions": complete(
                stripe.Invoice.StatusTransitions,
                {
                    "finalized_at": to_unix(invoice.finalized_at),
                    "marked_uncollectible_at": to_unix(invoice.marked_uncollectible_at),
                    "paid_at": to_unix(invoice.paid_at),
                    "voided_at": to_unix(invoice.voided_at),
                },
            ),
            "subtotal": invoice.subtotal,
            "subtotal_excluding_tax": invoice.subtotal,
            "test_clock": customer.test_clock if customer else None,
            "total": invoice.total,
            "total_discount_amounts": (
                [{"amount": invoice.total_discount, "discount": None}]
                if invoice.total_discount
                else []
            ),
            "total_excluding_tax": invoice.total,
            "total_pretax_credit_amounts": [],
            "total_taxes": [],
        },
    )


def render_invoice_item(item: InvoiceItem) -> dict[str, Any]:
    """Stripe's ``invoiceitem`` object (a pending item, e.g. a proration)."""
    return complete(
        stripe.InvoiceItem,
        {
            "id": item.id,
            "amount": item.amount,
            "currency": item.currency,
            "customer": item.customer_id,
            "date": to_unix(item.created),
            "description": item.description,
            "discountable": True,
            "discounts": [],
            "invoice": item.invoice_id,
            "metadata": {},
            "net_amount": item.amount - item.discount_amount,
            "parent": (
                {"type": "subscription_details",
                 "subscription_details": {"subscription": item.subscription_id,
                                          "subscription_item": item.subscription_item_id}}
                if item.subscription_id else None
            ),
            "period": {"end": to_unix(item.period_end), "start": to_unix(item.period_start)},
            "pricing": {"type": "price_details",
                        "price_details": {"price": item.price_id, "product": None},
                        "unit_amount_decimal": None},
            "proration": item.proration,
            "proration_details": {"discount_amounts": (
                [{"amount": item.discount_amount, "discount": None}]
                if item.discount_amount else [])},
            "quantity": item.quantity,
            "quantity_decimal": str(item.quantity),
            "tax_rates": [],
        },
    )


def render_promotion_code(promo: PromotionCode, coupon: Coupon) -> dict[str, Any]:
    """Stripe's ``promotion_code`` object, its coupon expanded."""
    return complete(
        stripe.PromotionCode,
        {
            "id": promo.id,
            "active": promo.active,
            "code": promo.code,
            "created": to_unix(promo.created),
            "customer": promo.customer_id,
            "expires_at": to_unix(promo.expires_at),
            "max_redemptions": promo.max_redemptions,
            "metadata": dict(promo.metadata_),
            "promotion": complete(stripe.PromotionCode.Promotion,
                                  {"type": "coupon", "coupon": render_coupon(coupon)}),
            "restrictions": complete(
                stripe.PromotionCode.Restrictions,
                {"currency_options": {},
                 "first_time_transaction": promo.first_time_transaction,
                 "minimum_amount": promo.minimum_amount,
                 "minimum_amount_currency": promo.minimum_amount_currency},
            ),
            "times_redeemed": promo.times_redeemed,
        },
    )


def render_subscription_schedule(schedule: SubscriptionSchedule, session: Session
                                 ) -> dict[str, Any]:
    """Stripe's ``subscription_schedule`` object."""
    phase_cls = stripe.SubscriptionSchedule.Phase
    phases = [
        complete(phase_cls, {
            "add_invoice_items": [],
            "currency": None,
            "default_tax_rates": [],
            "discounts": [],
            "end_date": phase.get("end_date"),
            "items": [complete(phase_cls.Item, {"discounts": [], "metadata": {},
                                                "plan": item["price"], "price": item["price"],
                                                "quantity": item.get("quantity"),
                                                "tax_rates": []})
                      for item in phase["items"]],
            "metadata": {},
            "proration_behavior": phase.get("proration_behavior", "create_prorations"),
            "start_date": phase.get("start_date"),
        })
        for phase in schedule.phases
    ]
    current = None
    if schedule.status == "active" and schedule.phases:
        phase = schedule.phases[min(schedule.current_phase, len(schedule.phases) - 1)]
        current = complete(stripe.SubscriptionSchedule.CurrentPhase,
                           {"start_date": phase.get("start_date"),
                            "end_date": phase.get("end_date")})
    sub = session.get(Subscription, schedule.subscription_id) if schedule.subscription_id \
        else None
    return complete(
        stripe.SubscriptionSchedule,
        {
            "id": schedule.id,
            "billing_mode": complete(stripe.SubscriptionSchedule.BillingMode,
                                     {"type": "classic"}),
            "canceled_at": to_unix(schedule.canceled_at),
            "completed_at": to_unix(schedule.completed_at),
            "created": to_unix(schedule.created),
            "current_phase": current,
            "customer": schedule.customer_id,
            "default_settings": complete(stripe.SubscriptionSchedule.DefaultSettings, {
                "billing_cycle_anchor": "automatic",
                "collection_method": sub.collection_method if sub else None,
                "default_payment_method": sub.default_payment_method if sub else None,
            }),
            "end_behavior": schedule.end_behavior,
            "metadata": dict(schedule.metadata_),
            "phases": phases,
            "released_at": to_unix(schedule.released_at),
            "released_subscription": schedule.released_subscription,
            "status": str(schedule.status),
            "subscription": schedule.subscription_id,
        },
    )
