"""Refusals and declines in the customer's words."""

from __future__ import annotations

from portal_app.errors import CardDeclined, InvalidRequest
from portal_app.portal import refusals


def test_card_errors_read_as_the_card_error() -> None:
    assert refusals.error_message(CardDeclined("x", decline_code="insufficient_funds"),
                                  locale="en") == "Your card has insufficient funds."
    assert refusals.error_message(InvalidRequest("x", code="whatever"), locale="en") == \
        "Something went wrong. Please try again."
