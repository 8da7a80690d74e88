"""Managing subscriptions in the portal: the overview's actions and the change and pause
flows (the cancel flow is :mod:`portal_app.state.portal_cancel`).

Every handler re-checks the session (:meth:`PortalState._require_session`) and
hands the session to the portal's rules (:mod:`portal_app.portal.subscription_actions`,
:mod:`portal_app.portal.plan_changes`) or view models (:mod:`portal_app.views.subscriptions`,
:mod:`portal_app.views.plan_change`), which look every id that came from the browser up
among the session customer's own objects. No rule lives here: the State keeps what the
page shows and which step it is on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import reflex as rx

from portal_app import i18n
from portal_app.db import UnitOfWork
from portal_app.errors import BillingError, ResourceMissing, SessionExpired
from portal_app.i18n import _
from portal_app.portal import plan_changes, subscription_actions
from portal_app.portal.deep_links import completion
from portal_app.portal.models import PortalSession
from portal_app.portal.plan_changes import ChangeRequest
from portal_app.portal.refusals import error_message
from portal_app.routes import PORTAL, PORTAL_DONE
from portal_app.state import portal as portal_state
from portal_app.state.portal import PortalState
from portal_app.views import plan_change, subscriptions
from portal_app.views.plan_change import (
    IntervalChoice,
    ItemChoice,
    PreviewLineView,
    PreviewView,
    PriceOption,
)
from portal_app.views.subscriptions import PauseOption, SubscriptionCard

UPDATE_FLOWS = ("subscription_update", "subscription_update_confirm")


class ManageState(PortalState):
    """The overview's subscription cards, their actions, and the result banner."""

    # rx.Field: read on the class (in components) each is typed as the Var it is there
    # (.length()), as in state/portal.py.
    cards: rx.Field[list[SubscriptionCard]] = rx.field(default_factory=list)
    banner: str = ""
    banner_kind: str = "success"  # success | error
    done_title: str = ""
    done_message: str = ""

    def _session(self, uow: UnitOfWork) -> PortalSession | None:
        """The live session, or None after switching the page to the expired view."""
        try:
            return self._require_session(uow)
        except SessionExpired as expired:
            self._show_expired(expired)
            self.cards = []
            return None

    def _say(self, message: str, kind: str = "success", /, **values: str) -> None:
        # Positional-only: no key of ``values`` (the message's placeholders) can be ``kind``.
        self.banner = i18n.gettext(self.lang, message, **values)
        self.banner_kind = kind

    def _refused(self, error: BillingError) -> None:
        self.banner = error_message(error, locale=self.lang)
        self.banner_kind = "error"

    def _run(self, action: Callable[[PortalSession, UnitOfWork], Any],
             refused: Callable[[BillingError], object], *, handler: str, nonce: str
             ) -> tuple[PortalSession, Any] | None:
        """Run one rule on the re-checked session, as the action ``handler`` clicked with
        ``nonce`` (:meth:`PortalState._acting`): its session and result, or None when the
        session lapsed (the expired view shows) or the rule refused (``refused`` shows
        why). Every page's ``_call`` is this skeleton."""
        uow = portal_state.unit_of_work()
        session = self._session(uow)
        if session is None:
            return None
        try:
            with self._acting(session, handler, nonce):
                return session, action(session, uow)
        except BillingError as error:
            refused(error)
            return None

    def _load_cards(self, session: PortalSession) -> None:
        self.cards = subscriptions.subscription_cards(session, locale=self.lang,
                                               uow=portal_state.unit_of_work())

    def _open(self) -> PortalSession | None:
        """Load the base view (brand, catalog) for this session; None if there is none."""
        PortalState.load.fn(self)
        if self.view != "ready":
            return None
        return self._session(portal_state.unit_of_work())

    @rx.event
    def load(self) -> None:
        """The overview: the session's subscriptions with their actions (on_load)."""
        session = self._open()
        if session is None:
            self.cards = []
            return
        try:
            self._load_cards(session)
        except ResourceMissing:
            self.view = "error"

    @rx.event
    def dismiss_banner(self) -> None:
        self.banner = ""

    def _finish(self, session: PortalSession, flows: Sequence[str], subscription_id: str,
                message: str, **values: str) -> Any:
        """After a completed action: the flow's ``after_completion``, else the overview."""
        done = completion(session, flows, subscription_id)
        if done.type == "redirect" and done.url:
            return rx.redirect(done.url)  # another origin: a full page load, same tab
        self._say(message, **values)
        if done.type == "hosted_confirmation":
            self.done_title = self.banner
            self.done_message = done.message
            self.banner = ""
            return rx.redirect(PORTAL_DONE)
        return rx.redirect(PORTAL)

    def _card_action(self, handler: str, nonce: str,
                     run: Callable[[PortalSession, UnitOfWork], object], message: str) -> None:
        uow = portal_state.unit_of_work()
        session = self._session(uow)
        if session is None:
            return
        try:
            with self._acting(session, handler, nonce):
                run(session, uow)
        except BillingError as error:
            self._refused(error)
        else:
            self._say(message)
        self._load_cards(session)

    @rx.event
    def reactivate(self, subscription_id: str, nonce: str) -> None:
        """"Don't cancel": keep the subscription renewing."""
        self._card_action("reactivate", nonce,
                          lambda s, uow: subscription_actions.reactivate(s, subscription_id, uow=uow),
                          _("Your subscription will continue."))

    @rx.event
    def resume(self, subscription_id: str, nonce: str) -> None:
        """"Resume now": lift a pause early."""
        self._card_action("resume", nonce,
                          lambda s, uow: subscription_actions.resume(s, subscription_id, uow=uow),
                          _("Your subscription is active again."))

    @rx.event
    def cancel_scheduled_change(self, subscription_id: str, nonce: str) -> None:
        """Drop the change waiting for the period end."""
        self._card_action("cancel_scheduled_change", nonce,
                          lambda s, uow: subscription_actions.cancel_scheduled_change(
                              s, subscription_id, uow=uow),
                          _("The scheduled change was canceled."))


