"""Portal sessions: short-lived links, bound to the first browser that opens them.

The link carries a 256-bit random token; the table keeps only its SHA-256
digest. Opening the link within :data:`OPEN_WITHIN` binds the session to that
browser with a second random secret (an HttpOnly cookie, also stored as a
digest); afterwards only that cookie reaches the session, and only while it
has been used within :data:`IDLE_TIMEOUT`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import CursorResult, update
from sqlmodel import col, select

from portal_app import i18n
from portal_app.accounts.models import Account
from portal_app.billing.provider import BillingProvider, StripeObject
from portal_app.billing.providers import billing_provider
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing, SessionExpired
from portal_app.portal.configurations import default_configuration, found, validate_url
from portal_app.portal.models import PortalConfiguration, PortalSession
from portal_app.routes import portal_link
from portal_app.settings import get_settings

OPEN_WITHIN = timedelta(minutes=5)
IDLE_TIMEOUT = timedelta(hours=1)
TOUCH_EVERY = timedelta(seconds=30)  # don't write on every click

# Stripe's billing_portal.session locales.
LOCALES = ["auto", "bg", "cs", "da", "de", "el", "en", "en-AU", "en-CA", "en-GB", "en-IE", "en-IN", "en-NZ", "en-SG", "es", "es-419", "et", "fi", "fil", "fr", "fr-CA", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK", "zh-TW"]
FLOW_TYPES = ("customer_update", "payment_method_update", "subscription_cancel",
              "subscription_pause", "subscription_update", "subscription_update_confirm")
AFTER_COMPLETION = ("hosted_confirmation", "portal_homepage", "redirect")


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (no salt needed at 256 bits)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def portal_url(token: str) -> str:
    """The public link that opens a session."""
    return get_settings().public_url + portal_link(token)


@dataclass(frozen=True)
class CreatedSession:
    """A new session and its URL: the token exists only here, never in the table."""

    session: PortalSession
    url: str


def accepted_locales() -> list[str]:
    """Stripe's locales, plus any language Portico has a catalog for (Arabic, ...)."""
    return [*LOCALES, *(lang for lang in i18n.available_locales() if lang not in LOCALES)]


def create_session(
    *,
    account_id: str,
    uow: UnitOfWork,
    customer: str,
    configuration: str | None = None,
    return_url: str | None = None,
    locale: str | None = None,
    on_behalf_of: str | None = None,
    flow_data: Mapping[str, Any] | None = None,
) -> CreatedSession:
    """Create a portal session for ``customer``. Raises InvalidRequest, ResourceMissing."""
    accepted = accepted_locales()
    if locale is not None and locale not in accepted:
        raise InvalidRequest(f"Invalid locale: must be one of {', '.join(accepted)}",
                             param="locale")
    with uow:
        billing = billing_provider(account_id, uow=uow)
        customer_id = found(billing.retrieve_customer, customer, param="customer")["id"]
        if configuration:
            config = uow.get(PortalConfiguration, configuration, account_id=account_id,
                             param="configuration", label="configuration")
            if not config.active:
                raise InvalidRequest(f"The configuration {config.id} is not active.",
                                     param="configuration")
        else:
            config = default_configuration(account_id=account_id, uow=uow)
        if return_url:
            validate_url(return_url, "return_url")
            _check_origin(return_url, config, param="return_url")
        else:
            return_url = config.default_return_url
        flow = _normalize_flow(flow_data, customer_id=customer_id, billing=billing,
                               config=config) if flow_data else None
        token = secrets.token_urlsafe(32)  # 256 bits
        session = PortalSession(
            account_id=account_id, configuration_id=config.id, customer_id=customer_id,
            token_digest=digest(token), return_url=return_url, locale=locale,
            on_behalf_of=on_behalf_of, flow=flow, created=uow.clock(),
        )
        uow.add(session)
        uow.flush()
        uow.commit()
        return CreatedSession(session=session, url=portal_url(token))


def _check_origin(url: str, config: PortalConfiguration, *, param: str) -> None:
    if not config.allowed_return_origins:
        return
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" not in config.allowed_return_origins:
        raise InvalidRequest(
            f"The URL {url} is not on the allowed return origins of configuration {config.id}.",
            param=param, code="url_invalid")


