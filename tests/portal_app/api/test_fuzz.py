"""Schemathesis against the whole API, in-process: no 5xx, every 4xx in Stripe's envelope.

A small budget here (every operation, positive and negative cases); ``bench/fuzz.py``
runs 10,000+ cases with the same machinery (``portal_app.testing.fuzz``).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from portal_app.api.forms import parse_body
from portal_app.clock import FrozenClock
from portal_app.testing.fuzz import encode_form, fuzz

CASES_PER_OPERATION = 6

_keys = st.text(st.characters(codec="utf-8", exclude_characters="[]\x00"), min_size=1,
                max_size=8).filter(lambda k: not k.isdigit())
_leaves = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)
_values = st.recursive(_leaves, lambda inner: st.dictionaries(_keys, inner, min_size=1,
                                                              max_size=3)
                       | st.lists(inner, min_size=1, max_size=3), max_leaves=8)


@given(st.dictionaries(_keys, _values, max_size=4))
def test_the_form_encoder_speaks_the_decoders_bracket_notation(body: dict[str, Any]) -> None:
    assert parse_body(encode_form(body)) == body


@pytest.mark.fuzz
def test_generated_requests_get_no_5xx_and_stripes_envelope(database: Engine,
                                                            clock: FrozenClock) -> None:
    report = fuzz(engine=database, clock=clock, cases_per_operation=CASES_PER_OPERATION,
                  fresh_world=False)
    print(report.summary())
    assert report.operations >= 60
    assert report.cases >= report.operations * CASES_PER_OPERATION * 0.5
    assert report.statuses[200] > 0 and report.client_errors > 0  # both kinds were reached
    assert [(f.operation, f.rule, f.request, f.response) for f in report.failures] == []
