"""The embedded ledger behind the billing contract (:mod:`portal_app.billing.provider`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import stripe
from sqlmodel import SQLModel, col, select

from portal_app.accounts.models import Account
from portal_app.billing import (
    authorizations,
    cancellations,
    catalog,
    changes,
    coupons,
    customers,
    invoice_payments,
    invoicing,
    mandates,
    meters,
    pauses,
    payment_method_configurations,
    payment_methods,
    renewals,
    schedule_phases,
    schedules,
    setup_intents,
    subscriptions,
    tax_ids,
)
from portal_app.billing.models import (
    Coupon,
    Discount,
    Mandate,
    PaymentMethod,
    Price,
    Product,
    PromotionCode,
    Subscription,
    SubscriptionItem,
    SubscriptionSchedule,
)
from portal_app.billing.objects import (
    render_coupon,
    render_customer,
    render_discount,
    render_invoice,
    render_payment_method,
    render_price,
    render_product,
    render_promotion_code,
    render_subscription,
    render_subscription_schedule,
)
from portal_app.billing.payment_objects import (
    render_mandate,
    render_payment_method_configuration,
)
from portal_app.billing.provider import ItemChange, ItemSpec, StripeObject
from portal_app.clock import FrozenClock, to_unix
from portal_app.db import UnitOfWork, UnitOfWorkFactory
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.stripe_shapes import complete

T = TypeVar("T")
Row = TypeVar("Row", bound=SQLModel)


class LocalBillingProvider:
    """The embedded ledger behind :class:`BillingProvider`: delegates to the services.

    Parameters
    ----------
    account_id
        The merchant account every call acts for.
    clock
        The clock of the ledger; a :class:`FrozenClock` makes :meth:`advance_clock`
        available, as Stripe's test clocks are.
    uow_factory
        Makes the unit of work of each call (default: one on the configured
        database with ``clock``).
    """

    def __init__(self, *, account_id: str, clock: Callable[[], datetime],
                 uow_factory: UnitOfWorkFactory | None = None) -> None:
        self.account_id = account_id
        self.clock = clock
        self.uow_factory = uow_factory or (lambda: UnitOfWork(clock=clock))

    def _run(self, action: Callable[[UnitOfWork], T], render: Callable[[T, UnitOfWork],
             StripeObject]) -> StripeObject:
        """Run one service call and render its result in a single transaction."""
        uow = self.uow_factory()
        with uow:
            rendered = render(action(uow), uow)
            uow.commit()
            return rendered

    def _run_list(self, action: Callable[[UnitOfWork], list[T]],
                  render: Callable[[T, UnitOfWork], StripeObject]) -> list[StripeObject]:
        uow = self.uow_factory()
        with uow:
            return [render(row, uow) for row in action(uow)]

    def _get(self, uow: UnitOfWork, model: type[Row], object_id: str) -> Row:
        """A row of the account by id (ResourceMissing names it as Stripe does)."""
        return uow.get(model, object_id, account_id=self.account_id,
                       label=model.__name__.lower())

    # --- customers ---------------------------------------------------------------------

    def retrieve_customer(self, customer_id: str) -> StripeObject:
        return self._run(
            lambda uow: customers.retrieve_customer(customer_id, account_id=self.account_id,
                                                    uow=uow),
            lambda customer, _: render_customer(customer),
        )

    def update_customer(self, customer_id: str, **details: Any) -> StripeObject:
        # Only the customer's own details: never their default method or metadata here.
        unknown = sorted(set(details) - set(customers.CUSTOMER_DETAIL_FIELDS))
        if unknown:
            raise InvalidRequest(f"Received unknown parameter: {unknown[0]}", param=unknown[0])
        return self._run(
            lambda uow: customers.update_customer(customer_id, account_id=self.account_id,
                                                  uow=uow, **details),
            lambda customer, _: render_customer(customer),
        )

    def create_customer(self, *, email: str | None = None, name: str | None = None,
                        payment_method: str | None = None,
                        preferred_locales: Sequence[str] = (),
                        metadata: Mapping[str, str] | None = None) -> StripeObject:
        return self._run(
            lambda uow: customers.create_customer(
                account_id=self.account_id, uow=uow, email=email, name=name,
                payment_method=payment_method, preferred_locales=preferred_locales,
                metadata=metadata),
            lambda customer, _: render_customer(customer),
        )

    # --- customers: tax IDs (issue 11, billing details) --------------------------------

    def list_tax_ids(self, customer_id: str) -> list[StripeObject]:
        return self._run_list(
            lambda uow: tax_ids.list_tax_ids(customer_id, account_id=self.account_id, uow=uow),
            lambda tax_id, _: tax_ids.render_tax_id(tax_id),
        )

    def create_tax_id(self, customer_id: str, *, type: str, value: str) -> StripeObject:
        return self._run(
            lambda uow: tax_ids.create_tax_id(customer_id, type=type, value=value,
                                              account_id=self.account_id, uow=uow),
            lambda tax_id, _: tax_ids.render_tax_id(tax_id),
        )

    def delete_tax_id(self, customer_id: str, tax_id: str) -> StripeObject:
        return self._run(
            lambda uow: tax_ids.delete_tax_id(customer_id, tax_id, account_id=self.account_id,
                                              uow=uow),
            lambda row, _: tax_ids.render_deleted_tax_id(row),
        )

    # --- payment methods ---------------------------------------------------------------

    def list_payment_methods(self, customer_id: str) -> list[StripeObject]:
        return self._run_list(
            lambda uow: payment_methods.list_payment_methods(
                customer_id, account_id=self.account_id, uow=uow),
            lambda pm, _: render_payment_method(pm),
        )

    def retrieve_payment_method(self, payment_method: str, *, customer_id: str
                                ) -> StripeObject:
        return self._run(
            lambda uow: payment_methods.retrieve_payment_method(
                payment_method, account_id=self.account_id, uow=uow, customer_id=customer_id),
            lambda pm, _: render_payment_method(pm),
        )

    def attach_payment_method(self, payment_method: str, *, customer_id: str
                              ) -> StripeObject:
        return self._run(
            lambda uow: payment_methods.attach_payment_method(
                payment_method, customer_id=customer_id, account_id=self.account_id, uow=uow,
                customer_scoped=True),
            lambda pm, _: render_payment_method(pm),
        )

    def set_default_payment_method(self, payment_method: str, *, customer_id: str
                                   ) -> StripeObject:
        def action(uow: UnitOfWork) -> Any:
            payment_methods.retrieve_payment_method(payment_method, account_id=self.account_id,
                                                    uow=uow, customer_id=customer_id)
            return customers.update_customer(customer_id, account_id=self.account_id, uow=uow,
                                             default_payment_method=payment_method)

        return self._run(action, lambda customer, _: render_customer(customer))

    # --- payment methods: setup intents, mandates, configurations (issue 11) ----------

    def create_setup_intent(self, *, customer_id: str, payment_method_data: Mapping[str, Any],
                            return_url: str | None = None,
                            mandate_acceptance: Mapping[str, Any] | None = None
                            ) -> StripeObject:
        uow = self.uow_factory()
        with uow:
            si = setup_intents.create_setup_intent(
                account_id=self.account_id, uow=uow, customer_id=customer_id,
                payment_method_types=[str(payment_method_data.get("type") or "card")],
                payment_method_data=payment_method_data, confirm=True, return_url=return_url,
                mandate_acceptance=mandate_acceptance)
            rendered = setup_intents.render(si, uow)
            uow.commit()  # a decline is recorded on the intent, then raised
        error = setup_intents.failure(si)
        if error is not None:
            raise error
        return rendered

    def retrieve_setup_intent(self, setup_intent: str, *, customer_id: str) -> StripeObject:
        return self._run(
            lambda uow: setup_intents.retrieve_setup_intent(
                setup_intent, account_id=self.account_id, uow=uow, customer_id=customer_id),
            setup_intents.render,
        )

    def detach_payment_method(self, payment_method: str, *, customer_id: str) -> StripeObject:
        return self._run(
            lambda uow: payment_methods.detach_payment_method(
                payment_method, account_id=self.account_id, uow=uow, customer_id=customer_id),
            lambda pm, _: render_payment_method(pm),
        )

    def retrieve_payment_method_configuration(self, configuration_id: str) -> StripeObject:
        return self._run(
            lambda uow: payment_method_configurations.retrieve_configuration(
                configuration_id, account_id=self.account_id, uow=uow),
            lambda pmc, _: render_payment_method_configuration(pmc),
        )

    def create_payment_method_configuration(self, *, name: str | None = None,
                                            preferences: Mapping[str, str] | None = None
                                            ) -> StripeObject:
        return self._run(
            lambda uow: payment_method_configurations.create_configuration(
                account_id=self.account_id, uow=uow, name=name, preferences=preferences),
            lambda pmc, _: render_payment_method_configuration(pmc),
        )

    def retrieve_mandate(self, mandate_id: str, *, customer_id: str) -> StripeObject:
        return self._run(
            lambda uow: mandates.retrieve_mandate(mandate_id, account_id=self.account_id,
                                                  uow=uow, customer_id=customer_id),
            lambda found, _: render_mandate(found[0], method_type=found[1].type),
        )

    def retrieve_mandate_document(self, mandate_id: str, *, mac: str) -> StripeObject:
        def render(found: tuple[Mandate, PaymentMethod, Account], _: UnitOfWork
                   ) -> StripeObject:
            mandate, pm, account = found
            return {"object": "mandate_document", "creditor": account.business_name,
                    "mandate": render_mandate(mandate, method_type=pm.type),
                    "payment_method": render_payment_method(pm)}

        return self._run(
            lambda uow: mandates.retrieve_mandate_document(
                mandate_id, mac=mac, account_id=self.account_id, uow=uow),
            render,
        )

    def retrieve_test_authorization(self, token: str) -> StripeObject:
        def action(uow: UnitOfWork) -> StripeObject:
            auth = authorizations.find_authorization(token, account_id=self.account_id,
                                                     uow=uow)
            return authorizations.render_authorization(auth, uow=uow)

        return self._run(action, lambda rendered, _: rendered)

    def complete_test_authorization(self, token: str, *, succeed: bool) -> StripeObject:
        def action(uow: UnitOfWork) -> StripeObject:
            redirect = authorizations.complete_authorization(
                token, succeed=succeed, account_id=self.account_id, uow=uow)
            auth = authorizations.find_authorization(token, account_id=self.account_id,
                                                     uow=uow)
            return {**authorizations.render_authorization(auth, uow=uow), "redirect_url": redirect}

        return self._run(action, lambda rendered, _: rendered)

    # --- invoices ----------------------------------------------------------------------

    def list_invoices(self, customer_id: str) -> list[StripeObject]:
        return self._run_list(
            lambda uow: invoicing.list_invoices(account_id=self.account_id, uow=uow,
                                                customer_id=customer_id),
            lambda invoice, uow: render_invoice(invoice, uow.session),
        )

    def retrieve_invoice(self, invoice_id: str, *, customer_id: str | None = None
                         ) -> StripeObject:
        return self._run(
            lambda uow: invoicing.retrieve_invoice(invoice_id, account_id=self.account_id,
                                                   uow=uow, customer_id=customer_id),
            lambda invoice, uow: render_invoice(invoice, uow.session),
        )

    # --- invoices: paying one now, past-due recovery (issue 11, H4) ---------------------

    def pay_invoice(self, invoice_id: str, *, customer_id: str,
                    payment_method: str | None = None, return_url: str | None = None
                    ) -> StripeObject:
        return self._run(
            lambda uow: invoice_payments.pay_invoice(
                invoice_id, account_id=self.account_id, uow=uow, customer_id=customer_id,
                payment_method=payment_method, return_url=return_url),
            lambda invoice, uow: render_invoice(invoice, uow.session),
        )

    def last_payment_error(self, invoice_id: str, *, customer_id: str
                           ) -> StripeObject | None:
        uow = self.uow_factory()
        with uow:
            return invoice_payments.last_payment_error(
                invoice_id, account_id=self.account_id, uow=uow, customer_id=customer_id)

    # --- catalog: products, prices, coupons --------------------------------------------

    def create_product(self, *, name: str, description: str | None = None,
                       metadata: Mapping[str, str] | None = None) -> StripeObject:
        return self._run(
            lambda uow: catalog.create_product(account_id=self.account_id, uow=uow, name=name,
                                               description=description, metadata=metadata),
            lambda product, _: render_product(product),
        )

    def retrieve_product(self, product_id: str) -> StripeObject:
        return self._run(lambda uow: self._get(uow, Product, product_id),
                         lambda product, _: render_product(product))

    def list_products(self, *, active: bool | None = None) -> list[StripeObject]:
        def query(uow: UnitOfWork) -> list[Product]:
            found = select(Product).where(Product.account_id == self.account_id)
            if active is not None:
                found = found.where(Product.active == active)
            return list(uow.session.exec(
                found.order_by(col(Product.created).desc(), col(Product.id).desc())))

        return self._run_list(query, lambda product, _: render_product(product))

    def create_price(self, *, product: str, currency: str, unit_amount: int,
                     interval: str | None = None, interval_count: int = 1,
                     nickname: str | None = None, usage_type: str = "licensed",
                     meter: str | None = None) -> StripeObject:
        return self._run(
            lambda uow: catalog.create_price(
                account_id=self.account_id, uow=uow, product=product, currency=currency,
                unit_amount=unit_amount, interval=interval, interval_count=interval_count,
                nickname=nickname, usage_type=usage_type, meter=meter),
            lambda price, _: render_price(price),
        )

    def retrieve_price(self, price_id: str) -> StripeObject:
        return self._run(lambda uow: self._get(uow, Price, price_id),
                         lambda price, _: render_price(price))

    def list_prices(self, *, product: str | None = None, active: bool | None = None
                    ) -> list[StripeObject]:
        def query(uow: UnitOfWork) -> list[Price]:
            found = select(Price).where(Price.account_id == self.account_id)
            if product is not None:
                found = found.where(Price.product_id == product)
            if active is not None:
                found = found.where(Price.active == active)
            return list(uow.session.exec(
                found.order_by(col(Price.created).desc(), col(Price.id).desc())))

        return self._run_list(query, lambda price, _: render_price(price))

    def create_coupon(self, *, percent_off: float | None = None, amount_off: int | None = None,
                      currency: str | None = None, duration: str = "once",
                      duration_in_months: int | None = None, name: str | None = None,
                      id: str | None = None, max_redemptions: int | None = None
                      ) -> StripeObject:
        return self._run(
            lambda uow: coupons.create_coupon(
                account_id=self.account_id, uow=uow, id=id, percent_off=percent_off,
                amount_off=amount_off, currency=currency, duration=duration,
                duration_in_months=duration_in_months, name=name,
                max_redemptions=max_redemptions),
            lambda coupon, _: render_coupon(coupon),
        )

    def retrieve_coupon(self, coupon_id: str) -> StripeObject:
        return self._run(lambda uow: self._get(uow, Coupon, coupon_id),
                         lambda coupon, _: render_coupon(coupon))

    # --- subscriptions: create, read, cancel -------------------------------------------

    def create_subscription(self, *, customer: str, items: Sequence[ItemSpec],
                            default_payment_method: str | None = None,
                            trial_period_days: int | None = None,
                            coupon: str | None = None,
                            cancel_at_period_end: bool = False,
                            metadata: Mapping[str, str] | None = None) -> StripeObject:
        return self._run(
            lambda uow: subscriptions.create_subscription(
                account_id=self.account_id, uow=uow, customer=customer, items=items,
                default_payment_method=default_payment_method,
                trial_period_days=trial_period_days, coupon=coupon,
                cancel_at_period_end=cancel_at_period_end, metadata=metadata),
            lambda sub, uow: render_subscription(sub, uow.session),
        )

    def list_subscriptions(self, customer_id: str, *, status: str | None = None
                           ) -> list[StripeObject]:
        return self._run_list(
            lambda uow: subscriptions.list_subscriptions(account_id=self.account_id, uow=uow,
                                                         customer_id=customer_id, status=status),
            lambda sub, uow: render_subscription(sub, uow.session),
        )

    def retrieve_subscription(self, subscription_id: str, *, customer_id: str | None
                              ) -> StripeObject:
        return self._run(
            lambda uow: subscriptions.retrieve_subscription(
                subscription_id, account_id=self.account_id, uow=uow, customer_id=customer_id),
            lambda sub, uow: render_subscription(sub, uow.session),
        )

    def cancel_subscription(self, subscription_id: str, *, customer_id: str,
                            at_period_end: bool = False, feedback: str | None = None,
                            comment: str | None = None, prorate: bool = False,
                            invoice_now: bool = False) -> StripeObject:
        return self._run(
            lambda uow: cancellations.cancel_subscription(
                subscription_id, account_id=self.account_id, uow=uow, customer_id=customer_id,
                at_period_end=at_period_end, feedback=feedback, comment=comment,
                prorate=prorate, invoice_now=invoice_now),
            lambda sub, uow: render_subscription(sub, uow.session),
        )

    # --- test clock --------------------------------------------------------------------

    def advance_clock(self, to: datetime) -> int:
        """Move the frozen clock to ``to`` (renewals, trial ends, cancellations on the way).

        Raises InvalidRequest unless the provider runs on a :class:`FrozenClock`.
        """
        if not isinstance(self.clock, FrozenClock):
            raise InvalidRequest("Only a test clock can be advanced.", param="frozen_time")
        return renewals.advance_clock(self.clock, to, account_id=self.account_id,
                                      uow_factory=self.uow_factory)

    # --- subscription changes: plan, quantity, schedule, cancel, pause -------------

    def preview_subscription_update(self, subscription_id: str, *, customer_id: str,
                                    items: Sequence[ItemChange],
                                    proration_behavior: str = "create_prorations",
                                    proration_date: datetime | None = None,
                                    coupon: str | None = None,
                                    promotion_code: str | None = None,
                                    schedule_at_period_end: bool = False) -> StripeObject:
        # The ledger applies the change in a savepoint and rolls it back: the preview is
        # the applied result by construction.
        return self._run(
            lambda uow: changes.preview_change(
                subscription_id, account_id=self.account_id, uow=uow, items=items,
                proration_behavior=proration_behavior, proration_date=proration_date,
                coupon=coupon, promotion_code=promotion_code,
                schedule_at_period_end=schedule_at_period_end, customer_id=customer_id),
            lambda preview, _: _render_change_preview(preview),
        )

    def update_subscription(self, subscription_id: str, *, customer_id: str,
                            items: Sequence[ItemChange] = (),
                            proration_behavior: str = "create_prorations",
                            proration_date: datetime | None = None,
                            coupon: str | None = None, promotion_code: str | None = None,
                            expected_version: str | None = None) -> StripeObject:
        return self._run(
            lambda uow: changes.apply_change(
                subscription_id, account_id=self.account_id, uow=uow, items=items,
                proration_behavior=proration_behavior, proration_date=proration_date,
                coupon=coupon, promotion_code=promotion_code,
                expected_version=expected_version, customer_id=customer_id),
            lambda sub, uow: render_subscription(sub, uow.session),
        )

    def schedule_subscription_update(self, subscription_id: str, *, customer_id: str,
                                     items: Sequence[ItemChange],
                                     expected_version: str | None = None) -> StripeObject:
        def action(uow: UnitOfWork) -> SubscriptionSchedule:
            sub = changes.apply_change(
                subscription_id, account_id=self.account_id, uow=uow, items=items,
                schedule_at_period_end=True, expected_version=expected_version,
                customer_id=customer_id)
            schedule_id = render_subscription(sub, uow.session)["schedule"]
            return uow.get(SubscriptionSchedule, schedule_id, account_id=self.account_id)

        return self._run(action,
                         lambda schedule, uow: render_subscription_schedule(schedule,
                                                                            uow.session))

    def _schedule(self, schedule_id: str, *, customer_id: str, uow: UnitOfWork
                  ) -> SubscriptionSchedule:
        """The customer's schedule; another customer's is ResourceMissing."""
        schedule = uow.get(SubscriptionSchedule, schedule_id, account_id=self.account_id,
                           label="subscription_schedule")
        if schedule.customer_id != customer_id:
            raise ResourceMissing(f"No such subscription_schedule: '{schedule_id}'",
                                  param="id")
        return schedule

    def retrieve_subscription_schedule(self, schedule_id: str, *, customer_id: str
                                       ) -> StripeObject:
        return self._run(
            lambda uow: self._schedule(schedule_id, customer_id=customer_id, uow=uow),
            lambda schedule, uow: render_subscription_schedule(schedule, uow.session),
        )

    def schedule_made_by_portal(self, schedule_id: str, *, customer_id: str) -> bool:
        with self.uow_factory() as uow:
            schedule = self._schedule(schedule_id, customer_id=customer_id, uow=uow)
            return schedule.created_by == schedule_phases.BY_PORTAL

    def release_subscription_schedule(self, schedule_id: str, *, customer_id: str
                                      ) -> StripeObject:
        def action(uow: UnitOfWork) -> SubscriptionSchedule:
            schedule = self._schedule(schedule_id, customer_id=customer_id, uow=uow)
            if (schedule.subscription_id is None
                    or schedule.status not in schedule_phases.OPEN_SCHEDULE):
                raise InvalidRequest(
                    f"You cannot release a subscription schedule that is currently in the "
                    f"`{schedule.status}` status.", param="schedule")
            schedules.cancel_scheduled_change(schedule.subscription_id,
                                              account_id=self.account_id, uow=uow,
                                              customer_id=customer_id)
            return schedule

        return self._run(action,
                         lambda schedule, uow: render_subscription_schedule(schedule,
                                                                            uow.session))

    def reactivate_subscription(self, subscription_id: str, *, customer_id: str
                                ) -> StripeObject:
        return self._run(
            lambda uow: cancellations.reactivate_subscription(
                subscription_id, account_id=self.account_id, uow=uow, customer_id=customer_id),
            lambda sub, uow: render_subscription(sub, uow.session),
        )

    def pause_subscription(self, subscription_id: str, *, customer_id: str,
                           behavior: str = "void", resumes_at: datetime | None = None
                           ) -> StripeObject:
        return self._run(
            lambda uow: pauses.pause_subscription(
                subscription_id, account_id=self.account_id, uow=uow, behavior=behavior,
                resumes_at=resumes_at, customer_id=customer_id),
            lambda sub, uow: render_subscription(sub, uow.session),
        )

    def resume_subscription(self, subscription_id: str, *, customer_id: str) -> StripeObject:
        return self._run(
            lambda uow: pauses.resume_subscription(
                subscription_id, account_id=self.account_id, uow=uow, customer_id=customer_id),
            lambda sub, uow: render_subscription(sub, uow.session),
        )

    def list_subscription_discounts(self, subscription_id: str, *, customer_id: str
                                    ) -> list[StripeObject]:
        def action(uow: UnitOfWork) -> list[tuple[Discount, Coupon]]:
            subscriptions.retrieve_subscription(subscription_id, account_id=self.account_id,
                                                uow=uow, customer_id=customer_id)
            return [(discount, coupon) for discount, coupon in uow.session.exec(
                select(Discount, Coupon).join(Coupon)  # on (account_id, coupon_id)
                .where(Discount.subscription_id == subscription_id)
                .order_by(col(Discount.created).desc(), col(Discount.id).desc())).all()]

        return self._run_list(action, lambda row, _: render_discount(*row))

    def create_promotion_code(self, *, coupon: str, code: str,
                              expires_at: datetime | None = None) -> StripeObject:
        return self._run(
            lambda uow: coupons.create_promotion_code(
                account_id=self.account_id, uow=uow, coupon=coupon, code=code,
                expires_at=expires_at),
            self._render_promotion_code,
        )

    def retrieve_promotion_code(self, promotion_code_id: str) -> StripeObject:
        return self._run(
            lambda uow: coupons.retrieve_promotion_code(
                promotion_code_id, account_id=self.account_id, uow=uow),
            self._render_promotion_code,
        )

    def retrieve_promotion_code_by_code(self, code: str) -> StripeObject:
        return self._run(
            lambda uow: coupons.retrieve_promotion_code_by_code(
                code, account_id=self.account_id, uow=uow),
            self._render_promotion_code,
        )

    def _render_promotion_code(self, promo: PromotionCode, uow: UnitOfWork) -> StripeObject:
        return render_promotion_code(
            promo, uow.get(Coupon, promo.coupon_id, account_id=self.account_id))

    def list_upcoming_usage(self, subscription_id: str, *, customer_id: str
                            ) -> list[StripeObject]:
        def action(uow: UnitOfWork) -> list[StripeObject]:
            sub = subscriptions.retrieve_subscription(subscription_id, account_id=self.account_id,
                                                      uow=uow, customer_id=customer_id)
            rows = uow.session.exec(
                select(SubscriptionItem, Price)
                .join(Price, col(Price.id) == SubscriptionItem.price_id)
                .where(SubscriptionItem.subscription_id == sub.id,
                       Price.usage_type == "metered")
                .order_by(col(SubscriptionItem.position), col(SubscriptionItem.id))).all()
            return [_render_usage_line(sub, item, price,
                                       meters.current_usage(sub, item, price, uow=uow))
                    for item, price in rows]

        return self._run_list(action, lambda line, _: line)

    # --- retention: free days ---------------------------------------------------

    def extend_trial(self, subscription_id: str, *, customer_id: str, trial_end: datetime
                     ) -> StripeObject:
        return self._run(
            lambda uow: subscriptions.extend_trial(
                subscription_id, trial_end=trial_end, account_id=self.account_id, uow=uow,
                customer_id=customer_id),
            lambda sub, uow: render_subscription(sub, uow.session),
        )


def _render_line_item(*, subscription_id: str, currency: str, amount: int, description: str,
                      period_start: datetime, period_end: datetime, price_id: str | None,
                      quantity: int, proration: bool, subscription_item: str | None = None
                      ) -> StripeObject:
    """A Stripe invoice line item of an invoice not issued yet (a preview's)."""
    return complete(stripe.InvoiceLineItem, {
        "amount": amount,
        "currency": currency,
        "description": description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "metadata": {},
        "parent": {"type": "subscription_item_details",
                   "subscription_item_details": {
                       "invoice_item": None, "proration": proration,
                       "proration_details": {"credited_items": None},
                       "subscription": subscription_id,
                       "subscription_item": subscription_item}},
        "period": {"start": to_unix(period_start), "end": to_unix(period_end)},
        "pricing": {"type": "price_details",
                    "price_details": {"price": price_id, "product": None},
                    "unit_amount_decimal": None},
        "quantity": quantity,
        "subscription": subscription_id,
        "subtotal": amount,
        "taxes": [],
    })


def _render_change_preview(preview: changes.ChangePreview) -> StripeObject:
    """The contract's ``subscription_update_preview`` (see the Protocol's docstring)."""
    return {
        "object": "subscription_update_preview",
        "subscription": preview.subscription_id,
        "currency": preview.currency,
        "proration_date": to_unix(preview.proration_date),
        "lines": [_render_line_item(
            subscription_id=preview.subscription_id, currency=preview.currency,
            amount=line.amount, description=line.description,
            period_start=line.period_start, period_end=line.period_end,
            price_id=line.price_id, quantity=line.quantity, proration=line.proration)
            for line in preview.lines],
        "total_discount": preview.discount,
        "amount_due_now": preview.amount_due_now,
        "next_invoice_date": to_unix(preview.next_invoice_at),
        "next_invoice_amount_due": preview.next_invoice_amount,
        "scheduled_at": to_unix(preview.scheduled_for),
        "version": preview.version,
    }


def _render_usage_line(sub: Subscription, item: SubscriptionItem, price: Price,
                       usage: meters.Usage) -> StripeObject:
    return _render_line_item(
        subscription_id=sub.id, currency=price.currency, amount=usage.amount,
        description=f"Usage of {item.id}", period_start=usage.start, period_end=usage.end,
        price_id=price.id, quantity=usage.quantity, proration=False, subscription_item=item.id)
