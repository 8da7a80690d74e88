"""What the console's retention pages share: the account's catalog, form errors, refusals.

Every handler of the offers and experiments pages goes through
:meth:`ConsoleState._call`: it asks again who is signed in and passes that
identity's account to the retention services, so an offer, experiment, variant
or configuration id that arrives from the browser is looked up within that
account only (a crafted id of another merchant is "not found"). Forms are read
by ``console/offer_forms.py`` and ``console/experiment_forms.py``, rows built by
``console/offer_views.py`` and ``console/experiment_views.py``, refusals worded
by ``console/wording.py``; the rules and every number of a read-out come from
the retention services and ``analytics/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reflex.event import EventSpec
from sqlalchemy.exc import SQLAlchemyError

from portal_app.accounts.services import ConsoleIdentity
from portal_app.console.forms import Choice, FieldProblem
from portal_app.console.strings import ct
from portal_app.console.wording import error_message, field_of, reason_label
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest
from portal_app.portal.configurations import CANCELLATION_REASONS
from portal_app.retention import choices
from portal_app.retention.choices import PriceChoice
from portal_app.state.console import ConsoleState, Refusal, Refused


def load_error() -> str:
    """What a retention page says when the database could not be read."""
    return ct("This page could not be loaded. Please try again.")


def reason_choices() -> list[Choice]:
    """Stripe's eight cancellation reasons, for checkboxes."""
    return [Choice(value=r, label=reason_label(r)) for r in CANCELLATION_REASONS]


class RetentionState(ConsoleState):
    """What the offers and experiments pages share: the catalog loader and form errors."""

    # Reflex keeps a parent's vars in the parent's instance, shared by every page below
    # it: each page's State declares its own ``status`` and form errors instead.
    if TYPE_CHECKING:
        status: str
        form_error: str
        error_field: str
        defaults: dict[str, str]  # initial values of a dialog's uncontrolled inputs

    def _load(self, identity: ConsoleIdentity, uow: UnitOfWork) -> None:
        """Read the page's data for ``identity``'s account into its vars (each page's own)."""
        raise NotImplementedError

    def _failed(self, error: Exception) -> None:
        """The page could not be read: it offers a retry."""
        self.status = "error"

    def _fetch(self) -> EventSpec | None:
        """Read the page again for the signed-in account (or go to the sign-in page)."""
        loaded = self._call(self._load, refused=self._failed)
        if isinstance(loaded, Refused):
            return loaded.effect
        self.status = "ready"
        return None

    def _form_refused(self, error: Exception) -> None:
        """Show a refusal beside its field (or above the form)."""
        if isinstance(error, FieldProblem):
            self.error_field, self.form_error = error.field, error.message
        elif isinstance(error, InvalidRequest):
            self.error_field, self.form_error = field_of(error), error_message(error)
        elif isinstance(error, SQLAlchemyError):
            self.error_field, self.form_error = "", load_error()
        else:
            self.error_field, self.form_error = "", str(error)

    def _toast_refused(self, missing: str | None = None) -> Refusal:
        """Refusals as a toast (``missing`` for an object that is not the account's)."""
        return self._toast(unavailable=load_error(), missing=missing)

    def _clear_error(self) -> None:
        self.form_error = self.error_field = ""

    @staticmethod
    def _catalog(account_id: str, uow: UnitOfWork
                 ) -> tuple[dict[str, str], dict[str, PriceChoice]]:
        """The account's products (id -> name) and prices (id -> choice)."""
        prices = {p.id: p for p in choices.list_price_choices(account_id=account_id, uow=uow)}
        products = {p.product_id: p.product_name for p in prices.values()}
        return products, prices