def route_subscription(state: rx.State) -> str:
    """The subscription id of the page's route (from the browser: untrusted)."""
    return str(state.router.page.params.get("subscription", "") or "")


EMPTY_PREVIEW = PreviewView(
    subscription_id="", new_plan="", lines=[], has_discount=False, discount="",
    amount_due_now="", due_now_label="", next_invoice_date="", next_invoice_amount="",
    scheduled=False, scheduled_line="", version="", proration_date=0)


class UpdateState(ManageState):
    """The change-plan page: choose a price and quantity, preview, confirm."""

    step: str = "loading"  # loading | choose | preview | unavailable
    subscription_id: str = ""
    confirm_flow: bool = False  # a merchant's subscription_update_confirm link
    plan_name: str = ""
    items: rx.Field[list[ItemChoice]] = rx.field(default_factory=list)
    item_id: str = ""
    options: list[PriceOption] = []
    intervals: rx.Field[list[IntervalChoice]] = rx.field(default_factory=list)
    interval_key: str = ""
    current_price: str = ""
    current_quantity: int = 1
    price_id: str = ""
    quantity: int = 1
    price_enabled: bool = False
    quantity_enabled: bool = False
    quantity_min: int = 1
    quantity_max: int = 0
    promotion_code_enabled: bool = False
    promotion_code: str = ""
    metered_note: str = ""
    error: str = ""
    working: bool = False
    preview: PreviewView = EMPTY_PREVIEW

    @rx.var
    def shown_options(self) -> list[PriceOption]:
        """The prices of the toggle's current position."""
        return [o for o in self.options if o.interval_key == self.interval_key]

    @rx.var
    def can_decrease(self) -> bool:
        return self.quantity > self.quantity_min

    @rx.var
    def can_increase(self) -> bool:
        return self.quantity_max == 0 or self.quantity < self.quantity_max

    @rx.var
    def changed(self) -> bool:
        """Whether the customer picked something other than what they have."""
        return (self.price_id != self.current_price or self.quantity != self.current_quantity
                or self.promotion_code.strip() != "")

    @rx.var
    def preview_lines(self) -> list[PreviewLineView]:
        return self.preview.lines

    def _reset(self) -> None:
        self.banner, self.error, self.working = "", "", False
        self.preview = EMPTY_PREVIEW
        self.promotion_code = ""
        self.subscription_id = route_subscription(self)

    def _choose(self, session: PortalSession, item_id: str | None = None) -> None:
        try:
            chooser = plan_change.plan_chooser(session, self.subscription_id, locale=self.lang,
                                          uow=portal_state.unit_of_work(), item_id=item_id)
        except BillingError as error:
            self.step = "unavailable"
            self.error = error_message(error, locale=self.lang)
            return
        self.plan_name = chooser.current_line
        self.items, self.item_id = chooser.items, chooser.item_id
        self.options, self.intervals = chooser.options, chooser.intervals
        self.interval_key = chooser.interval_key
        self.current_price = self.price_id = chooser.price_id
        self.current_quantity = self.quantity = chooser.quantity
        self.price_enabled = chooser.price_enabled
        self.quantity_enabled = chooser.quantity_enabled
        self.quantity_min, self.quantity_max = chooser.quantity_min, chooser.quantity_max
        self.promotion_code_enabled = chooser.promotion_code_enabled
        self.metered_note = chooser.metered_note
        self.step = "choose"

    @rx.event
    def load(self) -> None:
        """The change-plan page for the route's subscription (on_load)."""
        self.step, self.confirm_flow = "loading", False
        self._reset()
        session = self._open()
        if session is not None:
            self._choose(session)

    @rx.event
    def load_confirm(self) -> None:
        """A merchant's ``subscription_update_confirm`` link: straight to the preview."""
        self.step, self.confirm_flow = "loading", True
        self._reset()
        session = self._open()
        if session is None:
            return
        try:
            self.preview = plan_change.preview_flow_confirm(session, self.subscription_id,
                                                            locale=self.lang,
                                                            uow=portal_state.unit_of_work())
        except BillingError as error:
            self.step = "unavailable"
            self.error = error_message(error, locale=self.lang)
            return
        self.plan_name = ""
        self.step = "preview"

    @rx.event
    def choose_item(self, item_id: str) -> None:
        uow = portal_state.unit_of_work()
        session = self._session(uow)
        if session is not None:
            self.error = ""
            self._choose(session, item_id)

    @rx.event
    def set_interval(self, key: str | list[str]) -> None:
        self.interval_key = key if isinstance(key, str) else (key[0] if key else "")

    @rx.event
    def choose_price(self, price_id: str) -> None:
        self.price_id, self.error = price_id, ""

    @rx.event
    def increase(self) -> None:
        if self.can_increase:
            self.quantity += 1
            self.error = ""

    @rx.event
    def decrease(self) -> None:
        if self.can_decrease:
            self.quantity -= 1
            self.error = ""

    @rx.event
    def set_promotion_code(self, code: str) -> None:
        self.promotion_code, self.error = code.strip()[:200], ""

    def _request(self) -> ChangeRequest:
        return ChangeRequest(subscription_id=self.subscription_id, item_id=self.item_id,
                             price_id=self.price_id, quantity=self.quantity,
                             promotion_code=self.promotion_code)

    @rx.event
    def review(self) -> None:
        """Preview the picked change."""
        uow = portal_state.unit_of_work()
        session = self._session(uow)
        if session is None:
            return
        self.error = ""
        try:
            self.preview = plan_change.preview_update(session, self._request(),
                                                      locale=self.lang, uow=uow)
        except BillingError as error:
            self.error = error_message(error, locale=self.lang)
            return
        self.step = "preview"

    @rx.event
    def back(self) -> None:
        self.step, self.error = "choose", ""

    @rx.event
    def confirm(self, nonce: str) -> Any:
        """Apply the previewed change (only if nothing changed since the preview)."""
        uow = portal_state.unit_of_work()
        session = self._session(uow)
        if session is None or self.working:
            return None
        self.working, self.error = True, ""
        try:
            # The preview's version and proration date: what is applied is what was shown.
            with self._acting(session, "confirm", nonce):
                if self.confirm_flow:
                    plan_changes.confirm_flow(session, self.subscription_id,
                                              version=self.preview.version,
                                              proration_date=self.preview.proration_date,
                                              uow=uow)
                else:
                    plan_changes.confirm_update(session, self._request(),
                                                version=self.preview.version,
                                                proration_date=self.preview.proration_date,
                                                uow=uow)
        except BillingError as error:
            self.working = False
            self.error = error_message(error, locale=self.lang)
            if error.code == "subscription_changed" and not self.confirm_flow:
                self.step = "choose"
            return None
        self.working = False
        scheduled = self.preview.scheduled
        return self._finish(session, UPDATE_FLOWS, self.subscription_id,
                            _("Your change is scheduled.") if scheduled
                            else _("Your plan was updated."))


