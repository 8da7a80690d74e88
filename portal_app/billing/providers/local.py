"""The embedded ledger behind the billing contract (:mod:`portal_app.billing.provider`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from portal_app.billing import services
from portal_app.billing.provider import StripeObject
from portal_app.billing.services import ItemSpec
from portal_app.clock import FrozenClock
from portal_app.db import UnitOfWork, UnitOfWorkFactory
from portal_app.errors import InvalidRequest
from portal_app.objects import (
    render_customer,
    render_invoice,
    render_payment_method,
    render_price,
    render_product,
    render_subscription,
)

T = TypeVar("T")


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

    # --- customer-scoped ---------------------------------------------------------------

    def retrieve_customer(self, customer_id: str) -> StripeObject:
        return self._run(
            lambda uow: services.retrieve_customer(customer_id, account_id=self.account_id,
                                                   uow=uow),
            lambda customer, _: render_customer(customer),
        )

    def update_customer(self, customer_id: str, **details: Any) -> StripeObject:
        # Only the customer's own details: never their default method or metadata here.
        unknown = sorted(set(details) - set(services.CUSTOMER_DETAIL_FIELDS))
        if unknown:
            raise InvalidRequest(f"Received unknown parameter: {unknown[0]}", param=unknown[0])
        return self._run(
            lambda uow: services.update_customer(customer_id, account_id=self.account_id,
                                                 uow=uow, **details),
            lambda customer, _: render_customer(customer),
        )

    def list_subscriptions(self, customer_id: str, *, status: str | None = None
                           ) -> list[StripeObject]:
        return self._run_list(
            lambda uow: services.list_subscriptions(account_id=self.account_id, uow=uow,
                                                    customer_id=customer_id, status=status),
            lambda sub, uow: render_subscription(sub, uow.session),
        )

    def retrieve_subscription(self, subscription_id: str, *, customer_id: str) -> StripeObject:
        return self._run(
            lambda uow: services.retrieve_subscription(
                subscription_id, account_id=self.account_id, uow=uow, customer_id=customer_id),
            lambda sub, uow: render_subscription(sub, uow.session),
        )

    def cancel_subscription(self, subscription_id: str, *, customer_id: str,
                            at_period_end: bool = False, feedback: str | None = None,
                            comment: str | None = None) -> StripeObject:
        return self._run(
            lambda uow: services.cancel_subscription(
                subscription_id, account_id=self.account_id, uow=uow, customer_id=customer_id,
                at_period_end=at_period_end, feedback=feedback, comment=comment),
            lambda sub, uow: render_subscription(sub, uow.session),
        )

    def list_payment_methods(self, customer_id: str) -> list[StripeObject]:
        return self._run_list(
            lambda uow: services.list_payment_methods(customer_id, account_id=self.account_id,
                                                      uow=uow),
            lambda pm, _: render_payment_method(pm),
        )

    def attach_payment_method(self, payment_method: str, *, customer_id: str
                              ) -> StripeObject:
        return self._run(
            lambda uow: services.attach_payment_method(
                payment_method, customer_id=customer_id, account_id=self.account_id, uow=uow,
                customer_scoped=True),
            lambda pm, _: render_payment_method(pm),
        )

    def set_default_payment_method(self, payment_method: str, *, customer_id: str
                                   ) -> StripeObject:
        def action(uow: UnitOfWork) -> Any:
            services.retrieve_payment_method(payment_method, account_id=self.account_id,
                                             uow=uow, customer_id=customer_id)
            return services.update_customer(customer_id, account_id=self.account_id, uow=uow,
                                            default_payment_method=payment_method)

        return self._run(action, lambda customer, _: render_customer(customer))

    def list_invoices(self, customer_id: str) -> list[StripeObject]:
        return self._run_list(
            lambda uow: services.list_invoices(account_id=self.account_id, uow=uow,
                                               customer_id=customer_id),
            lambda invoice, uow: render_invoice(invoice, uow.session),
        )

    # --- merchant set-up -----------------------------------------------------------------

    def create_customer(self, *, email: str | None = None, name: str | None = None,
                        payment_method: str | None = None,
                        preferred_locales: Sequence[str] = (),
                        metadata: Mapping[str, str] | None = None) -> StripeObject:
        return self._run(
            lambda uow: services.create_customer(
                account_id=self.account_id, uow=uow, email=email, name=name,
                payment_method=payment_method, preferred_locales=preferred_locales,
                metadata=metadata),
            lambda customer, _: render_customer(customer),
        )

    def create_product(self, *, name: str, description: str | None = None,
                       metadata: Mapping[str, str] | None = None) -> StripeObject:
        return self._run(
            lambda uow: services.create_product(account_id=self.account_id, uow=uow, name=name,
                                                description=description, metadata=metadata),
            lambda product, _: render_product(product),
        )

    def create_price(self, *, product: str, currency: str, unit_amount: int,
                     interval: str | None = None, interval_count: int = 1,
                     nickname: str | None = None) -> StripeObject:
        return self._run(
            lambda uow: services.create_price(
                account_id=self.account_id, uow=uow, product=product, currency=currency,
                unit_amount=unit_amount, interval=interval, interval_count=interval_count,
                nickname=nickname),
            lambda price, _: render_price(price),
        )

    def create_subscription(self, *, customer: str, items: Sequence[ItemSpec],
                            default_payment_method: str | None = None,
                            trial_period_days: int | None = None,
                            coupon: str | None = None,
                            cancel_at_period_end: bool = False,
                            metadata: Mapping[str, str] | None = None) -> StripeObject:
        return self._run(
            lambda uow: services.create_subscription(
                account_id=self.account_id, uow=uow, customer=customer, items=items,
                default_payment_method=default_payment_method,
                trial_period_days=trial_period_days, coupon=coupon,
                cancel_at_period_end=cancel_at_period_end, metadata=metadata),
            lambda sub, uow: render_subscription(sub, uow.session),
        )

    def advance_clock(self, to: datetime) -> int:
        """Move the frozen clock to ``to`` (renewals, trial ends, cancellations on the way).

        Raises InvalidRequest unless the provider runs on a :class:`FrozenClock`.
        """
        if not isinstance(self.clock, FrozenClock):
            raise InvalidRequest("Only a test clock can be advanced.", param="frozen_time")
        return services.advance_clock(self.clock, to, account_id=self.account_id,
                                      uow_factory=self.uow_factory)
