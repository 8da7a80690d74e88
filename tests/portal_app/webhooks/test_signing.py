"""Signing secrets: sealed at rest, and signatures ``stripe.Webhook.construct_event`` accepts."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import stripe

from portal_app.webhooks.signing import (
    SealedSecretError,
    new_secret,
    open_secret,
    seal_secret,
    signature_header,
)

PAYLOAD = json.dumps({"id": "evt_123", "object": "event", "type": "customer.created",
                      "data": {"object": {"id": "cus_1", "object": "customer"}}})


def test_a_signed_payload_is_accepted_by_the_stripe_sdk() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(secret) > 40
    header = signature_header(PAYLOAD, secret, timestamp=int(time.time()))
    event = stripe.Webhook.construct_event(PAYLOAD, header, secret)
    assert event.id == "evt_123" and event.type == "customer.created"


@pytest.mark.parametrize("tamper", ["payload", "secret", "timestamp", "old"])
def test_a_tampered_or_stale_payload_is_refused(tamper: str) -> None:
    secret, now = new_secret(), int(time.time())
    header = signature_header(PAYLOAD, secret, timestamp=now - 3600 if tamper == "old" else now)
    payload = PAYLOAD.replace("cus_1", "cus_2") if tamper == "payload" else PAYLOAD
    if tamper == "timestamp":
        header = header.replace(f"t={now}", f"t={now + 1}")
    key = new_secret() if tamper == "secret" else secret
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, header, key, tolerance=300)


def test_the_header_is_stripes_format() -> None:
    header = signature_header("{}", "whsec_x", timestamp=1700000000)
    expected = hmac.new(b"whsec_x", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_a_secret_is_sealed_and_opens_only_for_its_endpoint() -> None:
    secret = new_secret()
    sealed = seal_secret(secret, endpoint_id="we_A")
    assert secret.encode() not in sealed and secret[6:].encode() not in sealed
    assert open_secret(sealed, endpoint_id="we_A") == secret
    assert seal_secret(secret, endpoint_id="we_A") != sealed  # a fresh nonce each time
    with pytest.raises(SealedSecretError):
        open_secret(sealed, endpoint_id="we_B")
    with pytest.raises(SealedSecretError):
        open_secret(sealed[:-1] + bytes([sealed[-1] ^ 1]), endpoint_id="we_A")
