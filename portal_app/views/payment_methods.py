"""The payment methods page as view models: each method the way its owner recognises it,
and the add form of each type.

A card reads ``Visa •••• 4242`` / ``Expires 12/28`` (with an "Expired" or "Expires soon"
badge), a bank debit its bank or bank code and last four digits, a wallet its name and
email. The add form has one set of fields per type (:data:`FORMS`: label, placeholder,
``autocomplete``, ``inputmode``, and the Stripe parameters each fills), is formatted as
the customer types (:func:`format_field`), turns into Stripe's ``payment_method_data``
(:func:`payment_method_data`), and takes the provider's errors back to the field they
concern (:func:`field_error`: ``sepa_debit[iban]`` is the IBAN field). Debits show their
mandate before they are sent, with the merchant as creditor (:data:`MANDATES`).

Everything here is text already translated in the customer's locale; what the customer
may do comes from :mod:`portal_app.portal.payment_method_actions`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from portal_app import i18n
from portal_app.accounts.models import Account
from portal_app.billing.provider import (
    format_payment_method_field,
)
from portal_app.db import UnitOfWork
from portal_app.errors import BillingError, InvalidRequest
from portal_app.i18n import _
from portal_app.portal import payment_method_actions
from portal_app.portal.models import PortalSession
from portal_app.portal.payment_method_actions import Wallet
from portal_app.views.payment_method_text import (
    TYPE_NAMES,
    MethodView,
    method_view,
    type_icon,
)


@dataclass
class TypeChoice:
    """One type of the add form's picker."""

    type: str
    label: str
    icon: str


@dataclass
class MethodsPage:
    """Everything the payment methods page shows."""

    methods: list[MethodView] = field(default_factory=list)
    choices: list[TypeChoice] = field(default_factory=list)
    enabled: bool = False
    business_name: str = ""
    customer_email: str = ""


def type_choices(types: tuple[str, ...], *, locale: str) -> list[TypeChoice]:
    """The picker's entries, in the order of ``types``."""
    return [TypeChoice(type=kind, label=i18n.gettext(locale, TYPE_NAMES.get(kind, kind)),
                       icon=type_icon(kind)) for kind in types if kind in FORMS]


def methods_page(wallet: Wallet, *, business_name: str, customer_email: str, locale: str,
                 now: datetime) -> MethodsPage:
    """The page of a :class:`Wallet` in ``locale`` (pure: tests build wallets by hand)."""
    return MethodsPage(
        methods=[method_view(pm, default_id=wallet.default_id, locale=locale, now=now)
                 for pm in wallet.methods],
        choices=type_choices(wallet.allowed_types, locale=locale),
        enabled=wallet.enabled, business_name=business_name, customer_email=customer_email)


def load_methods_page(session: PortalSession, *, locale: str, uow: UnitOfWork) -> MethodsPage:
    """The session customer's payment methods page. Raises ResourceMissing."""
    with uow:
        account = uow.get(Account, session.account_id, account_id=session.account_id,
                          label="account")
        found = payment_method_actions.load_wallet(session, uow=uow)
        return methods_page(found, business_name=account.business_name,
                            customer_email=found.customer_email, locale=locale,
                            now=uow.clock())


# --- the add form ------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One input of a type's form."""

    key: str  # the form's own name; the Stripe parameter(s) it fills are ``params``
    label: str
    placeholder: str = ""
    autocomplete: str = "off"
    input_mode: str = "text"  # text | numeric | email
    max_length: int = 64
    params: tuple[str, ...] = ()  # "card[number]", "billing_details[name]"
    half: bool = False  # shares its row with the next half field (expiry beside CVC)


@dataclass
class FieldView:
    """One input as the page shows it, with what was typed and its error."""

    key: str
    label: str
    placeholder: str
    autocomplete: str
    input_mode: str
    max_length: int
    half: bool = False
    value: str = ""
    error: str = ""


