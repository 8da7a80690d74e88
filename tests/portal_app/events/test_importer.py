"""Importing Stripe event exports: deduplication, batching, bad lines, the CLI, analytics."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics.events import scan_events
from analytics.ingest import flow_frame, subscription_frame
from analytics.synthetic import generate, to_stripe_events
from portal_app.accounts import services as accounts
from portal_app.cli import main
from portal_app.db import UnitOfWork, get_engine
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.events import store
from portal_app.events.importer import import_events
from portal_app.settings import get_settings


def _lines(events: list[dict]) -> list[str]:
    return [json.dumps(event) for event in events]


def _event(n: int, tag: str, *, customer: str = "cus_1") -> dict:
    # event ids are unique across accounts: each test tags its own
    return {
        "id": f"evt_{tag}_{n:04d}",
        "object": "event",
        "type": "customer.updated",
        "created": 1767225600 + n,
        "request": {"id": f"req_{n}", "idempotency_key": None},
        "data": {
            "object": {"id": customer, "object": "customer"},
            "previous_attributes": {"email": "old@example.com"},
        },
    }


def test_imports_events_in_batches_and_skips_ones_already_stored(account_id, make_uow) -> None:
    lines = _lines([_event(n, account_id[-8:]) for n in range(5)])
    result = import_events(lines, account_id=account_id, uow_factory=make_uow, batch_size=2)
    assert (result.inserted, result.skipped) == (5, 0)

    again = import_events(
        [*lines, lines[0], json.dumps(_event(5, account_id[-8:]))],
        account_id=account_id,
        uow_factory=make_uow,
        batch_size=2,
    )
    assert (again.inserted, again.skipped) == (1, 6)
    assert store.count_events(account_id, uow=make_uow()) == 6
    stored = store.retrieve_event(
        f"evt_{account_id[-8:]}_0003", account_id=account_id, uow=make_uow()
    )
    assert stored["created"] == 1767225603
    assert stored["data"]["previous_attributes"] == {"email": "old@example.com"}
    assert stored["request"]["id"] == "req_3"
    page = store.list_events(account_id, uow=make_uow(), customer="cus_1")
    assert len(page.events) == 6


def test_an_event_id_of_another_account_is_not_imported_twice(account_id, make_uow) -> None:
    other = accounts.create_account(business_name="Other", email="o@example.com", uow=make_uow()).id
    import_events(_lines([_event(1, account_id[-8:])]), account_id=other, uow_factory=make_uow)
    result = import_events(
        _lines([_event(1, account_id[-8:])]), account_id=account_id, uow_factory=make_uow
    )
    assert (result.inserted, result.skipped) == (0, 1)
    assert store.count_events(account_id, uow=make_uow()) == 0


def test_a_bad_line_names_its_number_and_earlier_batches_stay(account_id, make_uow) -> None:
    lines = [
        *_lines([_event(1, account_id[-8:]), _event(2, account_id[-8:])]),
        "",
        '{"id": "evt_x", "type": "a"}',
    ]
    with pytest.raises(InvalidRequest, match="Line 4"):
        import_events(lines, account_id=account_id, uow_factory=make_uow, batch_size=2)
    assert store.count_events(account_id, uow=make_uow()) == 2
    with pytest.raises(ResourceMissing):
        import_events(lines, account_id="acct_missing", uow_factory=make_uow)


def test_imported_synthetic_history_reads_back_as_the_same_frames(account_id, make_uow) -> None:
    history = generate(n_events=600, seed=5)
    import_events(_lines(to_stripe_events(history)), account_id=account_id, uow_factory=make_uow)
    raw = scan_events(get_settings().database_url, account_id=account_id)
    subscriptions = subscription_frame(raw).collect()
    flows = flow_frame(raw).collect()
    expected = history.subscriptions.with_columns(pl.lit(account_id).alias("account"))
    # the flow behind a cancellation survives the round trip in the event's origin
    assert_frame_equal(subscriptions.drop("seq"), expected.drop("seq"))
    assert subscriptions["variant"].drop_nulls().len() > 0
    assert_frame_equal(
        flows.drop("seq"),
        history.flows.drop("seq").with_columns(pl.lit(account_id).alias("account")),
    )


def test_cli_import_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'import.db'}"
    assert main(["--database-url", url, "migrate"]) == 0
    account = accounts.create_account(
        business_name="Acme", email="a@example.com", uow=UnitOfWork(get_engine(url))
    ).id
    export = tmp_path / "events.jsonl"
    export.write_text("\n".join(_lines([_event(n, account[-8:]) for n in range(3)])) + "\n")
    capsys.readouterr()
    assert main(["--database-url", url, "import-events", str(export), "--account", account]) == 0
    assert "3 new event(s), 0 already stored" in capsys.readouterr().out
    assert main(["--database-url", url, "import-events", str(export), "--account", account]) == 0
    assert "0 new event(s), 3 already stored" in capsys.readouterr().out
    # without --account the demo account is used; there is none here
    assert main(["--database-url", url, "import-events", str(export)]) == 1
    assert "portico seed" in capsys.readouterr().err
