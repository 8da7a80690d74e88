"""Mandates: the customer's recorded permission to debit their bank account.

A setup intent for a bank debit (SEPA, BECS, Bacs, ACSS, ACH, NZ) that succeeds with
``mandate_data[customer_acceptance]`` leaves a ``mandate``: how the customer accepted
(online: their IP address and browser; offline) and the scheme's own details
(``payment_method_details.<type>``: a SEPA reference, a Bacs network status, the BECS
Direct Debit Request service agreement...). The creditor is the merchant (the account's
business name), as the mandate page shows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from collections.abc import Mapping
from typing import Any

from portal_app.accounts.models import Account
from portal_app.billing import payment_method_types
from portal_app.billing.models import Mandate, PaymentMethod
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.routes import mandate_page
from portal_app.settings import get_settings

# Debits that need a mandate (the others are authorized on their own).
MANDATE_TYPES = payment_method_types.MANDATE_TYPES
BECS_SERVICE_AGREEMENT = "https://stripe.com/au-becs-dd-service-agreement/legal"
_REFERENCE_ALPHABET = string.ascii_uppercase + string.digits


def parse_acceptance(acceptance: Mapping[str, Any], *, param: str, accepted_at: int
                     ) -> dict[str, Any]:
    """Stripe's ``customer_acceptance`` from ``mandate_data[customer_acceptance]``.

    Raises InvalidRequest naming the missing or wrong field under ``param``.
    """
    kind = acceptance.get("type")
    if kind not in ("online", "offline"):
        raise InvalidRequest("Invalid customer_acceptance type: must be one of online, "
                             "offline.", param=f"{param}[type]")
    record: dict[str, Any] = {"type": kind, "accepted_at": acceptance.get("accepted_at")
                              or accepted_at, "online": None, "offline": None}
    if kind == "online":
        online = acceptance.get("online")
        if not isinstance(online, Mapping):
            raise InvalidRequest(f"Missing required param: {param}[online].",
                                 param=f"{param}[online]", code="parameter_missing")
        for field in ("ip_address", "user_agent"):
            if not online.get(field):
                raise InvalidRequest(f"Missing required param: {param}[online][{field}].",
                                     param=f"{param}[online][{field}]",
                                     code="parameter_missing")
        record["online"] = {"ip_address": str(online["ip_address"]),
                            "user_agent": str(online["user_agent"])}
    else:
        record["offline"] = {}
    return record


def mandate_mac(key: str, mandate_id: str) -> str:
    """The unguessable part of a mandate page's URL (an HMAC of its id)."""
    mac = hmac.new(key.encode(), f"mandate:{mandate_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def mandate_url(account: Account, mandate_id: str) -> str:
    """The absolute URL of the mandate's page: its text, creditor and acceptance."""
    return get_settings().public_url + mandate_page(
        account.id, mandate_id, mandate_mac(account.fingerprint_key, mandate_id))


def _reference() -> str:
    return "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(16))


def scheme_details(pm: PaymentMethod, *, account: Account, mandate_id: str
                   ) -> dict[str, Any]:
    """``payment_method_details.<type>`` of a new mandate for ``pm`` (Stripe's fields)."""
    if pm.type == "sepa_debit":
        return {"reference": _reference(), "url": mandate_url(account, mandate_id)}
    if pm.type == "bacs_debit":
        return {"reference": _reference(), "network_status": "accepted",
                "display_name": account.business_name, "service_user_number": None,
                "revocation_reason": None, "url": mandate_url(account, mandate_id)}
    if pm.type == "au_becs_debit":
        return {"url": BECS_SERVICE_AGREEMENT}
    if pm.type == "acss_debit":
        return {"default_for": [], "interval_description": None,
                "payment_schedule": "sporadic", "transaction_type": "personal"}
    if pm.type == "us_bank_account":
        return {"collection_method": None}
    return {}


def create_mandate(pm: PaymentMethod, *, acceptance: dict[str, Any], account_id: str,
                   uow: UnitOfWork) -> Mandate:
    """A new active multi-use mandate of ``pm``'s customer, as accepted."""
    with uow:
        account = uow.get(Account, account_id, account_id=account_id, label="account")
        mandate = Mandate(account_id=account_id, customer_id=pm.customer_id,
                          payment_method_id=pm.id, customer_acceptance=acceptance,
                          created=uow.clock())
        mandate.method_details = scheme_details(pm, account=account, mandate_id=mandate.id)
        uow.add(mandate)
        uow.flush()
        uow.commit()
        return mandate


def retrieve_mandate(mandate_id: str, *, account_id: str, uow: UnitOfWork,
                     customer_id: str | None = None) -> tuple[Mandate, PaymentMethod]:
    """A mandate and its payment method; with ``customer_id``, only that customer's.

    Raises ResourceMissing.
    """
    with uow:
        mandate = uow.get(Mandate, mandate_id, account_id=account_id, param="mandate",
                          label="mandate", customer_id=customer_id)
        pm = uow.get(PaymentMethod, mandate.payment_method_id, account_id=account_id,
                     label="PaymentMethod")
        return mandate, pm


def retrieve_mandate_document(mandate_id: str, *, mac: str, account_id: str, uow: UnitOfWork
                              ) -> tuple[Mandate, PaymentMethod, Account]:
    """The mandate a page URL names, if its ``mac`` is right. Raises ResourceMissing."""
    with uow:
        account = uow.get(Account, account_id, account_id=account_id, label="account")
        expected = mandate_mac(account.fingerprint_key, mandate_id)
        if not hmac.compare_digest(expected.encode(), mac.encode()):
            raise ResourceMissing(f"No such mandate: '{mandate_id}'", param="mandate")
        mandate, pm = retrieve_mandate(mandate_id, account_id=account_id, uow=uow)
        return mandate, pm, account


def acceptance_now(uow: UnitOfWork) -> int:
    """``accepted_at`` for an acceptance recorded now (unix)."""
    return int(uow.clock().timestamp())