def _holder(*extra: str) -> FieldSpec:
    return FieldSpec("name", _("Account holder name"), autocomplete="name", max_length=100,
                     params=("billing_details[name]", *extra))


FORMS: dict[str, tuple[FieldSpec, ...]] = {
    "card": (
        FieldSpec("number", _("Card number"), "1234 1234 1234 1234", "cc-number", "numeric",
                  23, ("card[number]",)),
        FieldSpec("expiry", _("Expiry date"), _("MM / YY"), "cc-exp", "numeric", 7,
                  ("card[exp_month]", "card[exp_year]"), half=True),
        FieldSpec("cvc", _("Security code"), "CVC", "cc-csc", "numeric", 4, ("card[cvc]",),
                  half=True),
        FieldSpec("name", _("Name on card"), autocomplete="cc-name", max_length=100,
                  params=("billing_details[name]",)),
    ),
    "sepa_debit": (
        _holder(),
        FieldSpec("iban", "IBAN", "DE00 0000 0000 0000 0000 00", "off", "text", 42,
                  ("sepa_debit[iban]",)),
    ),
    "au_becs_debit": (
        _holder(),
        FieldSpec("bsb_number", "BSB", "000-000", "off", "numeric", 7,
                  ("au_becs_debit[bsb_number]",)),
        FieldSpec("account_number", _("Account number"), "000123456", "off", "numeric", 9,
                  ("au_becs_debit[account_number]",)),
    ),
    "bacs_debit": (
        _holder(),
        FieldSpec("sort_code", _("Sort code"), "00-00-00", "off", "numeric", 8,
                  ("bacs_debit[sort_code]",)),
        FieldSpec("account_number", _("Account number"), "00012345", "off", "numeric", 8,
                  ("bacs_debit[account_number]",)),
    ),
    "acss_debit": (
        _holder(),
        FieldSpec("transit_number", _("Transit number"), "12345", "off", "numeric", 5,
                  ("acss_debit[transit_number]",)),
        FieldSpec("institution_number", _("Institution number"), "000", "off", "numeric", 3,
                  ("acss_debit[institution_number]",)),
        FieldSpec("account_number", _("Account number"), "000123456789", "off", "numeric",
                  12, ("acss_debit[account_number]",)),
    ),
    "us_bank_account": (
        _holder(),
        FieldSpec("routing_number", _("Routing number"), "110000000", "off", "numeric", 9,
                  ("us_bank_account[routing_number]",)),
        FieldSpec("account_number", _("Account number"), "000123456789", "off", "numeric",
                  17, ("us_bank_account[account_number]",)),
    ),
    "nz_bank_account": (
        _holder("nz_bank_account[account_holder_name]"),
        FieldSpec("bank_code", _("Bank"), "01", "off", "numeric", 2,
                  ("nz_bank_account[bank_code]",)),
        FieldSpec("branch_code", _("Branch"), "0000", "off", "numeric", 4,
                  ("nz_bank_account[branch_code]",)),
        FieldSpec("account_number", _("Account number"), "0000000", "off", "numeric", 8,
                  ("nz_bank_account[account_number]",)),
        FieldSpec("suffix", _("Suffix"), "000", "off", "numeric", 4,
                  ("nz_bank_account[suffix]",)),
    ),
    # Wallets and redirect types: no fields here, the customer authorizes on the
    # provider's page (Portico's test authorization page in test mode).
    **{kind: () for kind in ("link", "paypal", "cashapp", "amazon_pay", "revolut_pay",
                             "kakao_pay", "naver_pay", "samsung_pay", "kr_card")},
}

