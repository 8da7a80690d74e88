"""Every path Portico serves, in one place: Reflex pages and plain HTTP routes.

Pages, States, components and HTTP handlers import their paths from here, so a
path is spelled once and a newcomer finds every route in one list.
"""

from __future__ import annotations

# --- the customer portal ------------------------------------------------------------------
PORTAL_LINK = "/p/{token}"  # the session link (plain HTTP): binds the browser, redirects
PORTAL = "/portal"  # the portal page (Reflex)
PORTAL_DONE = "/portal/done"  # the hosted confirmation after a deep-linked flow (Reflex)
# Payment methods (Reflex): the list (also where authorization pages return, with
# ?setup_intent=...&redirect_status=...) and the add form.
PORTAL_PAYMENT_METHODS = "/portal/payment-methods"
PORTAL_PAYMENT_METHODS_ADD = "/portal/payment-methods/add"

PORTAL_INVOICES = "/portal/invoices"  # the invoice history, paged (Reflex)
# Pay an open invoice now (Reflex; also where its 3-D Secure test page returns).
PORTAL_INVOICE_PAY = "/portal/invoices/[invoice]/pay"
PORTAL_DETAILS = "/portal/details"  # billing details and tax IDs (Reflex)

# --- invoice documents (plain HTTP; unguessable: see portal_app.invoice_documents.links) --
INVOICE_PAGE = "/invoices/{account}/{invoice}/{mac}"  # hosted_invoice_url
INVOICE_PDF = "/invoices/{account}/{invoice}/{mac}/pdf"  # invoice_pdf

# --- the test-mode authorization page (plain HTTP; redirect types, 3-D Secure) ------------
TEST_AUTHORIZATION = "/test/authorize/{account}/{token}"  # next_action.redirect_to_url.url
MANDATE_PAGE = "/mandates/{account}/{mandate}/{mac}"  # a mandate's url (unguessable)

# --- the merchant console (Reflex pages) ----------------------------------------------------
CONSOLE = "/console"
CONSOLE_CONFIGURATIONS = "/console/configurations"
CONSOLE_OFFERS = "/console/offers"
CONSOLE_EXPERIMENTS = "/console/experiments"
CONSOLE_EXPERIMENT = "/console/experiments/view"  # ?id=exp_...
CONSOLE_DASHBOARD = "/console/dashboard"
CONSOLE_EVENTS = "/console/events"
CONSOLE_WEBHOOKS = "/console/webhooks"  # the endpoints and the add dialog
CONSOLE_WEBHOOK = "/console/webhooks/[endpoint]"  # one endpoint and its deliveries log

# --- the HTTP API (plain HTTP; its endpoints are in portal_app.api's registries) -----------
API_OPENAPI = "/v1/openapi.json"  # the OpenAPI 3.1 document of the API, served without a key

# --- inbound webhooks from a Stripe-backed account's Stripe (plain HTTP; Stripe-signed) -----
STRIPE_WEBHOOKS = "/webhooks/stripe/{account}"  # {account}: the Portico account id (acct_…)

# --- console sign-in (plain HTTP) -----------------------------------------------------------
CONSOLE_LOGIN = "/console/login"
CONSOLE_LOGOUT = "/console/logout"


def portal_link(token: str) -> str:
    """The path of a portal session link."""
    return PORTAL_LINK.format(token=token)


def invoice_page(account: str, invoice: str, mac: str) -> str:
    """The path of an invoice's hosted page."""
    return INVOICE_PAGE.format(account=account, invoice=invoice, mac=mac)


def invoice_pdf(account: str, invoice: str, mac: str) -> str:
    """The path of an invoice's PDF."""
    return INVOICE_PDF.format(account=account, invoice=invoice, mac=mac)


def authorization_page(account: str, token: str) -> str:
    """The path of a test authorization page (its token is one-time and unguessable)."""
    return TEST_AUTHORIZATION.format(account=account, token=token)


def portal_invoice_pay(invoice: str) -> str:
    """The path of the portal page that pays ``invoice`` now."""
    return PORTAL_INVOICE_PAY.replace("[invoice]", invoice)


def mandate_page(account: str, mandate: str, mac: str) -> str:
    """The path of a mandate's hosted page (``payment_method_details.<type>.url``)."""
    return MANDATE_PAGE.format(account=account, mandate=mandate, mac=mac)


def console_webhook(endpoint: str) -> str:
    """The path of one webhook endpoint's console page."""
    return CONSOLE_WEBHOOK.replace("[endpoint]", endpoint)


def stripe_webhooks(account: str) -> str:
    """The path where ``account``'s Stripe account delivers its webhooks."""
    return STRIPE_WEBHOOKS.format(account=account)
