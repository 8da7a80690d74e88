from datetime import UTC, datetime

import polars as pl
from polars.testing import assert_frame_equal

from analytics.events import event_counts, scan_events
from portal_app.billing.customers import create_customer
from portal_app.events.models import Event
from portal_app.settings import get_settings


def test_event_counts_per_month_and_type() -> None:
    frame = pl.LazyFrame(
        {
            "created": [datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=UTC),
                        datetime(2026, 2, 1, tzinfo=UTC)],
            "type": ["customer.created", "customer.created", "invoice.paid"],
        }
    )
    expected = pl.DataFrame(
        {
            "period": [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)],
            "type": ["customer.created", "invoice.paid"],
            "count": pl.Series([2, 1], dtype=pl.UInt32),
        }
    ).with_columns(pl.col("period").cast(pl.Datetime("us", "UTC")))
    assert_frame_equal(event_counts(frame).collect(), expected)


def test_scan_events_reads_the_store_of_one_account(account_id, make_uow) -> None:
    create_customer(account_id=account_id, uow=make_uow(), email="a@example.com")
    events = scan_events(get_settings().database_url, account_id=account_id).collect()
    assert events["type"].to_list() == ["customer.created"]
    assert events.schema["created"] == pl.Datetime("us", "UTC")
    assert events["created"][0] == datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    assert events["account"].unique().to_list() == [account_id]


def test_scan_events_orders_by_when_events_happened_not_when_they_arrived(
        account_id, make_uow) -> None:
    # Webhooks deliver out of order: the newer event is stored first.
    newer, older = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    with make_uow() as uow:
        for event_id, created in (("evt_newer", newer), ("evt_older", older)):
            uow.add(Event(id=f"{event_id}_{account_id}", account_id=account_id,
                          type="customer.subscription.updated", created=created,
                          object_id="sub_1", data_object={"id": "sub_1"}))
            uow.flush()
        uow.commit()
    events = scan_events(get_settings().database_url, account_id=account_id).collect()
    assert events["id"].to_list() == [f"evt_older_{account_id}", f"evt_newer_{account_id}"]
    assert events["seq"].to_list() == [0, 1]