# The mandate each debit shows before it is sent; {business} is the creditor.
MANDATES: dict[str, str] = {
    "sepa_debit": _(
        "By providing your IBAN and confirming, you authorise {business} to send "
        "instructions to your bank to debit your account, and your bank to debit your "
        "account in accordance with those instructions. You are entitled to a refund "
        "from your bank under the terms and conditions of your agreement with your bank. "
        "A refund must be claimed within 8 weeks starting from the date on which your "
        "account was debited."),
    "au_becs_debit": _(
        "By providing your bank account details, you agree to this Direct Debit Request "
        "and the Direct Debit Request service agreement, and authorise {business} to "
        "debit your account through the Bulk Electronic Clearing System (BECS) for any "
        "amounts {business} bills you."),
    "bacs_debit": _(
        "By confirming, you authorise {business} to debit your account by Bacs Direct "
        "Debit. Your payments are protected by the Direct Debit Guarantee; you will be "
        "told the amount and date of each payment in advance."),
    "acss_debit": _(
        "By confirming, you authorise {business} to debit your account for the amounts "
        "{business} bills you, under a pre-authorized debit agreement. You may cancel "
        "this authorization at any time by contacting {business}."),
    "us_bank_account": _(
        "By confirming, you authorize {business} to debit your account for any amount "
        "owed for charges arising from your use of {business}'s services, until this "
        "authorization is revoked. You may revoke it at any time by contacting {business}."),
    "nz_bank_account": _(
        "By confirming, you authorise {business} to debit your account, under a direct "
        "debit authority, for the amounts {business} bills you."),
}


@dataclass
class TypeForm:
    """The add form of one type."""

    type: str
    fields: list[FieldView]
    mandate: str  # "" when the type needs none
    redirect: bool  # no fields: the customer authorizes on the next page
    submit_label: str
    note: str  # redirect types: where the customer goes next


def type_form(kind: str, *, business: str, locale: str) -> TypeForm:
    """The form of ``kind`` in ``locale``, empty. Raises KeyError for an unknown type."""
    specs = FORMS[kind]
    fields = [FieldView(key=s.key, label=i18n.gettext(locale, s.label),
                        placeholder=i18n.gettext(locale, s.placeholder) if s.placeholder
                        else "", autocomplete=s.autocomplete, input_mode=s.input_mode,
                        max_length=s.max_length, half=s.half) for s in specs]
    mandate = MANDATES.get(kind)
    name = i18n.gettext(locale, TYPE_NAMES.get(kind, kind))
    return TypeForm(
        type=kind, fields=fields,
        mandate=i18n.gettext(locale, mandate, business=business) if mandate else "",
        redirect=not specs,
        submit_label=(i18n.gettext(locale, _("Continue with {name}"), name=name)
                      if not specs else i18n.gettext(locale, _("Accept and save"))
                      if mandate else i18n.gettext(locale, _("Save card"))),
        note=i18n.gettext(locale, _("You'll be taken to {name} to authorize it, then back "
                                    "here."), name=name) if not specs else "")


def _digits(raw: str) -> str:
    return re.sub(r"\D", "", raw)


def format_expiry(raw: str) -> str:
    """``1228`` as the customer types it: ``12 / 28`` (a lone ``4`` becomes ``04 / ``)."""
    digits = _digits(raw)[:4]
    if len(digits) == 1 and digits > "1":
        digits = "0" + digits
    if len(digits) < 2:
        return digits
    # "12/" gets its separator; "12 /" is the separator being deleted.
    if len(digits) == 2 and raw.endswith("/") and not raw.endswith(" /"):
        return digits + " / "
    return f"{digits[:2]} / {digits[2:]}" if len(digits) > 2 else digits


# The fields the billing door formats as they are typed (card number groups, IBAN
# groups, sort code 12-34-56, BSB 123-456); other numeric fields keep digits only.
FORMATTED = {("card", "number"), ("sepa_debit", "iban"), ("bacs_debit", "sort_code"),
             ("au_becs_debit", "bsb_number")}


def format_field(kind: str, key: str, raw: str) -> str:
    """What a field shows as the customer types ``raw`` into it."""
    spec = next((s for s in FORMS.get(kind, ()) if s.key == key), None)
    if spec is None:
        return ""
    raw = raw[: spec.max_length + 8]
    if key == "expiry":
        return format_expiry(raw)
    if (kind, key) in FORMATTED:
        return format_payment_method_field(kind, key, raw)[: spec.max_length]
    if spec.input_mode == "numeric":
        return _digits(raw)[: spec.max_length]
    return raw[: spec.max_length]