def _normalize_flow(flow_data: Mapping[str, Any], *, customer_id: str,
                    billing: BillingProvider, config: PortalConfiguration) -> dict[str, Any]:
    kind = flow_data.get("type")
    if kind not in FLOW_TYPES:
        raise InvalidRequest(f"Invalid flow_data[type]: must be one of {', '.join(FLOW_TYPES)}",
                             param="flow_data[type]")
    after = dict(flow_data.get("after_completion") or {"type": "portal_homepage"})
    after_type = after.get("type")
    if after_type not in AFTER_COMPLETION:
        raise InvalidRequest("Invalid flow_data[after_completion][type]",
                             param="flow_data[after_completion][type]")
    redirect = None
    hosted = None
    if after_type == "redirect":
        url = (after.get("redirect") or {}).get("return_url")
        if not url:
            raise InvalidRequest(
                "Missing required param: flow_data[after_completion][redirect][return_url].",
                param="flow_data[after_completion][redirect][return_url]",
                code="parameter_missing")
        param = "flow_data[after_completion][redirect][return_url]"
        url = validate_url(url, param)
        _check_origin(url, config, param=param)  # the same allow-list as return_url
        redirect = {"return_url": url}
    elif after_type == "hosted_confirmation":
        hosted = {"custom_message": (after.get("hosted_confirmation") or {}).get("custom_message")}
    flow: dict[str, Any] = {
        "after_completion": {"hosted_confirmation": hosted, "redirect": redirect,
                             "type": after_type},
        "customer_update": None, "subscription_cancel": None, "subscription_pause": None,
        "subscription_update": None, "subscription_update_confirm": None, "type": kind,
    }
    if kind == "customer_update":
        flow["customer_update"] = {}
    if kind in ("subscription_cancel", "subscription_pause", "subscription_update",
                "subscription_update_confirm"):
        given = flow_data.get(kind) or {}
        sub = _customer_subscription(given.get("subscription"), customer_id=customer_id,
                                     billing=billing, param=f"flow_data[{kind}][subscription]")
        detail: dict[str, Any] = {"subscription": sub["id"]}
        if kind == "subscription_cancel":
            detail["retention"] = _normalize_retention(given.get("retention"), billing=billing)
        if kind == "subscription_update_confirm":
            detail["items"] = _normalize_confirm_items(given.get("items"), sub=sub,
                                                       billing=billing)
            detail["discounts"] = [
                {"coupon": d.get("coupon"), "promotion_code": d.get("promotion_code")}
                for d in (given.get("discounts") or [])
            ]
            for i, d in enumerate(detail["discounts"]):
                if d["coupon"]:
                    found(billing.retrieve_coupon, d["coupon"],
                          param=f"flow_data[{kind}][discounts][{i}][coupon]")
                if d["promotion_code"]:
                    found(billing.retrieve_promotion_code, d["promotion_code"],
                          param=f"flow_data[{kind}][discounts][{i}][promotion_code]")
        flow[kind] = detail
    return flow


def _customer_subscription(subscription_id: Any, *, customer_id: str, billing: BillingProvider,
                           param: str) -> StripeObject:
    if not subscription_id:
        raise InvalidRequest(f"Missing required param: {param}.", param=param,
                             code="parameter_missing")
    # The merchant asks (not the customer): any subscription of the account, then the check
    # that says whose it is rather than pretending it does not exist.
    sub = found(lambda sub_id: billing.retrieve_subscription(sub_id, customer_id=None),
                str(subscription_id), param=param)
    if sub["customer"] != customer_id:
        raise InvalidRequest(f"The subscription {sub['id']} does not belong to {customer_id}.",
                             param=param)
    return sub


def _normalize_retention(retention: Any, *, billing: BillingProvider) -> dict[str, Any] | None:
    if not retention:
        return None
    if retention.get("type") != "coupon_offer":
        raise InvalidRequest("Invalid flow_data[subscription_cancel][retention][type]",
                             param="flow_data[subscription_cancel][retention][type]")
    coupon = (retention.get("coupon_offer") or {}).get("coupon")
    found(billing.retrieve_coupon, coupon,
          param="flow_data[subscription_cancel][retention][coupon_offer][coupon]")
    return {"coupon_offer": {"coupon": coupon}, "type": "coupon_offer"}


