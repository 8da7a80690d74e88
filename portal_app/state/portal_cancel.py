"""The cancel flow's page State: reason -> offer -> confirm -> canceled or saved.

Every handler re-checks the session (:meth:`PortalState._require_session`) and
hands it to :mod:`portal_app.views.cancel`, whose retention services look every
id up within the session's own customer and flows. The flow and offer ids live in
backend-only vars (never sent to the browser, never set by it); the reason a
browser sends is only a choice the service checks against the configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import reflex as rx

from portal_app.db import UnitOfWork
from portal_app.errors import BillingError, ResourceMissing
from portal_app.portal.deep_links import completion
from portal_app.portal.models import PortalSession
from portal_app.retention.flows import COMMENT_MAX_LENGTH
from portal_app.routes import PORTAL, PORTAL_DONE
from portal_app.state import portal as portal_state
from portal_app.state.portal_manage import ManageState, route_subscription
from portal_app.views import cancel
from portal_app.views.cancel import NO_OFFER, OfferCard, ReasonChoice

CANCEL_FLOWS = ("subscription_cancel",)


class CancelState(ManageState):
    """The cancel page of one subscription."""

    step: str = "loading"  # loading | choose | reason | offer | confirm | done | saved | unavailable
    subscription_id: str = ""
    product_name: str = ""
    amount: str = ""
    immediately: bool = False
    ends_line: str = ""
    detail: str = ""
    reasons: list[ReasonChoice] = []
    reason: str = ""
    comment: str = ""
    comment_required: bool = False
    comment_max: rx.Field[int] = rx.field(COMMENT_MAX_LENGTH)  # a Var in components: .to_string()
    offer: OfferCard = NO_OFFER
    outcome_title: str = ""
    outcome_message: str = ""
    contact_url: str = ""
    error: str = ""
    working: bool = False
    _flow_id: str = ""  # backend only: the browser never sees or sets it

    @rx.var
    def has_reasons(self) -> bool:
        return len(self.reasons) > 0

    @rx.var
    def plan_line(self) -> str:
        """"Growth · €30.00 per month" under the title while choosing (the summary shows it
        on the other steps)."""
        if self.step not in ("reason", "offer") or not self.product_name:
            return ""
        return f"{self.product_name} · {self.amount}"

    @rx.var
    def comment_length(self) -> int:
        return len(self.comment)

    def _begin(self) -> None:
        self.banner, self.error, self.working = "", "", False
        self.reason, self.comment, self.offer = "", "", NO_OFFER
        self.outcome_title = self.outcome_message = self.contact_url = ""
        self._flow_id = ""

    def _fail(self, error: BillingError) -> None:
        self.working = False
        self.error = cancel.error_message(error, locale=self.lang)

    def _call(self, action: Callable[[PortalSession, UnitOfWork], Any], *, handler: str,
              nonce: str, missing_ends_flow: bool = False) -> tuple[PortalSession, Any] | None:
        """Run one step of the flow on the re-checked session, as the action ``handler``
        clicked with ``nonce`` (:meth:`PortalState._acting`).

        Returns the session and the step's result, or None when the session has
        lapsed (the expired view shows) or the service refused (the error shows;
        with ``missing_ends_flow`` a vanished flow or subscription ends the page).
        """
        def refused(error: BillingError) -> None:
            self._fail(error)
            if missing_ends_flow and isinstance(error, ResourceMissing):
                self.step = "unavailable"

        done = self._run(action, refused, handler=handler, nonce=nonce)
        if done is not None:
            self.working = False
        return done

    @rx.event
    def load(self) -> None:
        """The cancel page for the route's subscription (on_load): the flow starts here."""
        self.step = "loading"
        self._begin()
        self.subscription_id = route_subscription(self)
        session = self._open()
        if session is None:
            return
        try:
            opened = cancel.start(session, self.subscription_id, locale=self.lang,
                                  uow=portal_state.unit_of_work())
        except BillingError as error:
            self.step = "unavailable"
            self.error = cancel.error_message(error, locale=self.lang)
            return
        self._flow_id = opened.flow_id
        self.product_name, self.amount = opened.product_name, opened.amount
        self.immediately, self.ends_line = opened.immediately, opened.ends_line
        self.detail = opened.detail
        self.reasons, self.comment_required = opened.reasons, opened.comment_required
        self.reason, self.comment = opened.reason, opened.comment
        if opened.status == "offer_presented":  # back on the page: the offer still waits
            self.offer, self.step = opened.offer, "offer"
        elif opened.status == "offer_declined":
            self.step = "confirm"
        else:
            self.step = "reason" if self.reasons else "choose"

    @rx.event
    def choose_reason(self, key: str) -> None:
        """Pick an answer (the service checks it against the configuration's options)."""
        self.reason, self.error = key, ""

    @rx.event
    def set_comment(self, text: str) -> None:
        self.comment, self.error = text[:COMMENT_MAX_LENGTH], ""

    @rx.event
    def submit_reason(self, nonce: str) -> Iterator[Any]:
        """Send the answer: on to the offer the service chose, or to confirm."""
        if self.working:
            return
        self.working, self.error = True, ""
        yield
        done = self._call(lambda session, uow: cancel.submit_reason(
            session, self._flow_id, self.reason, self.comment, locale=self.lang, uow=uow),
            handler="submit_reason", nonce=nonce)
        if done is None:
            return
        offer = done[1]
        self.offer = offer or NO_OFFER
        self.step = "offer" if offer is not None else "confirm"

    @rx.event
    def accept_offer(self, nonce: str) -> Iterator[Any]:
        """Take the offer on screen (the service accepts only the one it presented)."""
        if self.working or self.step != "offer":
            return
        self.working, self.error = True, ""
        yield
        done = self._call(lambda session, uow: cancel.accept_offer(
            session, self._flow_id, self.offer.id, locale=self.lang, uow=uow),
            handler="accept_offer", nonce=nonce)
        if done is not None:
            yield self._complete(done[0], done[1], "saved")

    @rx.event
    def decline_offer(self, nonce: str) -> Iterator[Any]:
        """"No thanks": on to confirm."""
        if self.working:
            return
        self.working, self.error = True, ""
        yield
        if self._call(lambda session, uow: cancel.decline_offer(session, self._flow_id, uow=uow),
                      handler="decline_offer", nonce=nonce) is not None:
            self.step = "confirm"

    @rx.event
    def back(self) -> None:
        """From confirm back to the reason (or the summary)."""
        self.error = ""
        if self.step in ("confirm", "offer"):
            self.step = "reason" if self.reasons else "choose"

    @rx.event
    def proceed(self, nonce: str) -> Iterator[Any]:
        """The summary's "Cancel subscription" when no reason is asked: an offer, or confirm."""
        if self.working or self.step != "choose":
            return
        self.working, self.error = True, ""
        yield
        done = self._call(lambda session, uow: cancel.submit_reason(
            session, self._flow_id, None, "", locale=self.lang, uow=uow),
            handler="proceed", nonce=nonce)
        if done is None:
            return
        offer = done[1]
        self.offer = offer or NO_OFFER
        self.step = "offer" if offer is not None else "confirm"

    @rx.event
    def confirm(self, nonce: str) -> Iterator[Any]:
        """Cancel as the configuration says (now or at period end)."""
        if self.working:
            return
        self.working, self.error = True, ""
        yield
        done = self._call(lambda session, uow: cancel.confirm_cancel(
            session, self._flow_id, locale=self.lang, uow=uow),
            handler="confirm", nonce=nonce, missing_ends_flow=True)
        if done is not None:
            yield self._complete(done[0], done[1], "done")

    def _complete(self, session: PortalSession, outcome: cancel.Outcome, step: str) -> Any:
        """The session flow's ``after_completion``, else the outcome on this page."""
        finished = completion(session, CANCEL_FLOWS, self.subscription_id)
        if finished.type == "redirect" and finished.url:
            return rx.redirect(finished.url)
        if finished.type == "hosted_confirmation":
            self.done_title, self.done_message = outcome.title, finished.message
            return rx.redirect(PORTAL_DONE)
        self.outcome_title, self.outcome_message = outcome.title, outcome.message
        self.contact_url = outcome.contact_url
        self.step = step
        return None

    @rx.event
    def to_overview(self) -> Any:
        return rx.redirect(PORTAL)

