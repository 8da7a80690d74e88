"""The console's Billing panel (overview page): which provider the account bills through
and, for a Stripe-backed account, importing its Stripe portal configurations."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from portal_app.accounts.billing_settings import billing_summary
from portal_app.console.strings import ct
from portal_app.portal.configuration_import import import_stripe_configurations
from portal_app.state.console import ConsoleState, Refused


class BillingState(ConsoleState):
    """The account's billing as the panel shows it (a key's hint, never a secret)."""

    loaded: bool = False
    through_stripe: bool = False
    key_hint: str = ""
    api_base: str = ""
    webhook_url: str = ""
    has_webhook_secret: bool = False
    importing: bool = False

    @rx.event
    def load(self) -> EventSpec | None:
        """Read which billing the signed-in account uses."""
        summary = self._call(
            lambda identity, uow: billing_summary(identity.account_id, uow=uow),
            refused=self._toast(unavailable=ct("The billing settings could not be loaded.")))
        if isinstance(summary, Refused):
            return summary.effect
        self.through_stripe = summary.through_stripe
        self.key_hint = summary.key_hint or ""
        self.api_base = summary.api_base or ""
        self.webhook_url = summary.webhook_url or ""
        self.has_webhook_secret = summary.has_webhook_secret
        self.loaded = True
        return None

    @rx.event
    def import_configurations(self):
        """Copy the Stripe account's portal configurations (again: update them)."""
        self.importing = True
        yield
        result = self._call(
            lambda identity, uow: import_stripe_configurations(identity.account_id, uow=uow),
            refused=self._toast(unavailable=ct("The configurations could not be imported. "
                                               "Please try again.")))
        self.importing = False
        if isinstance(result, Refused):
            yield result.effect
            return
        yield rx.toast.success(ct(
            "Imported {total} configuration(s) from Stripe: {created} new, {updated} "
            "updated, {unchanged} unchanged.", total=result.total,
            created=len(result.created), updated=len(result.updated),
            unchanged=len(result.unchanged)))
