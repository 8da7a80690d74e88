"""Lists page like Stripe's: newest first, ``starting_after``/``ending_before``, ``has_more``."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe

from portal_app.clock import FrozenClock


@pytest.fixture
def five(client: stripe.StripeClient, clock: FrozenClock) -> list[str]:
    """Five customers created a second apart, newest first."""
    ids = []
    for i in range(5):
        clock.set(clock() + timedelta(seconds=1))
        ids.append(client.v1.customers.create({"name": f"c{i}"}).id)
    return ids[::-1]


def test_pages_forward_and_back(client: stripe.StripeClient, five: list[str]) -> None:
    first = client.v1.customers.list({"limit": 2})
    assert [c.id for c in first.data] == five[:2] and first.has_more is True
    second = client.v1.customers.list({"limit": 2, "starting_after": first.data[-1].id})
    assert [c.id for c in second.data] == five[2:4] and second.has_more is True
    third = client.v1.customers.list({"limit": 2, "starting_after": second.data[-1].id})
    assert [c.id for c in third.data] == five[4:] and third.has_more is False
    back = client.v1.customers.list({"limit": 2, "ending_before": third.data[0].id})
    assert [c.id for c in back.data] == five[2:4] and back.has_more is True
    start = client.v1.customers.list({"limit": 2, "ending_before": five[2]})
    assert [c.id for c in start.data] == five[:2] and start.has_more is False
    assert [c.id for c in client.v1.customers.list().data] == five  # default limit 10


def test_auto_paging_iter_walks_everything(client: stripe.StripeClient,
                                           five: list[str]) -> None:
    page = client.v1.customers.list({"limit": 2})
    assert [c.id for c in page.auto_paging_iter()] == five


def test_same_timestamp_ties_break_by_id(client: stripe.StripeClient) -> None:
    ids = [client.v1.products.create({"name": f"p{i}"}).id for i in range(4)]  # one instant
    walked = [p.id for p in client.v1.products.list({"limit": 1}).auto_paging_iter()]
    assert walked == sorted(ids, reverse=True)


def test_limit_and_cursor_errors(client: stripe.StripeClient, five: list[str]) -> None:
    with pytest.raises(stripe.InvalidRequestError) as too_many:
        client.v1.customers.list({"limit": 101})
    assert too_many.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as zero:
        client.v1.customers.list({"limit": 0})
    assert zero.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as word:
        client.v1.customers.list({"limit": "ten"})  # type: ignore[typeddict-item]
    assert word.value.param == "limit" and "Invalid integer" in str(word.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as cursor:
        client.v1.customers.list({"starting_after": "cus_unknown"})
    assert cursor.value.http_status == 404 and cursor.value.param == "starting_after"
    with pytest.raises(stripe.InvalidRequestError) as both:
        client.v1.customers.list({"starting_after": five[0], "ending_before": five[1]})
    assert both.value.http_status == 400