def _normalize_confirm_items(items: Any, *, sub: StripeObject, billing: BillingProvider
                             ) -> list[dict[str, Any]]:
    param = "flow_data[subscription_update_confirm][items]"
    if not items:
        raise InvalidRequest(f"Missing required param: {param}.", param=param,
                             code="parameter_missing")
    own_items = {item["id"] for item in sub["items"]["data"]}
    out = []
    for i, item in enumerate(items):
        item_id = item.get("id")
        if item_id and item_id not in own_items:
            raise ResourceMissing(f"No such subscription item: '{item_id}'",
                                  param=f"{param}[{i}][id]")
        if item.get("price"):
            found(billing.retrieve_price, item["price"], param=f"{param}[{i}][price]")
        quantity = item.get("quantity")
        out.append({"id": item_id, "price": item.get("price"),
                    "quantity": int(quantity) if quantity not in (None, "") else None})
    return out


# --- opening and using a session ---------------------------------------------------------


@dataclass(frozen=True)
class OpenedSession:
    """The session a link or cookie reached, and (on first open) the cookie to set."""

    session: PortalSession
    browser_secret: str | None


def _expired(session: PortalSession | None, uow: UnitOfWork) -> SessionExpired:
    if session is None:
        return SessionExpired()
    account = uow.session.get(Account, session.account_id)
    return SessionExpired(return_url=session.return_url, locale=session.locale,
                          business_name=account.business_name if account else None)


def open_session(token: str, *, browser_secret: str | None, uow: UnitOfWork) -> OpenedSession:
    """Open a link: bind it to this browser the first time, recognise it afterwards.

    Raises SessionExpired: unknown token, opened too late, idle too long, or
    already bound to another browser.
    """
    with uow:
        now = uow.clock()
        session = uow.session.exec(
            select(PortalSession).where(PortalSession.token_digest == digest(token))
        ).first()
        if session is None:
            raise _expired(None, uow)
        if session.opened_at is None:
            if now - session.created > OPEN_WITHIN:
                raise _expired(session, uow)
            secret = secrets.token_urlsafe(32)
            # Two browsers may open one link at once: the conditional UPDATE lets exactly
            # one bind (on PostgreSQL the loser waits for the row, then matches nothing).
            bound: CursorResult[Any] = uow.session.execute(  # type: ignore[assignment]
                update(PortalSession)
                .where(col(PortalSession.id) == session.id,
                       col(PortalSession.opened_at).is_(None))
                .values(browser_digest=digest(secret), opened_at=now, last_activity_at=now)
                .execution_options(synchronize_session=False))
            if bound.rowcount != 1:
                raise _expired(session, uow)
            uow.session.refresh(session)
            uow.commit()
            return OpenedSession(session=session, browser_secret=secret)
        if browser_secret is None or session.browser_digest is None or not hmac.compare_digest(
            session.browser_digest, digest(browser_secret)
        ):
            raise _expired(session, uow)
        _touch(session, now=now, uow=uow)
        uow.commit()
        return OpenedSession(session=session, browser_secret=None)


def resume_session(browser_secret: str | None, *, uow: UnitOfWork) -> PortalSession:
    """The live session bound to this browser's cookie; each use keeps it alive.

    Raises SessionExpired.
    """
    with uow:
        if not browser_secret:
            raise _expired(None, uow)
        session = uow.session.exec(
            select(PortalSession).where(PortalSession.browser_digest == digest(browser_secret))
        ).first()
        if session is None:
            raise _expired(None, uow)
        _touch(session, now=uow.clock(), uow=uow)
        uow.commit()
        return session


def _touch(session: PortalSession, *, now: datetime, uow: UnitOfWork) -> None:
    last = session.last_activity_at or session.created
    if now - last > IDLE_TIMEOUT:
        raise _expired(session, uow)
    if now - last >= TOUCH_EVERY:
        session.last_activity_at = now
        uow.add(session)
