"""Unguessable links to an invoice: ``hosted_invoice_url`` and ``invoice_pdf``.

A link is ``<public URL>/invoices/<account>/<invoice>/<mac>``: the MAC is an
HMAC-SHA256 of the invoice id under a key derived (HKDF, RFC 5869, with a label of
its own) from the account's existing secret, so nothing new is stored, a link cannot be
made for another invoice or account, and the route checks it in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from portal_app.routes import invoice_page, invoice_pdf
from portal_app.settings import get_settings

LABEL = b"portico hosted invoice link v1"
MAC_BYTES = 16  # 128 bits: far past guessing


def hkdf_sha256(secret: bytes, *, info: bytes, length: int = 32, salt: bytes = b"") -> bytes:
    """RFC 5869 HKDF with SHA-256: a key for ``info`` alone, derived from ``secret``."""
    prk = hmac.new(salt or bytes(32), secret, hashlib.sha256).digest()
    okm, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
    return okm[:length]


def invoice_mac(account_secret: str, invoice_id: str) -> str:
    """The URL-safe MAC of ``invoice_id`` under the account's link key."""
    key = hkdf_sha256(account_secret.encode(), info=LABEL)
    digest = hmac.new(key, invoice_id.encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def mac_matches(account_secret: str, invoice_id: str, mac: str) -> bool:
    """Whether ``mac`` is the invoice's MAC (compared in constant time)."""
    return hmac.compare_digest(invoice_mac(account_secret, invoice_id).encode(),
                               mac.encode("utf-8", "replace"))


def hosted_invoice_url(account_id: str, account_secret: str, invoice_id: str) -> str:
    """The absolute URL of the invoice's hosted page."""
    mac = invoice_mac(account_secret, invoice_id)
    return get_settings().public_url + invoice_page(account_id, invoice_id, mac)


def invoice_pdf_url(account_id: str, account_secret: str, invoice_id: str) -> str:
    """The absolute URL of the invoice's PDF."""
    mac = invoice_mac(account_secret, invoice_id)
    return get_settings().public_url + invoice_pdf(account_id, invoice_id, mac)