def payment_method_data(kind: str, values: Mapping[str, str], *, email: str
                        ) -> dict[str, Any]:
    """Stripe's ``payment_method_data`` from the form's values (``{"number": "4242 4242
    …"}``). Raises InvalidRequest naming the parameter of an unreadable expiry date."""
    data: dict[str, Any] = {"type": kind}
    sub: dict[str, Any] = {}
    billing_details: dict[str, Any] = {"email": email} if email else {}
    for spec in FORMS[kind]:
        value = (values.get(spec.key) or "").strip()
        if spec.key == "expiry":
            digits = _digits(value)
            if len(digits) != 4:
                raise InvalidRequest("Your card's expiration month is invalid.",
                                     param="card[exp_month]", code="invalid_expiry_month")
            sub["exp_month"], sub["exp_year"] = int(digits[:2]), 2000 + int(digits[2:])
            continue
        if not value:
            continue
        clean = value if spec.key == "name" else re.sub(r"[\s-]", "", value)
        for param in spec.params:
            head, _bracket, rest = param.partition("[")
            if head == "billing_details":
                billing_details[rest.rstrip("]")] = clean
            else:
                sub[rest.rstrip("]")] = clean
    if kind == "us_bank_account":
        sub.setdefault("account_holder_type", "individual")
        sub.setdefault("account_type", "checking")
    data[kind] = sub
    if billing_details:
        data["billing_details"] = billing_details
    return data


# The provider's error codes as a field's message.
FIELD_MESSAGES: dict[str, str] = {
    "parameter_missing": _("This field is required."),
    "incorrect_number": _("Your card number is incorrect."),
    "invalid_number": _("Your card number is invalid."),
    "invalid_expiry_month": _("Your card's expiry date is invalid."),
    "invalid_expiry_year": _("Your card's expiry date is invalid."),
    "invalid_cvc": _("Your card's security code is invalid."),
    "incorrect_cvc": _("Your card's security code is incorrect."),
    "expired_card": _("Your card has expired."),
    "invalid_bank_account_iban": _("This IBAN is invalid."),
    "routing_number_invalid": _("This routing number is invalid."),
}
FIELD_INVALID = _("This value is invalid.")


def field_of(kind: str, param: str | None) -> str | None:
    """The form field a provider's ``param`` concerns (``sepa_debit[iban]`` → ``iban``)."""
    if not param:
        return None
    bare = param.removeprefix("payment_method_data[").replace("][", "[", 1) \
        if param.startswith("payment_method_data[") else param
    # A card error may name its field alone (``number``), as Stripe's card errors do.
    candidates = (bare, f"{kind}[{bare}]") if "[" not in bare else (bare,)
    for spec in FORMS.get(kind, ()):
        if any(c in spec.params for c in candidates):
            return spec.key
    return None


def field_error(kind: str, error: BillingError, *, locale: str) -> tuple[str, str] | None:
    """``(field key, message)`` when ``error`` concerns one of the form's fields."""
    key = field_of(kind, error.param)
    if key is None:
        return None
    message = FIELD_MESSAGES.get(error.code or "", FIELD_INVALID)
    return key, i18n.gettext(locale, message)


def form_error(error: BillingError, *, locale: str) -> str:
    """An error not tied to one field (a decline, a refusal), as one sentence."""
    return payment_method_actions.error_message(error, locale=locale)


def mandate_acceptance(*, user_agent: str, ip_address: str | None) -> dict[str, Any]:
    """Stripe's ``mandate_data[customer_acceptance]`` for a mandate accepted on this page."""
    online: dict[str, Any] = {"user_agent": user_agent or "unknown"}
    if ip_address:
        online["ip_address"] = ip_address
    return {"type": "online", "online": online}
