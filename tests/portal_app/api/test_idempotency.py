"""Idempotency records: replays stay identical, nothing secret is stored, keys expire and go."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import stripe
from sqlmodel import col, select

from portal_app.accounts import services as accounts
from portal_app.api import idempotency
from portal_app.api.idempotency import KEY_TTL, PRUNE_ON_WRITE, SealingKey, StoredResponse
from portal_app.api.models import IdempotencyRecord
from portal_app.cli import main
from portal_app.clock import FrozenClock, utc_now
from portal_app.db import UnitOfWork, get_engine
from tests.portal_app.stored_secrets import stored_occurrences

MakeUow = Callable[[], UnitOfWork]


def records_of(make_uow: MakeUow, account_id: str) -> list[IdempotencyRecord]:
    with make_uow() as uow:
        return list(uow.session.exec(select(IdempotencyRecord).where(
            IdempotencyRecord.account_id == account_id)).all())


def test_a_portal_session_replays_identically_and_its_token_is_stored_nowhere(
        client: stripe.StripeClient, make_uow: MakeUow, account_id: str) -> None:
    customer = client.v1.customers.create({"email": "token@example.com"})
    key = str(uuid.uuid4())  # what the SDK sends by itself

    first = client.v1.billing_portal.sessions.create({"customer": customer.id},
                                                     {"idempotency_key": key})
    again = client.v1.billing_portal.sessions.create({"customer": customer.id},
                                                     {"idempotency_key": key})

    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.body == first.last_response.body  # byte for byte, url included
    token = first.url.rsplit("/", 1)[1]
    assert len(token) >= 43 and "/p/" in first.url
    # Neither the token, nor the link, nor the key that would unseal the response.
    assert stored_occurrences(make_uow, [token, first.url, key]) == []
    assert stored_occurrences(make_uow, ["token@example.com"])  # the search does see rows
    digest = SealingKey.derive(key, account_id=account_id).digest
    [record] = [r for r in records_of(make_uow, account_id) if r.key_digest == digest]
    assert token.encode() not in record.sealed


def test_a_record_opens_only_with_its_own_key_and_account() -> None:
    response = StoredResponse(status_code=200, body='{"url": "https://x.test/p/secret"}')
    sealing = SealingKey.derive("key-1", account_id="acct_A")
    sealed = sealing.seal("fp", response)

    assert sealing.open(sealed) == ("fp", response)
    assert SealingKey.derive("key-2", account_id="acct_A").open(sealed) is None
    assert SealingKey.derive("key-1", account_id="acct_B").open(sealed) is None
    assert SealingKey.derive("key-1", account_id="acct_B").digest != sealing.digest
    assert sealing.seal("fp", response) != sealed  # a fresh nonce every time


def test_a_key_older_than_24_hours_is_a_new_request(client: stripe.StripeClient,
                                                    clock: FrozenClock) -> None:
    options = {"idempotency_key": "nightly-sync-1"}
    first = client.v1.customers.create({"email": "day@example.com"}, options)

    clock.set(clock() + KEY_TTL - timedelta(seconds=1))
    replayed = client.v1.customers.create({"email": "day@example.com"}, options)
    clock.set(clock() + timedelta(seconds=2))
    fresh = client.v1.customers.create({"email": "day@example.com"}, options)

    assert replayed.id == first.id
    assert replayed.last_response.headers["Idempotent-Replayed"] == "true"
    assert fresh.id != first.id
    assert "Idempotent-Replayed" not in fresh.last_response.headers
    # ... and the new request is what the key replays from now on.
    again = client.v1.customers.create({"email": "day@example.com"}, options)
    assert again.id == fresh.id


def stage_records(make_uow: MakeUow, account_id: str, count: int, *, prefix: str) -> None:
    uow = make_uow()
    with uow:
        for i in range(count):
            idempotency.store_response(f"{prefix}-{i}", "fp", status_code=200, body="{}",
                                       account_id=account_id, uow=uow)
        uow.commit()


def expired_count(make_uow: MakeUow, clock: FrozenClock) -> int:
    with make_uow() as uow:
        return len(uow.session.exec(select(IdempotencyRecord.id).where(
            col(IdempotencyRecord.created) < clock() - KEY_TTL)).all())


def test_every_stored_response_prunes_a_bounded_batch_of_expired_records(
        make_uow: MakeUow, account_id: str, clock: FrozenClock) -> None:
    stage_records(make_uow, account_id, PRUNE_ON_WRITE + 5, prefix="old")
    clock.set(clock() + KEY_TTL + timedelta(minutes=1))
    before = expired_count(make_uow, clock)
    assert before >= PRUNE_ON_WRITE + 5

    stage_records(make_uow, account_id, 1, prefix="new")

    # Oldest first, of any account (other tests' records expired too): exactly one batch.
    assert expired_count(make_uow, clock) == before - PRUNE_ON_WRITE
    new = SealingKey.derive("new-0", account_id=account_id).digest
    assert [r.key_digest for r in records_of(make_uow, account_id)].count(new) == 1


def test_the_cli_prunes_every_expired_record_and_keeps_live_ones(
        tmp_path: Path, clock: FrozenClock, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'prune.db'}"
    assert main(["--database-url", url, "migrate"]) == 0
    engine = get_engine(url)
    account = accounts.create_account(business_name="Prune", email="p@example.com",
                                      uow=UnitOfWork(engine)).id
    # The CLI runs on the real clock: records made on the frozen one (January 2026) are
    # long expired; one made now is live.
    stage_records(lambda: UnitOfWork(engine, clock=utc_now), account, 1, prefix="live")
    stage_records(lambda: UnitOfWork(engine, clock=clock), account, 7, prefix="old")

    assert main(["--database-url", url, "prune-idempotency-keys", "--batch-size", "2"]) == 0

    assert "Pruned 7 expired idempotency record(s)" in capsys.readouterr().out
    assert len(records_of(lambda: UnitOfWork(engine), account)) == 1
