"""One webhook POST against a real loopback receiver: signed, capped, timed, never redirected."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from portal_app.webhooks.models import RESPONSE_EXCERPT_LIMIT
from portal_app.webhooks.sender import (
    ERROR_REDIRECT,
    ERROR_REFUSED,
    ERROR_TIMEOUT,
    USER_AGENT,
    Outcome,
    Sender,
)
from portal_app.webhooks.signing import new_secret, signature_header
from tests import fresh_loop
from tests.portal_app.webhooks.receiver import Receiver, Reply, closed_port

PAYLOAD = json.dumps({"id": "evt_sender_test", "object": "event", "type": "customer.created",
                      "data": {"object": {"id": "cus_1", "object": "customer"}}})


def post(url: str, *, secret: str, address: str = "127.0.0.1", timeout: float = 10.0,
         payload: str = PAYLOAD, times: int = 1) -> list[Outcome]:
    async def run() -> list[Outcome]:
        async with Sender(timeout=timeout) as sender:
            return [await sender.post(
                url, address=address, payload=payload.encode(),
                signature=signature_header(payload, secret, timestamp=int(time.time())))
                for _ in range(times)]
    return fresh_loop.run(run())


def test_a_delivery_is_signed_as_stripe_verifies_it_and_sent_as_json() -> None:
    secret = new_secret()
    with Receiver(secret) as receiver:
        [outcome] = post(receiver.url, secret=secret)
    assert outcome.succeeded and outcome.http_status == 200 and outcome.error is None
    assert outcome.response_excerpt == '{"received": true}'
    [seen] = receiver.received
    assert seen.event is not None and seen.event["id"] == "evt_sender_test"
    assert seen.body == PAYLOAD.encode()
    assert seen.headers["Content-Type"] == "application/json; charset=utf-8"
    assert seen.headers["User-Agent"] == USER_AGENT and "Stripe" in USER_AGENT
    assert seen.headers["Stripe-Signature"].startswith("t=")


def test_a_signature_under_another_secret_is_refused_by_the_receiver() -> None:
    with Receiver(new_secret()) as receiver:
        post(receiver.url, secret=new_secret())
    [seen] = receiver.received
    assert seen.event is None  # construct_event raised SignatureVerificationError


def test_the_connection_goes_to_the_checked_address_with_the_urls_host_name() -> None:
    # DNS rebinding: whatever the name resolves to now, the POST goes to the address that
    # was checked, and the receiver still sees its own host name.
    secret = new_secret()
    with Receiver(secret) as receiver:
        [outcome] = post(f"http://hooks.merchant.invalid:{receiver.port}/webhooks",
                         secret=secret, address="127.0.0.1")
    assert outcome.succeeded
    [seen] = receiver.received
    assert seen.headers["Host"] == f"hooks.merchant.invalid:{receiver.port}"


def test_connections_are_kept_alive_across_deliveries() -> None:
    secret = new_secret()
    with Receiver(secret) as receiver:
        outcomes = post(receiver.url, secret=secret, times=20)
    assert all(o.succeeded for o in outcomes)
    assert len(receiver.received) == 20 and receiver.connections == 1


def test_a_redirect_is_a_failed_attempt_and_is_not_followed() -> None:
    secret = new_secret()
    with Receiver(secret) as target, Receiver(secret) as receiver:
        receiver.replies.append(Reply(status=302, body=b"", headers=(
            ("Location", target.url),)))
        [outcome] = post(receiver.url, secret=secret)
    assert not outcome.succeeded
    assert (outcome.http_status, outcome.error) == (302, ERROR_REDIRECT)
    assert target.received == []


def test_a_non_2xx_answer_is_a_failure_with_its_status_and_excerpt() -> None:
    secret = new_secret()
    with Receiver(secret, default=Reply(status=500, body=b"database down")) as receiver:
        [outcome] = post(receiver.url, secret=secret)
    assert not outcome.succeeded
    assert (outcome.http_status, outcome.error, outcome.response_excerpt) == (
        500, None, "database down")


def test_the_response_body_is_read_only_up_to_the_cap() -> None:
    secret = new_secret()
    big = b"x" * (4 * 1024 * 1024)
    with Receiver(secret, default=Reply(body=big)) as receiver:
        first, second = post(receiver.url, secret=secret, times=2)
    assert first.succeeded and second.succeeded
    assert first.response_excerpt == "x" * RESPONSE_EXCERPT_LIMIT
    # The unread rest was not drained: that connection was dropped, not reused.
    assert receiver.connections == 2


def test_an_answer_slower_than_the_timeout_is_a_timeout() -> None:
    secret = new_secret()
    with Receiver(secret, default=Reply(delay=1.5)) as receiver:
        started = time.monotonic()
        [outcome] = post(receiver.url, secret=secret, timeout=0.3)
        elapsed = time.monotonic() - started
    assert not outcome.succeeded
    assert (outcome.http_status, outcome.error) == (None, ERROR_TIMEOUT)
    assert 250 <= outcome.latency_ms < 1000 and elapsed < 1.2
    assert len(receiver.received) == 1


def test_a_closed_port_is_connection_refused() -> None:
    [outcome] = post(f"http://127.0.0.1:{closed_port()}/webhooks", secret=new_secret())
    assert not outcome.succeeded
    assert (outcome.http_status, outcome.error) == (None, ERROR_REFUSED)


def raw_exchange(*answers: bytes, close_after: bool = False, posts: int = 1) -> tuple[
        list[Outcome], int]:
    """POST ``posts`` times to a raw TCP server that answers each request with the next of
    ``answers`` verbatim; the outcomes and how many connections were opened."""
    async def run() -> tuple[list[Outcome], int]:
        replies = list(answers)
        connections = 0

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            try:
                while replies:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                      if line.lower().startswith(b"content-length")))
                    await reader.readexactly(length)
                    writer.write(replies.pop(0))
                    await writer.drain()
                    if close_after:
                        break
            except (asyncio.IncompleteReadError, ConnectionResetError):
                pass
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        secret = new_secret()
        outcomes = []
        async with Sender(timeout=2.0) as sender:
            for _ in range(posts):
                outcomes.append(await sender.post(
                    f"http://127.0.0.1:{port}/hook", address="127.0.0.1",
                    payload=PAYLOAD.encode(),
                    signature=signature_header(PAYLOAD, secret, timestamp=int(time.time()))))
        server.close()
        await server.wait_closed()
        return outcomes, connections
    return fresh_loop.run(run())


def test_chunked_and_interim_responses_are_read_and_the_connection_reused() -> None:
    chunked = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")
    outcomes, connections = raw_exchange(chunked, b"HTTP/1.1 201 Created\r\n"
                                         b"Content-Length: 2\r\n\r\nok", posts=2)
    assert [(o.http_status, o.response_excerpt) for o in outcomes] == [
        (200, "hello world"), (201, "ok")]
    assert connections == 1


def test_a_response_ended_by_closing_the_connection_is_read_to_the_close() -> None:
    outcomes, connections = raw_exchange(
        b"HTTP/1.0 202 Accepted\r\n\r\nqueued", b"HTTP/1.1 204 No Content\r\n\r\n",
        close_after=True, posts=2)
    assert [(o.http_status, o.response_excerpt, o.succeeded) for o in outcomes] == [
        (202, "queued", True), (204, "", True)]
    assert connections == 2


def test_a_kept_alive_connection_the_server_closed_is_replaced_once() -> None:
    # The server answers one request per connection but says nothing about closing.
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    outcomes, connections = raw_exchange(ok, ok, close_after=True, posts=2)
    assert [o.succeeded for o in outcomes] == [True, True]
    assert connections == 2


def test_garbage_is_an_invalid_response() -> None:
    [outcome], _ = raw_exchange(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    assert outcome.http_status is None and (outcome.error or "").startswith("invalid response")


def self_signed(tmp: Path, host: str) -> tuple[Path, Path]:
    """A certificate for ``host`` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_goes_to_the_checked_address_with_sni_and_the_certificate_checked(
        tmp_path: Path) -> None:
    host = "hooks.merchant.test"
    cert, key = self_signed(tmp_path, host)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))
    secret = new_secret()

    async def run(url: str) -> Outcome:
        async with Sender(timeout=5.0, ssl_context=trusting) as sender:
            return await sender.post(url, address="127.0.0.1", payload=PAYLOAD.encode(),
                                     signature=signature_header(PAYLOAD, secret,
                                                                timestamp=int(time.time())))

    with Receiver(secret) as receiver:
        receiver.serve_tls(server_tls)
        good = fresh_loop.run(run(f"https://{host}:{receiver.port}/webhooks"))
        wrong_name = fresh_loop.run(run(f"https://other.merchant.test:{receiver.port}/webhooks"))
    assert good.succeeded
    [seen] = receiver.received
    assert seen.event is not None and seen.headers["Host"] == f"{host}:{receiver.port}"
    assert not wrong_name.succeeded
    assert (wrong_name.error or "").startswith("tls certificate rejected")