class PauseState(ManageState):
    """The pause page: pick a duration, confirm."""

    step: str = "loading"  # loading | choose | unavailable
    subscription_id: str = ""
    product_name: str = ""
    options: list[PauseOption] = []
    choice: str = ""
    error: str = ""
    working: bool = False

    @rx.event
    def load(self) -> None:
        """The pause page for the route's subscription (on_load)."""
        self.step, self.banner, self.error, self.working = "loading", "", "", False
        self.subscription_id = route_subscription(self)
        session = self._open()
        if session is None:
            return
        try:
            view = subscriptions.pause_view(session, self.subscription_id, locale=self.lang,
                                            uow=portal_state.unit_of_work())
        except BillingError as error:
            self.step = "unavailable"
            self.error = error_message(error, locale=self.lang)
            return
        self.product_name, self.options = view.product_name, view.options
        self.choice = view.options[0].key if view.options else ""
        self.step = "choose"

    @rx.event
    def choose(self, key: str) -> None:
        self.choice, self.error = key, ""

    @rx.event
    def confirm(self, nonce: str) -> Any:
        """Pause for the chosen duration."""
        uow = portal_state.unit_of_work()
        session = self._session(uow)
        if session is None or self.working:
            return None
        self.working, self.error = True, ""
        try:
            with self._acting(session, "confirm", nonce):
                subscription_actions.pause(session, self.subscription_id, self.choice,
                                           uow=uow)
        except BillingError as error:
            self.working = False
            self.error = error_message(error, locale=self.lang)
            return None
        self.working = False
        return self._finish(session, ("subscription_pause",), self.subscription_id,
                            _("Your subscription is paused."))


class DoneState(ManageState):
    """The hosted confirmation after a flow (``after_completion=hosted_confirmation``)."""

    @rx.event
    def load(self) -> None:
        """Check the session; the message was set by the flow that completed."""
        self._open()
