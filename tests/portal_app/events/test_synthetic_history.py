"""The synthetic history lands in the account's store, on the account's own objects, once."""

from __future__ import annotations

import polars as pl
import pytest

from analytics.events import scan_events
from analytics.ingest import flow_frame, subscription_frame
from portal_app.billing.providers import billing_provider
from portal_app.errors import InvalidRequest
from portal_app.events.synthetic_history import has_synthetic_history, import_synthetic_history
from portal_app.portal import configurations
from portal_app.retention import experiments, offers
from portal_app.settings import get_settings


def test_history_uses_the_accounts_objects_and_imports_once(account_id: str, make_uow,
                                                            clock) -> None:
    config = configurations.create_configuration({"features": {}}, account_id=account_id,
                                                 uow=make_uow()).id
    products = [billing_provider(account_id, uow=make_uow()).create_product(name=n)["id"]
                for n in ("Starter", "Growth", "Scale")]
    assert not has_synthetic_history(account_id, uow=make_uow())

    first = import_synthetic_history(account_id, uow_factory=make_uow, now=clock(),
                                     n_events=1_500, seed=4)

    assert first.inserted > 1_000 and first.skipped == 0
    assert has_synthetic_history(account_id, uow=make_uow())
    raw = scan_events(get_settings().database_url, account_id=account_id)
    subscriptions, flows = pl.collect_all([subscription_frame(raw), flow_frame(raw)])
    assert subscriptions["created"].max() <= clock()
    assert set(subscriptions["product"].unique()) <= set(products)
    assert set(flows["configuration"].drop_nulls().unique()) == {config}
    created_offers = {o.id: o for o in offers.list_offers(account_id=account_id, uow=make_uow())}
    assert set(flows["offer"].drop_nulls().unique()) <= set(created_offers)
    (experiment,) = experiments.list_experiments(account_id=account_id, uow=make_uow())
    assert set(flows["experiment"].drop_nulls().unique()) == {experiment.id}
    assert str(experiment.status) == "stopped"

    again = import_synthetic_history(account_id, uow_factory=make_uow, now=clock(),
                                     n_events=1_500, seed=4)
    assert again.inserted == 0 and again.skipped == first.inserted
    assert len(offers.list_offers(account_id=account_id, uow=make_uow())) == 2
    assert len(experiments.list_experiments(account_id=account_id, uow=make_uow())) == 1


def test_an_account_without_configuration_is_refused(account_id: str, make_uow, clock) -> None:
    with pytest.raises(InvalidRequest, match="configuration"):
        import_synthetic_history(account_id, uow_factory=make_uow, now=clock(), n_events=200)
